import { FieldType, type DataFrameJSON } from '@grafana/data';

/** A small `anomalies` frame in the backend's wire format (docs/architecture.md), newest last on purpose. */
export function anomaliesFrameJSON(refId = 'A', rows = 3, t0 = Date.UTC(2026, 10, 25, 12, 0, 0)): DataFrameJSON {
  const idx = Array.from({ length: rows }, (_, i) => i);
  return {
    schema: {
      name: 'anomalies',
      refId,
      fields: [
        { name: 'time', type: FieldType.time, config: {} },
        { name: 'id', type: FieldType.string, config: {} },
        { name: 'source', type: FieldType.string, config: {} },
        { name: 'score', type: FieldType.number, config: {} },
        { name: 'threshold', type: FieldType.number, config: {} },
        { name: 'line', type: FieldType.string, config: {} },
        { name: 'template', type: FieldType.string, config: {} },
        { name: 'reason', type: FieldType.string, config: {} },
        { name: 'suppressed', type: FieldType.boolean, config: {} },
        { name: 'feedback', type: FieldType.string, config: {} },
      ],
    },
    data: {
      values: [
        idx.map((i) => t0 + i * 1000),
        idx.map((i) => `a${i}`),
        idx.map((i) => (i % 2 ? 'auth' : 'web')),
        idx.map((i) => 0.5 + i * 0.1),
        idx.map(() => 0.4),
        idx.map((i) => `ERROR disk quota exceeded for user u${i} on /dev/sd${i}`),
        idx.map(() => 'ERROR disk quota exceeded for user <*> on <*>'),
        idx.map(() => 'far from every known template'),
        idx.map(() => false),
        idx.map(() => null),
      ],
    },
  };
}

export function rateFrameJSON(refId: string, source: string, t0 = Date.UTC(2026, 10, 25, 12, 0, 0)): DataFrameJSON {
  return {
    schema: {
      name: `rate ${source}`,
      refId,
      fields: [
        { name: 'time', type: FieldType.time, config: {} },
        { name: 'anomalies', type: FieldType.number, config: {}, labels: { source } },
        { name: 'lines', type: FieldType.number, config: {}, labels: { source } },
        { name: 'ratio', type: FieldType.number, config: {}, labels: { source } },
      ],
    },
    data: { values: [[t0, t0 + 60000], [1, 3], [100, 100], [0.01, 0.03]] },
  };
}

export function healthJSON(overrides: Partial<{ sources: unknown[] }> = {}) {
  return {
    status: 'ok',
    problems: [],
    version: '0.1.0',
    uptimeSeconds: 3700,
    factStore: { falsePositives: 4, confirmed: 2, precision: 2 / 6 },
    resultsStore: { lastError: null },
    spool: { lastError: null },
    sources: overrides.sources ?? [
      {
        name: 'web',
        kind: 'push',
        state: 'connected',
        linesIngested: 12000,
        linesScored: 10000,
        anomalies: 25,
        suppressed: 3,
        linesPerSecond: 41.5,
        modelState: 'ready',
        modelAgeSeconds: 7260,
        lastTrainedAt: '2026-11-25T10:00:00.000Z',
        threshold: 0.42,
        lastError: null,
        lagMs: 15,
        queueDepth: 0,
        retraining: false,
      },
      {
        name: 'auth',
        kind: 'file',
        state: 'connected',
        linesIngested: 300,
        linesScored: 0,
        anomalies: 0,
        suppressed: 0,
        linesPerSecond: 0.5,
        modelState: 'collecting',
        modelAgeSeconds: null,
        lastTrainedAt: null,
        threshold: null,
        lastError: null,
        lagMs: null,
        queueDepth: 12,
        retraining: false,
      },
    ],
  };
}
