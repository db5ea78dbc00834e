import React, { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { LoadingPlaceholder } from '@grafana/ui';

import type { LadClient } from '../shared/api';
import type { FeedbackKind } from '../shared/contract';
import { ContextView } from './ContextView';
import { FeedbackControls } from './FeedbackControls';
import { arrowTarget } from './keyboard';
import { answerEffect, contextIdOf, feedbackExample, fetchReview, storedAnomalyOf, type ReviewRow } from './review';
import { ScoreBar } from './ScoreBar';
import type { PanelStyles } from './styles';
import type { AnomalyRow } from './types';
import type { FeedbackApi, FeedbackState } from './useFeedback';

export type ReviewLoad = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; items: ReviewRow[] };

interface Props {
  load: ReviewLoad;
  /** The panel's anomaly rows: a review line the service stored as an anomaly has its context there. */
  anomalies: readonly AnomalyRow[];
  feedback: FeedbackApi;
  clientOf: (row: AnomalyRow) => LadClient;
  contextLines: number;
  timeZone: string;
  height: number;
  styles: PanelStyles;
}

const ANSWER_LABEL: Record<FeedbackKind, string> = { confirmed: 'Anomaly', false_positive: 'Normal' };

const answered = (state: FeedbackState | undefined): boolean => state?.status === 'done' || state?.status === 'undoing';

/**
 * The open items of the queue, then the items answered here: an answered item leaves the queue (the service
 * does not offer it again) and stays listed below with what it changed and Undo; Undo puts it back.
 */
export function reviewSections(
  items: readonly ReviewRow[],
  states: FeedbackApi['states'],
  seen: ReadonlyMap<string, ReviewRow>
): { open: ReviewRow[]; done: ReviewRow[] } {
  const all = new Map(seen);
  for (const item of items) {
    all.set(item.key, item);
  }
  const open = items.filter((item) => !answered(states[item.key]));
  const done = [...all.values()].filter((item) => answered(states[item.key]));
  return { open, done };
}

/** The review queue: the lines whose answer teaches the model most, each answered "Anomaly" or "Normal". */
export function ReviewView({ load, anomalies, feedback, clientOf, contextLines, timeZone, height, styles }: Props) {
  const [expanded, setExpanded] = useState<string | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  // Every item shown here, so an answered one stays listed after the reloaded queue leaves it out.
  // Updated while rendering when a new queue arrives (React's pattern for state derived from a changed prop).
  const [seen, setSeen] = useState<ReadonlyMap<string, ReviewRow>>(() => new Map());
  const [seenLoad, setSeenLoad] = useState<ReviewLoad | null>(null);
  if (load !== seenLoad) {
    setSeenLoad(load);
    if (load.state === 'done') {
      const next = new Map(seen);
      for (const item of load.items) {
        next.set(item.key, item);
      }
      setSeen(next);
    }
  }
  if (load.state === 'loading') {
    return (
      <div className={styles.empty} role="status">
        <LoadingPlaceholder text="Loading the review queue…" />
      </div>
    );
  }
  if (load.state === 'error') {
    return (
      <div className={styles.emptyError} role="alert">
        {load.message}
      </div>
    );
  }
  const { open, done } = reviewSections(load.items, feedback.states, seen);
  if (open.length === 0 && done.length === 0) {
    return (
      <div className={styles.empty} role="status">
        Nothing to review: every recent kind of line is decided, or no model is trained yet.
      </div>
    );
  }
  // Arrow keys move between items, as in the other views (the list is short and not virtual).
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const next = arrowTarget(event);
    const target = next === null ? null : listRef.current?.querySelector<HTMLElement>(`[data-index="${next}"] [data-row-focus]`);
    if (target) {
      event.preventDefault();
      target.focus();
    }
  };
  return (
    <div ref={listRef} className={styles.reviewList} style={{ maxHeight: height }} role="list" aria-label="Review queue" onKeyDown={onKeyDown}>
      {[...open, ...done].map((item, index) => {
        const stored = storedAnomalyOf(item, anomalies);
        const example = feedbackExample(item, stored);
        return (
          <ReviewItem
            key={item.key}
            index={index}
            heading={index === open.length ? `Answered here (${done.length})` : null}
            item={item}
            stored={stored}
            client={clientOf(example)}
            state={feedback.states[item.key]}
            expanded={expanded === item.key}
            onToggle={() => setExpanded((cur) => (cur === item.key ? null : item.key))}
            onSend={(kind) => void feedback.send(item.key, example, kind, [example])}
            onUndo={() => void feedback.undo(item.key)}
            contextLines={contextLines}
            timeZone={timeZone}
            styles={styles}
          />
        );
      })}
    </div>
  );
}

function ReviewItem(p: {
  index: number;
  /** A heading above the item (the first answered one). */
  heading: string | null;
  item: ReviewRow;
  stored: AnomalyRow | undefined;
  client: LadClient;
  state: FeedbackState | undefined;
  expanded: boolean;
  onToggle: () => void;
  onSend: (kind: FeedbackKind) => void;
  onUndo: () => void;
  contextLines: number;
  timeZone: string;
  styles: PanelStyles;
}) {
  const { item, state, styles } = p;
  const id = `lad-review-${p.index}`;
  const contextId = contextIdOf(item, p.stored);
  return (
    <div className={styles.item} role="listitem" data-index={p.index} data-answered={answered(state) ? '' : undefined}>
      {p.heading ? <div className={styles.details}>{p.heading}</div> : null}
      <div className={styles.itemInner}>
        <div className={styles.meta}>
          <button
            type="button"
            className={styles.toggle}
            data-row-focus
            aria-expanded={p.expanded}
            aria-controls={`${id}-details`}
            aria-label={`${p.expanded ? 'Collapse' : 'Expand'} line and its context`}
            onClick={p.onToggle}
          >
            {p.expanded ? '▾' : '▸'}
          </button>
          {item.source ? <span className={styles.source}>{item.source}</span> : null}
          <ScoreBar score={item.score} threshold={item.threshold} styles={styles} />
          <span className={styles.badge}>{item.flagged ? 'flagged' : 'not flagged'}</span>
          <span className={styles.count} aria-label={`an answer decides ${item.affected} recent lines`}>
            ×{item.affected}
          </span>
        </div>
        <pre id={id} className={`${styles.line} ${p.expanded ? '' : styles.lineClamped}`}>
          {item.line}
        </pre>
        <div className={styles.details}>
          why: {item.why}
          {' · '}template <span className={styles.templateText}>{item.template}</span>
        </div>
        <FeedbackControls
          state={state}
          recorded={null}
          describedBy={id}
          onSend={p.onSend}
          onUndo={p.onUndo}
          styles={styles}
          labels={ANSWER_LABEL}
          doneText={(kind) => `Answered ${ANSWER_LABEL[kind]}: ${answerEffect(kind, item.affected)}`}
        />
        <div id={`${id}-details`}>
          {p.expanded ? (
            contextId ? (
              <ContextView
                key={`${contextId}:${p.contextLines}`}
                client={p.client}
                anomalyId={contextId}
                lines={p.contextLines}
                timeZone={p.timeZone}
                styles={styles}
              />
            ) : (
              <div className={styles.context}>
                No surrounding lines: the service no longer holds this line in its recent lines (or is older than
                the line ids of review items), and it is not among this panel&apos;s anomalies.
              </div>
            )
          ) : null}
        </div>
      </div>
    </div>
  );
}

/**
 * Loads the review queue when the panel's own data holds none: GET /api/review per source, through the proxy.
 * A change of `answers` (the answers given here) loads it again, showing the previous queue meanwhile: an
 * answered item and the lines it now decides leave the queue, an undone one comes back.
 */
export function useFetchedReview(
  active: boolean,
  fromData: ReviewRow[] | null,
  sources: string[],
  refId: string,
  clientOf: (row: Pick<AnomalyRow, 'refId'>) => LadClient,
  limit: number,
  answers = ''
): ReviewLoad {
  // The answer is kept with the request it answers: a new request reads as loading without a reset in the effect.
  const [answer, setAnswer] = useState<{ key: string; load: ReviewLoad } | null>(null);
  const sourcesKey = sources.join('\n');
  const requestKey = `${refId}\n${limit}\n${sourcesKey}`;
  useEffect(() => {
    if (!active || fromData) {
      return;
    }
    let live = true;
    // The datasource of the panel's (first) query answers, as for the rows' feedback and context.
    const client = clientOf({ refId });
    (async () => {
      const names = sourcesKey ? sourcesKey.split('\n') : await client.sources();
      const lists = await Promise.all(names.map((s) => fetchReview(client, s, refId, limit)));
      return lists.flat();
    })().then(
      (items) => live && setAnswer({ key: requestKey, load: { state: 'done', items } }),
      (err: unknown) => live && setAnswer({ key: requestKey, load: { state: 'error', message: err instanceof Error ? err.message : String(err) } })
    );
    return () => {
      live = false;
    };
  }, [active, fromData, sourcesKey, requestKey, refId, clientOf, limit, answers]);
  if (fromData) {
    return { state: 'done', items: fromData };
  }
  return answer?.key === requestKey ? answer.load : { state: 'loading' };
}
