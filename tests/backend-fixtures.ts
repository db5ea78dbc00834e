/**
 * The plugin's test fixtures, produced by the real backend: a service (the backend's own code, on a real port)
 * gets lines of two sources, an answer, and then every endpoint the plugin reads is asked. Its answers are
 * kept as they came, except what depends on the clock of the run (normalise below), so the committed file
 * (tests/fixtures/backend-fixtures.json) changes only when the backend's answers do.
 * tests/backend-fixtures.test.ts checks the committed file is current; UPDATE_FIXTURES=1 rewrites it.
 */
import type { Service } from '../backend/server/service';
import { normalLines, removeDir, startTestService, tempDir, waitScored } from './service-helpers';

/** Where the fixtures' lines sit in time: the plugin tests' clock (2026-11-25 12:00:00 UTC). */
export const FIXTURE_T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
/** The answer's time, as the fixtures say it (the run's real one is replaced). */
const FEEDBACK_TIME = new Date(FIXTURE_T0 + 60_000).toISOString();
const HOUR = 3_600_000;
const TOKEN = 'fixture-token';
const auth = { authorization: `Bearer ${TOKEN}` };

/** The three anomalous lines the plugin tests show: web, auth, web, one second apart from T0. */
export const FIXTURE_ANOMALIES = [0, 1, 2].map((i) => ({
  source: i % 2 ? 'auth' : 'web',
  line: `ERROR disk quota exceeded for user u${i} on /dev/sd${i}`,
}));

export interface BackendFixtures {
  health: unknown;
  liveness: unknown;
  sources: unknown;
  context: unknown;
  review: unknown;
  feedbackRecord: unknown;
  feedbackList: unknown;
  /** POST /api/query per query type: anomalies, rate, templates, feedback, review, template_rates, rate_events. */
  query: Record<string, unknown>;
}

async function call(service: Service, method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Promise<unknown> {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

async function pushTimed(service: Service, source: string, entries: { line: string; time: number }[]): Promise<void> {
  const res = await fetch(`${service.url}/api/push?source=${encodeURIComponent(source)}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/x-ndjson' },
    body: entries.map((e) => JSON.stringify({ ...e, labels: { job: source, host: `${source}-1` } })).join('\n'),
  });
  if (res.status !== 204) throw new Error(`push to ${source}: HTTP ${res.status} ${await res.text()}`);
}

export async function generateBackendFixtures(): Promise<BackendFixtures> {
  const dir = tempDir();
  const service = await startTestService(dir, { LAD_API_TOKEN: TOKEN });
  try {
    // An hour boundary an hour ago: every bucket and rate interval starts on it, so the grid shifts exactly.
    const base = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    for (const [k, source] of ['web', 'auth'].entries()) {
      const training = normalLines.slice(k * 300, k * 300 + 300);
      await pushTimed(service, source, training.map((line, i) => ({ line, time: base - 600_000 + i * 1000 })));
      await waitScored(service, source, 300);
    }
    for (const [i, a] of FIXTURE_ANOMALIES.entries()) {
      await pushTimed(service, a.source, [{ line: a.line, time: base + i * 1000 }]);
    }
    // Lines after the anomalies, so their context has an `after` side.
    await pushTimed(service, 'web', normalLines.slice(600, 606).map((line, i) => ({ line, time: base + 3000 + i * 100 })));
    await waitScored(service, 'web', 308);
    await waitScored(service, 'auth', 301);

    const range = { from: base - 15 * 60_000, to: base + 15 * 60_000 };
    const run = (target: Record<string, unknown>, to = range.to) =>
      call(service, 'POST', '/api/query', { range: { ...range, to }, intervalMs: 60_000, maxDataPoints: 30, targets: [{ refId: 'A', ...target }] });
    const anomalies = (await run({ queryType: 'anomalies' })) as { results: { A: { frames: { data: { values: unknown[][] } }[] } } };
    const ids = anomalies.results.A.frames[0].data.values[1] as string[];
    if (ids.length !== FIXTURE_ANOMALIES.length) throw new Error(`expected ${FIXTURE_ANOMALIES.length} anomalies, the backend flagged ${ids.length}`);
    // Newest first: ids[0] is the last line pushed (u2 on web).
    const feedbackRecord = await call(service, 'POST', '/api/feedback', { message: FIXTURE_ANOMALIES[2].line, kind: 'confirmed', anomalyId: ids[0] });

    const raw: BackendFixtures = {
      health: await call(service, 'GET', '/api/health'),
      liveness: await call(service, 'GET', '/api/health', undefined, {}),
      sources: await call(service, 'GET', '/api/sources'),
      context: await call(service, 'GET', `/api/anomalies/${encodeURIComponent(ids[ids.length - 1])}/context?before=3&after=3`),
      review: await call(service, 'GET', '/api/review?source=web&limit=3'),
      feedbackRecord,
      feedbackList: await call(service, 'GET', '/api/feedback'),
      query: {
        anomalies: await run({ queryType: 'anomalies' }),
        rate: await run({ queryType: 'rate', source: ['web', 'auth'] }),
        templates: await run({ queryType: 'templates' }),
        feedback: await run({ queryType: 'feedback' }),
        review: await run({ queryType: 'review', source: 'web', limit: 3 }),
        template_rates: await run({ queryType: 'template_rates', source: 'web' }),
        // Up to the lines' end: whether the rate watch has yet seen the quiet interval after them (a drop) depends on
        // the wall clock, not on the lines.
        rate_events: await run({ queryType: 'rate_events' }, base + 20_000),
      },
    };
    return normalise(raw, FIXTURE_T0 - base);
  } finally {
    await service.close();
    removeDir(dir);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * What depends on the run's clock or chance: line times shift by `shift` (to FIXTURE_T0), the answer's time
 * becomes FEEDBACK_TIME, ids lose their creation time and randomness, and health's uptime, rate, model age and
 * training time become fixed values.
 */
function normalise(raw: BackendFixtures, shift: number): BackendFixtures {
  const json = JSON.parse(JSON.stringify(raw)) as Record<string, Json>;
  const record = json.feedbackRecord as { time: string };
  const answeredAt = Date.parse(record.time);
  const uuids = new Map<string, string>();
  const visit = (node: Json, key: string | undefined, inTimeField: boolean): Json => {
    if (Array.isArray(node)) return node.map((v) => visit(v, key, inTimeField));
    if (node !== null && typeof node === 'object') {
      // A data frame: shift the values of its time fields (the feedback frame's time is the answer's).
      const frame = node as { schema?: { fields?: { type: string }[] }; data?: { values: Json[][] } };
      if (frame.schema?.fields && frame.data) {
        const types = frame.schema.fields.map((f) => f.type);
        frame.data.values = frame.data.values.map((col, j) => col.map((v) => visit(v, undefined, types[j] === 'time')));
        return node;
      }
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v, k, false)]));
    }
    if (typeof node === 'number' && (inTimeField || key === 'time')) {
      return node === answeredAt ? Date.parse(FEEDBACK_TIME) : node + shift;
    }
    if (typeof node === 'string' && key === 'time' && node === record.time) return FEEDBACK_TIME;
    if (typeof node === 'string') {
      // A stored line's id is <sequence>-<source key>, the sequence counted from the source's creation in µs.
      const line = /^(\d{13,})-([0-9a-f]+)$/.exec(node);
      if (line) return `${FIXTURE_T0 * 1000 + (Number(line[1]) % 1000)}-${line[2]}`;
      // A feedback record's id is a random UUID: numbered in order of appearance.
      if (UUID.test(node)) {
        if (!uuids.has(node)) uuids.set(node, `00000000-0000-4000-8000-${String(uuids.size + 1).padStart(12, '0')}`);
        return uuids.get(node)!;
      }
    }
    switch (key) {
      case 'uptimeSeconds':
        return 3700;
      case 'linesPerSecond':
        return typeof node === 'number' ? 12.5 : node;
      case 'modelAgeSeconds':
        return typeof node === 'number' ? 600 : node;
      case 'lastTrainedAt':
        return typeof node === 'string' ? new Date(FIXTURE_T0 - 600_000).toISOString() : node;
      default:
        return node;
    }
  };
  return visit(json, undefined, false) as unknown as BackendFixtures;
}
