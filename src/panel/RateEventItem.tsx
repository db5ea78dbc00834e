import React from 'react';
import { dateTimeFormat } from '@grafana/data';

import type { FeedbackKind } from '../shared/contract';
import { FeedbackControls } from './FeedbackControls';
import { rateEventText, type RateEventRow } from './rateEvents';
import type { PanelStyles } from './styles';
import type { FeedbackState } from './useFeedback';

const KIND_LABEL = { surge: 'Surge', drop: 'Drop' } as const;
const LABELS: Record<FeedbackKind, string> = { false_positive: 'Not an anomaly', confirmed: 'Anomaly' };
const DONE: Record<FeedbackKind, string> = { false_positive: 'Answered: not an anomaly', confirmed: 'Answered: anomaly' };

/**
 * A surge or drop of a line template in the Lines view: kind, time, source, the template, observed against
 * expected, and the answer buttons (an event has no line of its own: the answer names the template).
 */
export function RateEventItem(props: {
  event: RateEventRow;
  narrow: boolean;
  timeZone: string;
  feedback: FeedbackState | undefined;
  onSend: (kind: FeedbackKind) => void;
  onUndo: () => void;
  styles: PanelStyles;
}) {
  const { event, styles } = props;
  const id = `lad-rate-${event.key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const kind = (
    <span className={styles.count} data-rate-kind={event.kind}>
      {KIND_LABEL[event.kind]}
    </span>
  );
  const time = <span className={styles.time}>{dateTimeFormat(event.time, { timeZone: props.timeZone })}</span>;
  const source = event.source ? <span className={styles.source}>{event.source}</span> : null;
  const body = (
    <div className={styles.body}>
      <pre id={id} className={`${styles.line} ${styles.lineClamped}`}>
        {event.template}
      </pre>
      <div className={styles.details}>
        {event.kind === 'surge' ? 'surge' : 'drop'}: {rateEventText(event)}
      </div>
    </div>
  );
  const controls = (
    <FeedbackControls
      state={props.feedback}
      recorded={null}
      describedBy={id}
      onSend={props.onSend}
      onUndo={props.onUndo}
      styles={styles}
      labels={LABELS}
      doneText={(k) => DONE[k]}
    />
  );
  return (
    <div className={styles.itemInner} data-rate-event={event.kind} aria-label={`Rate ${event.kind}: ${event.template}`}>
      {props.narrow ? (
        <div className={styles.rowNarrow}>
          <div className={styles.meta}>
            {kind}
            {time}
            {source}
          </div>
          {body}
          {controls}
        </div>
      ) : (
        <div className={styles.rowWide}>
          {kind}
          {time}
          {source ?? <span />}
          <span />
          {body}
          {controls}
        </div>
      )}
    </div>
  );
}
