import { useCallback, useMemo, useRef, useState } from 'react';

import type { LadClient } from '../shared/api';
import type { FeedbackKind, FeedbackRecord } from '../shared/contract';
import { templateKey } from './rows';
import type { AnomalyRow } from './types';

export type FeedbackState =
  | { status: 'pending'; kind: FeedbackKind }
  | { status: 'done'; kind: FeedbackKind; record: FeedbackRecord; templateKeys: string[]; client: LadClient }
  | { status: 'undoing'; kind: FeedbackKind; record: FeedbackRecord; templateKeys: string[]; client: LadClient }
  | { status: 'error'; kind: FeedbackKind; message: string };

export interface LastAction {
  key: string;
  kind: FeedbackKind;
  excerpt: string;
}

export interface FeedbackApi {
  states: Record<string, FeedbackState>;
  /** Template keys suppressed by false-positive clicks made in this panel (near-duplicates are suppressed too). */
  suppressedKeys: Set<string>;
  lastAction: LastAction | null;
  /** Posts feedback for `example` under `key` (a row id or a group key); ignored while one is in flight. */
  send(key: string, example: AnomalyRow, kind: FeedbackKind, affected: AnomalyRow[]): Promise<void>;
  /** Deletes the feedback recorded under `key`. */
  undo(key: string): Promise<void>;
  dismissLast(): void;
}

/** Feedback clicks of one panel: optimistic-free (shown once the backend answered 201), no double submit, undo. */
export function useFeedback(clientOf: (row: AnomalyRow) => LadClient, user?: string): FeedbackApi {
  const [states, setStates] = useState<Record<string, FeedbackState>>({});
  const [lastAction, setLastAction] = useState<LastAction | null>(null);
  // A ref, not state: two clicks in the same frame must not both pass the check.
  const inFlight = useRef(new Set<string>());

  const setState = (key: string, state: FeedbackState | null) =>
    setStates((prev) => {
      const next = { ...prev };
      if (state) {
        next[key] = state;
      } else {
        delete next[key];
      }
      return next;
    });

  const send = useCallback(
    async (key: string, example: AnomalyRow, kind: FeedbackKind, affected: AnomalyRow[]) => {
      if (inFlight.current.has(key)) {
        return;
      }
      inFlight.current.add(key);
      setState(key, { status: 'pending', kind });
      // The datasource of the row's own query (several in a Mixed panel); undo goes to the same one.
      const client = clientOf(example);
      try {
        const record = await client.sendFeedback({
          message: example.line,
          kind,
          source: example.source || undefined,
          template: example.template || undefined,
          score: Number.isFinite(example.score) ? example.score : undefined,
          // A review item's line may never have been stored as an anomaly: then it has no id to send.
          anomalyId: example.id || undefined,
          user,
        });
        const templateKeys = kind === 'false_positive' ? [...new Set(affected.map(templateKey))] : [];
        setState(key, { status: 'done', kind, record, templateKeys, client });
        setLastAction({ key, kind, excerpt: example.line.slice(0, 80) });
      } catch (err) {
        setState(key, { status: 'error', kind, message: err instanceof Error ? err.message : String(err) });
      } finally {
        inFlight.current.delete(key);
      }
    },
    [clientOf, user]
  );

  const undo = useCallback(
    async (key: string) => {
      const current = states[key];
      if (!current || current.status !== 'done' || inFlight.current.has(key)) {
        return;
      }
      inFlight.current.add(key);
      setState(key, { ...current, status: 'undoing' });
      try {
        await current.client.deleteFeedback(current.record.id);
        setState(key, null);
        setLastAction((last) => (last?.key === key ? null : last));
      } catch (err) {
        setState(key, { status: 'error', kind: current.kind, message: err instanceof Error ? err.message : String(err) });
      } finally {
        inFlight.current.delete(key);
      }
    },
    [states]
  );

  const suppressedKeys = useMemo(() => {
    const keys = new Set<string>();
    for (const state of Object.values(states)) {
      if (state.status === 'done' || state.status === 'undoing') {
        state.templateKeys.forEach((k) => keys.add(k));
      }
    }
    return keys;
  }, [states]);

  const dismissLast = useCallback(() => setLastAction(null), []);

  // One object per change of state, so the memoised list rows re-render only when feedback changed.
  return useMemo(
    () => ({ states, suppressedKeys, lastAction, send, undo, dismissLast }),
    [states, suppressedKeys, lastAction, send, undo, dismissLast]
  );
}
