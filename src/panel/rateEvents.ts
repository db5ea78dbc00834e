import type { DataFrame } from '@grafana/data';

import {
  fieldsByName,
  RATE_EVENT_FIELDS,
  rateAnswerMessage as contractRateAnswerMessage,
  type RateEventField,
} from '../shared/contract';
import type { AnomalyRow } from './types';

/** A surge or drop of a line template, from the datasource's `rate_events` frame. */
export interface RateEventRow {
  /** Unique per event: source, kind, interval start and template. */
  key: string;
  refId: string;
  /** Start of the interval (epoch ms): of the surge, or the first empty interval of a drop. */
  time: number;
  source: string;
  template: string;
  kind: 'surge' | 'drop';
  observed: number;
  expected: number;
  /** The interval as people read it ("1 min"). */
  interval: string;
}

/** The fields a row cannot do without (source and interval may be blank), of the contract's RATE_EVENT_FIELDS. */
const REQUIRED: readonly RateEventField[] = ['time', 'kind', 'template', 'observed', 'expected'];

const RATE_KEY = 'rate:';

/** True for the key of a rate event's row (its feedback state and notice are keyed by it). */
export function isRateEventKey(key: string): boolean {
  return key.startsWith(RATE_KEY);
}

/** The frames of a `rate_events` query (backend/api/query.ts rateEventsFrame). */
export function isRateEventFrame(frame: DataFrame): boolean {
  return REQUIRED.every((name) => frame.fields.some((f) => f.name === name));
}

/** Surge and drop events of all rate_events frames, newest first. */
export function rateEventRowsFromFrames(series: DataFrame[]): RateEventRow[] {
  const rows: RateEventRow[] = [];
  for (const frame of series) {
    if (!isRateEventFrame(frame)) {
      continue;
    }
    // the REQUIRED ones are there (isRateEventFrame)
    const { time, kind, template, observed, expected, source, interval } = fieldsByName(frame.fields, RATE_EVENT_FIELDS);
    for (let i = 0; i < frame.length; i++) {
      const k = String(kind!.values[i]);
      if (k !== 'surge' && k !== 'drop') {
        continue;
      }
      const row: RateEventRow = {
        key: '',
        refId: frame.refId ?? '',
        time: Number(time!.values[i]),
        source: String(source?.values[i] ?? ''),
        template: String(template!.values[i] ?? ''),
        kind: k,
        observed: Number(observed!.values[i]),
        expected: Number(expected!.values[i]),
        interval: String(interval?.values[i] ?? ''),
      };
      row.key = `${RATE_KEY}${row.source}:${row.kind}:${row.time}:${row.template}`;
      rows.push(row);
    }
  }
  return rows.sort((a, b) => b.time - a.time);
}

/**
 * The message an answer about a rate event is recorded with (the contract's rateAnswerMessage): the backend
 * applies it to that template's rate and never takes it for an answer about a line.
 */
export function rateAnswerMessage(e: Pick<RateEventRow, 'kind' | 'template'>): string {
  return contractRateAnswerMessage(e.kind, e.template);
}

/** The event as the row feedback is sent for: no stored line, so no anomaly id and no score. */
export function rateEventExample(e: RateEventRow): AnomalyRow {
  return {
    id: '',
    refId: e.refId,
    time: e.time,
    source: e.source,
    score: NaN,
    threshold: null,
    line: rateAnswerMessage(e),
    template: e.template,
    reason: rateEventText(e),
    suppressed: false,
    feedback: null,
  };
}

/** "150 in 1 min, expected 0.3" / "none for 2 min, expected 1 per 1 min". */
export function rateEventText(e: Pick<RateEventRow, 'kind' | 'observed' | 'expected' | 'interval'>): string {
  const per = e.interval ? ` in ${e.interval}` : '';
  return e.kind === 'surge' ? `${e.observed}${per}, expected ${e.expected}` : `stopped: ${e.observed}${per}, expected ${e.expected}`;
}
