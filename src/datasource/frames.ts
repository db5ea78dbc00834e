import {
  dataFrameFromJSON,
  FieldType,
  type AnnotationEvent,
  type DataFrame,
  type DataFrameJSON,
  type Field,
} from '@grafana/data';

/** Display defaults per field name, applied only where the backend left the config empty. */
const FIELD_DEFAULTS: Record<string, { unit?: string; displayName?: string; decimals?: number; min?: number; max?: number }> = {
  time: { displayName: 'Time' },
  score: { displayName: 'Score', decimals: 3 },
  threshold: { displayName: 'Threshold', decimals: 3 },
  maxScore: { displayName: 'Max score', decimals: 3 },
  lastSeen: { displayName: 'Last seen' },
  ratio: { unit: 'percentunit', displayName: 'Anomaly ratio', min: 0 },
  anomalies: { unit: 'short', displayName: 'Anomalies', decimals: 0, min: 0 },
  lines: { unit: 'short', displayName: 'Lines', decimals: 0, min: 0 },
  count: { unit: 'short', displayName: 'Count', decimals: 0 },
  line: { displayName: 'Line' },
  template: { displayName: 'Template' },
  example: { displayName: 'Example' },
  reason: { displayName: 'Reason' },
  source: { displayName: 'Source' },
};

function withDefaults(field: Field, rateSource: string | undefined): Field {
  const defaults = FIELD_DEFAULTS[field.name] ?? {};
  const config = { ...field.config };
  if (config.unit === undefined && defaults.unit) {
    config.unit = defaults.unit;
  }
  if (config.decimals === undefined && defaults.decimals !== undefined) {
    config.decimals = defaults.decimals;
  }
  if (config.min === undefined && defaults.min !== undefined) {
    config.min = defaults.min;
  }
  if (config.max === undefined && defaults.max !== undefined) {
    config.max = defaults.max;
  }
  if (!config.displayNameFromDS) {
    // Rate frames come one per source: "demo anomalies" reads better in a legend than "anomalies {source=demo}".
    if (rateSource && field.type !== FieldType.time) {
      config.displayNameFromDS = `${rateSource} ${(defaults.displayName ?? field.name).toLowerCase()}`;
    } else if (defaults.displayName) {
      config.displayNameFromDS = defaults.displayName;
    }
  }
  return { ...field, config };
}

/** The backend's DataFrameJSON frames of one target as Grafana DataFrames with readable names and units. */
export function framesFromJSON(frames: DataFrameJSON[], refId: string, queryType: string): DataFrame[] {
  return frames.map((json) => {
    const frame = dataFrameFromJSON(json);
    const rateSource = queryType === 'rate' ? frame.fields.find((f) => f.labels?.source)?.labels?.source : undefined;
    return {
      ...frame,
      refId,
      name: frame.name ?? (rateSource ? `${rateSource}` : queryType),
      meta: { ...frame.meta, custom: { ...(frame.meta?.custom ?? {}), ladQueryType: queryType } },
      fields: frame.fields.map((f) => withDefaults(f, rateSource)),
    };
  });
}

/** Anomaly rows of an `anomalies` frame as dashboard annotations (one marker per anomalous line). */
export function anomalyAnnotations(frames: DataFrame[]): AnnotationEvent[] {
  const events: AnnotationEvent[] = [];
  for (const frame of frames) {
    const get = (name: string) => frame.fields.find((f) => f.name === name);
    const time = get('time');
    const line = get('line');
    if (!time || !line) {
      continue;
    }
    const source = get('source');
    const score = get('score');
    const threshold = get('threshold');
    const template = get('template');
    const reason = get('reason');
    const id = get('id');
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
