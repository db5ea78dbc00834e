import type { DataFrame, Field } from '@grafana/data';

import { ANOMALY_FIELDS, fieldsByName, type AnomalyField } from '../shared/contract';
import type { AnomalyRow, TemplateGroup } from './types';

/**
 * The time and line fields of an anomalies frame: the datasource's logs frame names them `timestamp` and `body`
 * (Grafana's data-plane logs shape), the backend's own frame `time` and `line`.
 */
const TIME_NAMES = ['timestamp', 'time' satisfies AnomalyField];
const LINE_NAMES = ['body', 'line' satisfies AnomalyField];

function fieldOf(frame: DataFrame, names: string[]): Field | undefined {
  for (const name of names) {
    const found = frame.fields.find((f) => f.name === name);
    if (found) {
      return found;
    }
  }
  return undefined;
}

/** The frames that look like the datasource's `anomalies` result (a time and a line field). */
export function isAnomalyFrame(frame: DataFrame): boolean {
  return Boolean(fieldOf(frame, TIME_NAMES) && fieldOf(frame, LINE_NAMES));
}

function valueAt<T>(field: Field | undefined, i: number, fallback: T): T {
  const v = field?.values[i];
  return v === undefined || v === null ? fallback : (v as T);
}

/** Anomalous lines of all anomaly frames, newest first, at most `maxRows`. */
export function anomalyRowsFromFrames(series: DataFrame[], maxRows: number): AnomalyRow[] {
  const rows: AnomalyRow[] = [];
  for (const frame of series) {
    if (!isAnomalyFrame(frame)) {
      continue;
    }
    const time = fieldOf(frame, TIME_NAMES);
    const line = fieldOf(frame, LINE_NAMES);
    const { id, source, score, threshold, template, reason, suppressed, feedback } = fieldsByName(frame.fields, ANOMALY_FIELDS);
    for (let i = 0; i < frame.length; i++) {
      const t = Number(valueAt(time, i, 0));
      rows.push({
        // Without an id field (a stock query on other data) the position keeps keys unique; feedback needs the id.
        id: String(valueAt(id, i, `${frame.refId ?? ''}:${i}:${t}`)),
        refId: frame.refId ?? '',
        time: t,
        source: String(valueAt(source, i, '')),
        score: Number(valueAt(score, i, 0)),
        threshold: threshold ? (valueAt<number | null>(threshold, i, null) ?? null) : null,
        line: String(valueAt(line, i, '')),
        template: String(valueAt(template, i, '')),
        reason: String(valueAt(reason, i, '')),
        suppressed: Boolean(valueAt(suppressed, i, false)),
        feedback: feedback ? (valueAt<string | null>(feedback, i, null) || null) : null,
      });
    }
  }
  rows.sort((a, b) => b.time - a.time || b.score - a.score);
  return rows.length > maxRows ? rows.slice(0, Math.max(0, maxRows)) : rows;
}

/** Key of a line's kind: near-duplicates share source and template. */
export function templateKey(row: Pick<AnomalyRow, 'source' | 'template' | 'line'>): string {
  return `${row.source}\u0000${row.template || row.line}`;
}

/** Rows grouped by source + template, groups ordered by their newest line. Input must be newest first. */
export function groupByTemplate(rows: AnomalyRow[]): TemplateGroup[] {
  const groups = new Map<string, TemplateGroup>();
  for (const row of rows) {
    const key = templateKey(row);
    let group = groups.get(key);
    if (!group) {
      group = {
        key,
        source: row.source,
        template: row.template || row.line,
        count: 0,
        maxScore: row.score,
        threshold: row.threshold,
        lastTime: row.time,
        rows: [],
      };
      groups.set(key, group);
    }
    group.count++;
    group.rows.push(row);
    if (row.score > group.maxScore) {
      group.maxScore = row.score;
    }
    if (row.time > group.lastTime) {
      group.lastTime = row.time;
    }
  }
  return [...groups.values()].sort((a, b) => b.lastTime - a.lastTime || b.count - a.count);
}
