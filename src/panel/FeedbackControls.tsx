import React from 'react';
import { Button } from '@grafana/ui';

import type { FeedbackKind } from '../shared/contract';
import type { FeedbackState } from './useFeedback';
import type { PanelStyles } from './styles';

interface Props {
  state: FeedbackState | undefined;
  /** Feedback recorded before this query ran (from the frame's `feedback` field). */
  recorded: string | null;
  /** id of the element holding the line, so screen readers announce which line a button acts on. */
  describedBy: string;
  onSend: (kind: FeedbackKind) => void;
  onUndo: () => void;
  styles: PanelStyles;
  /** Button words (the review view asks "Anomaly" / "Normal"). */
  labels?: Record<FeedbackKind, string>;
  /** What the badge says once an answer is recorded. */
  doneText?: (kind: FeedbackKind) => string;
}

const DONE_LABEL: Record<FeedbackKind, string> = { false_positive: 'Marked false positive', confirmed: 'Confirmed' };
const LABELS: Record<FeedbackKind, string> = { false_positive: 'False positive', confirmed: 'Confirm anomaly' };

export function FeedbackControls({ state, recorded, describedBy, onSend, onUndo, styles, labels = LABELS, doneText = (k) => DONE_LABEL[k] }: Props) {
  if (state?.status === 'done' || state?.status === 'undoing') {
    return (
      <span className={styles.actions}>
        <span className={styles.badge} role="status">
          {doneText(state.kind)}
        </span>
        <Button
          size="sm"
          variant="secondary"
          fill="outline"
          aria-describedby={describedBy}
          disabled={state.status === 'undoing'}
          onClick={onUndo}
        >
          Undo
        </Button>
      </span>
    );
  }
  const pending = state?.status === 'pending';
  return (
    <span className={styles.actions}>
      {recorded ? (
        <span className={styles.badge}>{recorded === 'confirmed' ? 'Confirmed earlier' : 'Known false positive'}</span>
      ) : null}
      {/* A line already suppressed as a known false positive can still be confirmed, not reported twice. */}
      {recorded === 'false_positive' ? null : (
        <Button
          size="sm"
          variant="secondary"
          aria-describedby={describedBy}
          disabled={pending}
          aria-busy={pending && state?.kind === 'false_positive'}
          onClick={() => onSend('false_positive')}
        >
          {labels.false_positive}
        </Button>
      )}
      <Button
        size="sm"
        variant="destructive"
        fill="outline"
        aria-describedby={describedBy}
        disabled={pending}
        aria-busy={pending && state?.kind === 'confirmed'}
        onClick={() => onSend('confirmed')}
      >
        {labels.confirmed}
      </Button>
      {state?.status === 'error' ? (
        <span role="alert" className={styles.error}>
          {state.message}
        </span>
      ) : null}
    </span>
  );
}
