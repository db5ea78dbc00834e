import {
  dataFrameFromJSON,
  FieldType,
  type AnnotationEvent,
  type DataFrame,
  type DataFrameJSON,
  type Field,
} from '@grafana/data';

import { ANOMALY_FIELDS, fieldsByName, RATE_EVENT_FIELDS } from '../shared/contract';
import { anomaliesLogsFrame, LOGS_FIELDS } from './logsFrame';
import { withLokiLinks, type LokiLinkSettings } from './lokiLinks';

/**
 * Readable names per field name, as `displayNameFromDS`. Nothing else: Grafana fills a field's config from the
 * panel's standard options only where the datasource left it unset (@grafana/data field/fieldOverrides.ts,
 * setFieldConfigDefaults), so a unit, decimals or `displayName` set here would beat what the user picks in the
 * panel. displayNameFromDS is the one name the panel's display name and overrides still replace.
 */
const DISPLAY_NAMES: Record<string, string> = {
  time: 'Time',
  score: 'Score',
  threshold: 'Threshold',
  maxScore: 'Max score',
  lastSeen: 'Last seen',
  ratio: 'Anomaly ratio',
  anomalies: 'Anomalies',
  lines: 'Lines',
  count: 'Count',
  line: 'Line',
  template: 'Template',
  example: 'Example',
  reason: 'Reason',
  source: 'Source',
  kind: 'Kind',
  observed: 'Observed',
  expected: 'Expected',
  interval: 'Interval',
};

function withDisplayName(field: Field, rateSource: string | undefined): Field {
  if (field.config.displayNameFromDS || field.config.displayName) {
    return field;
  }
  const name = DISPLAY_NAMES[field.name];
  // Rate frames come one per source: "demo anomalies" reads better in a legend than "anomalies {source=demo}".
  const displayNameFromDS = rateSource && field.type !== FieldType.time ? `${rateSource} ${(name ?? field.name).toLowerCase()}` : name;
  return displayNameFromDS ? { ...field, config: { ...field.config, displayNameFromDS } } : field;
}

/** The backend's DataFrameJSON frames of one target as Grafana DataFrames with readable names and units. */
export function framesFromJSON(frames: DataFrameJSON[], refId: string, queryType: string, loki?: LokiLinkSettings): DataFrame[] {
  return frames.map((json) => {
    const frame = dataFrameFromJSON(json);
    const rateSource = queryType === 'rate' ? frame.fields.find((f) => f.labels?.source)?.labels?.source : undefined;
    const named: DataFrame = {
      ...frame,
      refId,
      name: frame.name ?? (rateSource ? `${rateSource}` : queryType),
      meta: { ...frame.meta, custom: { ...(frame.meta?.custom ?? {}), ladQueryType: queryType } },
      fields: frame.fields.map((f) => withDisplayName(f, rateSource)),
    };
    // Anomalous lines are logs: Explore's logs view, the stock Logs panel and logs context read this shape.
    return queryType === 'anomalies' ? withLokiLinks(anomaliesLogsFrame(named), loki) : named;
  });
}

/** Anomaly rows of an `anomalies` frame as dashboard annotations (one marker per anomalous line). */
export function anomalyAnnotations(frames: DataFrame[]): AnnotationEvent[] {
  const events: AnnotationEvent[] = [];
  for (const frame of frames) {
    // the logs frame (anomaliesLogsFrame) renames time and line; the others keep the contract's names
    const f = fieldsByName(frame.fields, ANOMALY_FIELDS);
    const logs = fieldsByName(frame.fields, [LOGS_FIELDS.time, LOGS_FIELDS.body]);
    const time = logs[LOGS_FIELDS.time] ?? f.time;
    const line = logs[LOGS_FIELDS.body] ?? f.line;
    if (!time || !line) {
      continue;
    }
    const { source, score, threshold, template, reason, id } = f;
    for (let i = 0; i < frame.length; i++) {
      const s = score?.values[i] as number | undefined;
      const t = threshold?.values[i] as number | undefined;
      const src = source?.values[i] as string | undefined;
      const details = [
        s !== undefined ? `score ${s.toFixed(3)}${t !== undefined && t !== null ? ` (threshold ${t.toFixed(3)})` : ''}` : '',
        reason?.values[i] ? `reason: ${reason.values[i]}` : '',
        template?.values[i] ? `template: ${template.values[i]}` : '',
      ].filter(Boolean);
      events.push({
        id: id ? String(id.values[i]) : undefined,
        time: Number(time.values[i]),
        title: `Anomaly${src ? ` in ${src}` : ''}`,
        text: `${line.values[i]}${details.length ? `\n${details.join('\n')}` : ''}`,
        tags: ['anomaly', ...(src ? [src] : [])],
      });
    }
  }
  return events;
}

/** Surge and drop rows of a `rate_events` frame as dashboard annotations (one marker per event). */
export function rateEventAnnotations(frames: DataFrame[]): AnnotationEvent[] {
  const events: AnnotationEvent[] = [];
  for (const frame of frames) {
    const { time, kind, observed, expected, source, template, interval } = fieldsByName(frame.fields, RATE_EVENT_FIELDS);
    if (!time || !kind || !observed || !expected) {
      continue;
    }
    for (let i = 0; i < frame.length; i++) {
      const k = String(kind.values[i]);
      const src = source?.values[i] as string | undefined;
      const per = interval?.values[i] ? ` in ${interval.values[i]}` : '';
      events.push({
        time: Number(time.values[i]),
        title: `Rate ${k}${src ? ` in ${src}` : ''}`,
        text: `${template?.values[i] ?? ''}\nobserved ${observed.values[i]}${per}, expected ${expected.values[i]}`,
        tags: [...(src ? [src] : []), k],
      });
    }
  }
  return events;
}
