import { DataFrameType, FieldType, type DataFrame, type Field } from '@grafana/data';

import { levelName, type LevelName } from '../../backend/engine/levels';
import { LineScanner } from '../../backend/engine/tokenizer';
import { ANOMALY_FIELDS, fieldsByName, type AnomalyField, type ContextRow } from '../shared/contract';

/**
 * Anomalies as a logs frame in Grafana's data-plane logs shape (DataFrameType.LogLines), as Grafana's logs code
 * reads it (public/app/features/logs/logsFrame.ts parseDataplaneLogsFrame): `timestamp` (time) and `body`
 * (string) required, `severity` (string), `id` (string) and `labels` (other: a map per row) optional, every other
 * field an extra field shown in the log details. So Explore's logs view and the stock Logs panel show the line,
 * not the anomaly id, and the project's own panel reads the same frame (src/panel/rows.ts).
 */
export const LOGS_FIELDS = { time: 'timestamp', body: 'body', severity: 'severity', id: 'id', labels: 'labels' } as const;

// The engine's own level reading (backend/engine/tokenizer.ts, defined once): the level a line was scored with,
// in every spelling the engine reads (klog's E0507, logcat's letter, pino's "level":50, level=warn, [ERROR], …).
const scanner = new LineScanner();

/** Grafana's words for the engine's levels (trace < debug < info < notice < warn < error < fatal). */
const GRAFANA_LEVEL: Record<LevelName, string> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warn: 'warning',
  error: 'error',
  fatal: 'critical',
};

/**
 * The level a line states about itself, in the words Grafana's logs code maps to colours: the level the engine
 * read from it, else the first level-like word of its first 200 characters (prose such as `error: disk full` in a
 * log without levels, as Grafana's own guess would colour it).
 */
export function severityOf(line: string): string {
  const read = levelName(scanner.scan(line).level);
  if (read !== null) {
    return GRAFANA_LEVEL[read];
  }
  const m = /\b(emerg|alert|crit(?:ical)?|fatal|panic|err(?:or)?|warn(?:ing)?|notice|info|debug|trace)\b/i.exec(line.slice(0, 200));
  if (!m) {
    return 'unknown';
  }
  const word = m[1].toLowerCase();
  if (/^(emerg|alert|crit|critical|fatal|panic)$/.test(word)) {
    return 'critical';
  }
  if (word.startsWith('err')) {
    return 'error';
  }
  if (word.startsWith('warn')) {
    return 'warning';
  }
  return word === 'notice' ? 'info' : word;
}

function field(name: string, type: FieldType, values: unknown[], config: Field['config'] = {}): Field {
  return { name, type, values, config };
}

/** The backend's anomalies frame (time, id, source, line, template, ...) as a LogLines frame, extras kept. */
export function anomaliesLogsFrame(frame: DataFrame): DataFrame {
  const byName = fieldsByName(frame.fields, ANOMALY_FIELDS);
  const { time, line } = byName;
  if (!time || !line) {
    return frame;
  }
  const n = frame.length;
  const column = (name: AnomalyField) => byName[name]?.values ?? Array.from({ length: n }, () => undefined);
  const lines = line.values.map((v) => String(v ?? ''));
  const sources = column('source');
  const templates = column('template');
  const labels = Array.from({ length: n }, (_, i) => ({
    source: String(sources[i] ?? ''),
    ...(templates[i] ? { template: String(templates[i]) } : {}),
  }));
  const core = new Set<string>(['time', 'line', 'id'] satisfies AnomalyField[]);
  const extras = frame.fields.filter((f) => !core.has(f.name));
  return {
    ...frame,
    meta: { ...frame.meta, type: DataFrameType.LogLines, typeVersion: [0, 0], preferredVisualisationType: 'logs' },
    fields: [
      field(LOGS_FIELDS.time, FieldType.time, time.values, time.config),
      field(LOGS_FIELDS.body, FieldType.string, lines, line.config),
      field(LOGS_FIELDS.severity, FieldType.string, lines.map(severityOf)),
      field(LOGS_FIELDS.id, FieldType.string, column('id').map((v, i) => String(v ?? `${frame.refId ?? ''}:${i}`))),
      field(LOGS_FIELDS.labels, FieldType.other, labels),
      ...extras,
    ],
  };
}

/** Lines around an anomaly (GET /api/anomalies/:id/context) as a LogLines frame, for Grafana's logs context. */
export function contextLogsFrame(rows: ContextRow[], refId: string): DataFrame {
  return {
    refId,
    length: rows.length,
    meta: { type: DataFrameType.LogLines, typeVersion: [0, 0], preferredVisualisationType: 'logs' },
    fields: [
      field(LOGS_FIELDS.time, FieldType.time, rows.map((r) => (typeof r.time === 'number' ? r.time : Date.parse(r.time)))),
      field(LOGS_FIELDS.body, FieldType.string, rows.map((r) => r.line)),
      field(LOGS_FIELDS.severity, FieldType.string, rows.map((r) => severityOf(r.line))),
      field(LOGS_FIELDS.id, FieldType.string, rows.map((r) => r.id)),
      field(LOGS_FIELDS.labels, FieldType.other, rows.map((r) => ({ ...r.labels, source: r.source }))),
      field('score', FieldType.number, rows.map((r) => r.score)),
      field('anomaly', FieldType.boolean, rows.map((r) => r.anomaly)),
    ],
  };
}
