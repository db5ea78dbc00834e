import type { DataFrameJSON } from '@grafana/data';

import {
  contextSchema,
  feedbackRecordSchema,
  healthSchema,
  livenessSchema,
  queryResponseSchema,
  reviewResponseSchema,
  type QueryType,
} from '../shared/contract';
// kept under tests/, not src/: the plugin build copies every JSON file of src/ into dist
import generated from '../../tests/fixtures/backend-fixtures.json';

/**
 * The plugin tests' backend answers. tests/fixtures/backend-fixtures.json is what a real backend answered (written by
 * tests/backend-fixtures.ts, kept current by tests/backend-fixtures.test.ts); it is parsed here with the
 * contract's schemas, so a fixture the plugin could not read fails every test that uses it. The helpers below
 * keep the backend's shapes, names, templates and reasons, and let a test choose only how many rows, which ids
 * and which times it wants.
 */
export const backend = {
  health: healthSchema.parse(generated.health),
  liveness: livenessSchema.parse(generated.liveness),
  context: contextSchema.parse(generated.context),
  review: reviewResponseSchema.parse(generated.review),
  feedbackRecord: feedbackRecordSchema.parse(generated.feedbackRecord),
  query: Object.fromEntries(Object.entries(generated.query).map(([type, body]) => [type, queryResponseSchema.parse(body)])) as Record<
    QueryType,
    ReturnType<typeof queryResponseSchema.parse>
  >,
};

/** The frames the backend answered for a query type (its one target has refId A), as Grafana's DataFrameJSON. */
export function backendFrames(type: QueryType, refId = 'A'): DataFrameJSON[] {
  const frames = backend.query[type].results.A.frames ?? [];
  return frames.map((f) => ({ ...f, schema: { ...f.schema, refId } }) as DataFrameJSON);
}

/** Rows of a frame as objects keyed by field name. */
function rowsOf(frame: DataFrameJSON): Array<Record<string, unknown>> {
  const n = frame.data?.values[0]?.length ?? 0;
  return Array.from({ length: n }, (_, i) => Object.fromEntries((frame.schema?.fields ?? []).map((f, j) => [f.name, frame.data!.values[j][i]])));
}

const realAnomalies = backendFrames('anomalies')[0];
const realAnomalyRows = rowsOf(realAnomalies);
/** The time of the oldest anomalous line (the backend's lines were put there: 2026-11-25 12:00:00 UTC). */
export const FIXTURE_T0 = Math.min(...realAnomalyRows.map((r) => Number(r.time)));
/** The template the backend gave the fixture's anomalous lines (its miner's placeholders, not Drain's <*>). */
export const FIXTURE_TEMPLATE = String(realAnomalyRows[0].template);
/** Why the backend flagged them (its reason text). */
export const FIXTURE_REASON = String(realAnomalyRows.find((r) => r.source === 'web')!.reason);

/**
 * An `anomalies` frame as the backend sends it, newest last on purpose: row i is `ERROR disk quota exceeded for user
 * u<i> on /dev/sd<i>` of source web (even i) or auth (odd i), with the backend's score, threshold, template and
 * reason for that source's line, id `a<i>` and time t0 + i s, no answer yet.
 */
export function anomaliesFrameJSON(refId = 'A', rows = 3, t0 = FIXTURE_T0): DataFrameJSON {
  const idx = Array.from({ length: rows }, (_, i) => i);
  const real = (i: number) => realAnomalyRows.find((r) => r.source === (i % 2 ? 'auth' : 'web'))!;
  const column: Record<string, (i: number) => unknown> = {
    time: (i) => t0 + i * 1000,
    id: (i) => `a${i}`,
    source: (i) => real(i).source,
    line: (i) => String(real(i).line).replace(/u\d+ on \/dev\/sd\d+/, `u${i} on /dev/sd${i}`),
    suppressed: () => false,
    // The backend's "no answer" is '' (not null).
    feedback: () => '',
  };
  const fields = realAnomalies.schema!.fields;
  return {
    schema: { ...realAnomalies.schema!, refId },
    data: { values: fields.map((f) => idx.map((i) => (column[f.name] ? column[f.name](i) : real(i)[f.name]))) },
  };
}

/** The backend's `rate` frame of a source (its real counts and field configs), renamed for `source`, times moved to start at t0. */
export function rateFrameJSON(refId: string, source: string, t0?: number): DataFrameJSON {
  const web = backendFrames('rate', refId).find((f) => f.schema?.name === 'web')!;
  const times = web.data!.values[0] as number[];
  const shift = t0 === undefined ? 0 : t0 - times[0];
  const rename = (s: string) => s.replace(/^web\b/, source);
  return {
    schema: {
      ...web.schema,
      refId,
      name: rename(web.schema!.name ?? ''),
      fields: web.schema!.fields.map((f) => ({
        ...f,
        ...(f.labels ? { labels: { ...f.labels, source } } : {}),
        config: Object.fromEntries(Object.entries(f.config ?? {}).map(([k, v]) => [k, typeof v === 'string' ? rename(v) : v])),
      })),
    },
    data: { values: [times.map((t) => t + shift), ...web.data!.values.slice(1)] },
  };
}

type SourceHealth = (typeof backend.health.sources)[number];

/**
 * GET /api/health with the token: the backend's answer (its keys, its sources' keys), with the Overview tests'
 * scenario: web trained and busy, auth still collecting with lines queued.
 */
export function healthJSON(overrides: Partial<{ sources: unknown[] }> = {}) {
  const [web, auth] = ['web', 'auth'].map((name) => backend.health.sources.find((s) => s.name === name)!);
  const scenario: SourceHealth[] = [
    {
      ...web,
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
      lagMs: 15,
      queueDepth: 0,
    },
    {
      ...auth,
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
      lagMs: null,
      queueDepth: 12,
    },
  ];
  return {
    ...backend.health,
    uptimeSeconds: 3700,
    factStore: { falsePositives: 4, confirmed: 2, precision: 2 / 6 },
    sources: overrides.sources ?? scenario,
  };
}

/** One value of a frame's field by name (for expectations built from the fixtures). */
export function fieldValue(frame: DataFrameJSON, name: string, row: number): unknown {
  return frame.data!.values[frame.schema!.fields.findIndex((f) => f.name === name)][row];
}
