/**
 * The datasource API over real HTTP on loopback, against a real service (real engine, lowdb file, results
 * files in a temp dir): every endpoint, the bad inputs of the issue, and feedback suppression.
 */
import type { Service } from '../backend/server/service';
import {
  anomalyLines,
  normalLines,
  postJson,
  pushLines,
  query,
  removeDir,
  rowsOf,
  startTestService,
  tempDir,
  waitFor,
  waitScored,
} from './service-helpers';
import { fetchHealth } from '../backend/testing/health';

jest.setTimeout(60_000);

let dir: string;
let service: Service;
let url: string;
const SOURCE = 'shop';

beforeAll(async () => {
  dir = tempDir();
  service = await startTestService(dir);
  url = service.url;
  // 300 lines fill the training window; then a mix of normal lines and two anomalies.
  expect((await pushLines(url, SOURCE, normalLines.slice(0, 300))).status).toBe(204);
  await waitScored(service, SOURCE, 300);
  const mixed = [...normalLines.slice(300, 400), anomalyLines[2], ...normalLines.slice(400, 420), anomalyLines[3], ...normalLines.slice(420, 430)];
  expect((await pushLines(url, SOURCE, mixed)).status).toBe(204);
  await waitScored(service, SOURCE, 300 + mixed.length);
});

afterAll(async () => {
  await service?.close();
  removeDir(dir);
});

async function anomalies(target: Record<string, unknown> = {}) {
  const res = await query(url, [{ refId: 'A', queryType: 'anomalies', source: SOURCE, ...target }]);
  return rowsOf(res.results.A.frames[0]);
}

describe('GET /api/health and /api/sources', () => {
  test('health reports the source, its model and the fact-store', async () => {
    const res = await fetch(`${url}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.status).toBe('ok');
    expect(typeof body.version).toBe('string');
    const shop = body.sources.find((s: { name: string }) => s.name === SOURCE);
    expect(shop).toMatchObject({ kind: 'push', modelState: 'ready', linesIngested: 432, linesScored: 432, lastError: null });
    expect(shop.anomalies).toBeGreaterThanOrEqual(2);
    expect(typeof shop.threshold).toBe('number');
    expect(shop.modelAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(Date.parse(shop.lastTrainedAt)).not.toBeNaN();
    expect(body.factStore).toMatchObject({ falsePositives: expect.any(Number), confirmed: expect.any(Number) });
  });

  test('sources lists the pushed source', async () => {
    const res = await fetch(`${url}/api/sources`);
    expect(await res.json() as any).toContain(SOURCE);
  });
});

describe('POST /api/query', () => {
  test('anomalies: the injected lines come back with score, threshold, template and reason', async () => {
    const rows = await anomalies();
    const lines = rows.map((r) => r.line);
    expect(lines).toEqual(expect.arrayContaining([anomalyLines[2], anomalyLines[3]]));
    const row = rows.find((r) => r.line === anomalyLines[2])!;
    expect(row.source).toBe(SOURCE);
    expect(row.score as number).toBeGreaterThan(row.threshold as number);
    expect(typeof row.template).toBe('string');
    expect((row.reason as string).length).toBeGreaterThan(0);
    expect(row.suppressed).toBe(false);
    expect(typeof row.time).toBe('number');
  });

  test('anomalies: frame schema names the fields of the contract', async () => {
    const res = await query(url, [{ refId: 'X', queryType: 'anomalies' }]);
    const frame = res.results.X.frames[0];
    expect(frame.schema.refId).toBe('X');
    expect(frame.schema.fields.map((f) => f.name)).toEqual(['time', 'id', 'source', 'score', 'threshold', 'line', 'template', 'reason', 'suppressed', 'feedback']);
    expect(frame.schema.fields[0].type).toBe('time');
  });

  test('anomalies: filters search, minScore, limit and range', async () => {
    const all = await anomalies();
    const found = await anomalies({ search: 'OutOfMemoryError' });
    expect(found.map((r) => r.line)).toEqual([anomalyLines[2]]);
    const top = Math.max(...all.map((r) => r.score as number));
    expect((await anomalies({ minScore: top })).length).toBe(all.filter((r) => r.score === top).length);
    expect((await anomalies({ limit: 1 })).length).toBe(1);
    const past = await query(url, [{ refId: 'A', queryType: 'anomalies' }], { from: Date.now() - 7200_000, to: Date.now() - 3600_000 });
    expect(rowsOf(past.results.A.frames[0])).toEqual([]);
    expect(await anomalies({ source: 'no-such-source' })).toEqual([]);
  });

  test('range accepts ISO strings as Grafana sends them', async () => {
    const res = await query(url, [{ refId: 'A', queryType: 'anomalies', source: SOURCE }], {
      from: new Date(Date.now() - 3600_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
    } as never);
    expect(rowsOf(res.results.A.frames[0]).length).toBeGreaterThanOrEqual(2);
  });

  test('rate: one frame per source with lines, anomalies and ratio per interval', async () => {
    const to = Date.now() + 1000;
    const from = to - 600_000;
    const res = await query(url, [{ refId: 'R', queryType: 'rate', source: SOURCE }], { from, to }, { intervalMs: 60_000, maxDataPoints: 100 });
    const [frame] = res.results.R.frames;
    expect(frame.schema.fields.map((f) => f.name)).toEqual(['time', 'anomalies', 'lines', 'ratio']);
    expect(frame.schema.fields[1].labels).toEqual({ source: SOURCE });
    // Names only from the datasource (displayNameFromDS): unit, decimals and display name are the panel's to set.
    expect(frame.schema.fields.map((f) => f.config)).toEqual([
      { interval: 60_000 },
      { displayNameFromDS: `${SOURCE} anomalies` },
      { displayNameFromDS: `${SOURCE} lines` },
      { displayNameFromDS: `${SOURCE} anomaly ratio` },
    ]);
    const rows = rowsOf(frame);
    expect(rows.length).toBeLessThanOrEqual(11);
    expect((rows[1].time as number) - (rows[0].time as number)).toBe(60_000);
    const lines = rows.reduce((s, r) => s + (r.lines as number), 0);
    const anomalyCount = rows.reduce((s, r) => s + (r.anomalies as number), 0);
    expect(lines).toBe(432);
    expect(anomalyCount).toBe(service.pipelines.get(SOURCE)!.stats().anomalies);
    for (const r of rows) {
      if (r.lines) {
        expect(r.ratio).toBeCloseTo((r.anomalies as number) / (r.lines as number));
      } else {
        // An interval without lines has no ratio (a gap in the graph), not 0 %.
        expect(r.ratio).toBeNull();
      }
    }
    expect(rows.some((r) => !r.lines)).toBe(true);
  });

  test('rate honours maxDataPoints when intervalMs is small', async () => {
    const to = Date.now();
    const res = await query(url, [{ refId: 'R', queryType: 'rate', source: SOURCE }], { from: to - 3600_000, to }, { intervalMs: 1000, maxDataPoints: 30 });
    const rows = rowsOf(res.results.R.frames[0]);
    expect(rows.length).toBeLessThanOrEqual(31);
    expect(rows.length).toBeGreaterThanOrEqual(29);
  });

  test('rate: a huge range with a huge maxDataPoints is clamped, not refused', async () => {
    const to = Date.now();
    const res = await query(url, [{ refId: 'R', queryType: 'rate', source: SOURCE }], { from: to - 365 * 24 * 3600_000, to }, { maxDataPoints: 10_000_000 });
    const rows = rowsOf(res.results.R.frames[0]);
    expect(rows.length).toBeLessThanOrEqual(11_001);
    expect(rows.reduce((s, r) => s + (r.lines as number), 0)).toBe(service.pipelines.get(SOURCE)!.stats().linesScored);
  });

  test('templates: anomalous templates with counts, max score and an example', async () => {
    const res = await query(url, [{ refId: 'T', queryType: 'templates', source: SOURCE }]);
    const rows = rowsOf(res.results.T.frames[0]);
    expect(res.results.T.frames[0].schema.fields.map((f) => f.name)).toEqual(['template', 'source', 'count', 'maxScore', 'lastSeen', 'example']);
    const oom = rows.find((r) => r.example === anomalyLines[2]);
    expect(oom).toMatchObject({ source: SOURCE, count: 1 });
    const total = rows.reduce((s, r) => s + (r.count as number), 0);
    expect(total).toBe((await anomalies()).length);
  });

  test('several targets in one request answer under their refIds; hidden ones are skipped', async () => {
    const res = await query(url, [
      { refId: 'A', queryType: 'anomalies' },
      { refId: 'B', queryType: 'rate' },
      { refId: 'C', queryType: 'feedback' },
      { refId: 'H', queryType: 'anomalies', hide: true },
    ]);
    expect(Object.keys(res.results).sort()).toEqual(['A', 'B', 'C']);
  });
});

describe('bad input gets a clear 4xx JSON error and the service keeps serving', () => {
  afterEach(async () => {
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
  });

  test('unknown queryType names the field', async () => {
    const res = await postJson(`${url}/api/query`, { range: { from: 0, to: Date.now() }, targets: [{ refId: 'A', queryType: 'bogus' }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.field).toBe('targets.0.queryType');
    expect(body.error).toMatch(/queryType/);
  });

  test('malformed JSON', async () => {
    const res = await fetch(`${url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"range": {' });
    expect(res.status).toBe(400);
    expect(await res.json() as any).toMatchObject({ error: expect.stringMatching(/malformed JSON/), field: 'body' });
  });

  test('wrong types name the field', async () => {
    const cases: [unknown, string][] = [
      [{ range: { from: 'yesterday-ish', to: Date.now() }, targets: [] }, 'range.from'],
      [{ range: { from: 0, to: Date.now() }, targets: [{ refId: 'A', queryType: 'anomalies', minScore: 'high' }] }, 'targets.0.minScore'],
      [{ range: { from: 0, to: Date.now() }, targets: 'A' }, 'targets'],
      [{ range: { from: 0, to: Date.now() }, intervalMs: -5, targets: [] }, 'intervalMs'],
      [{ targets: [] }, 'range'],
    ];
    for (const [body, field] of cases) {
      const res = await postJson(`${url}/api/query`, body);
      expect(res.status).toBe(400);
      expect((await res.json() as any).field).toBe(field);
    }
  });

  test('a query too costly to build is refused with a 400 naming the limit, at once (it once ran the heap out)', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `s${i}`);
    const range = { from: 0, to: Date.now() };
    const many = await postJson(`${url}/api/query`, {
      range,
      maxDataPoints: 50_000,
      targets: ['A', 'B', 'C', 'D'].map((refId) => ({ refId, queryType: 'rate', source: names })),
    });
    expect(many.status).toBe(400);
    expect(await many.json()).toMatchObject({ field: 'targets.0.source', error: expect.stringMatching(/sourcesPerTarget/) });
    const costly = await postJson(`${url}/api/query`, {
      range,
      maxDataPoints: 50_000,
      targets: ['A', 'B', 'C', 'D'].map((refId) => ({ refId, queryType: 'rate', source: names.slice(0, 400) })),
    });
    expect(costly.status).toBe(400);
    expect(await costly.json()).toMatchObject({ field: 'maxDataPoints', error: expect.stringMatching(/pointsPerQuery/) });
    const tooManyTargets = await postJson(`${url}/api/query`, {
      range,
      targets: Array.from({ length: 51 }, (_, i) => ({ refId: `R${i}`, queryType: 'anomalies' })),
    });
    expect(tooManyTargets.status).toBe(400);
    expect(await tooManyTargets.json()).toMatchObject({ field: 'targets', error: expect.stringMatching(/targetsPerQuery/) });
  });

  test('a JSON array or a non-JSON body is refused', async () => {
    const arr = await postJson(`${url}/api/query`, []);
    expect(arr.status).toBe(400);
    const text = await fetch(`${url}/api/query`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(text.status).toBe(400);
    expect((await text.json() as any).field).toBe('body');
  });

  test('oversize body: 413', async () => {
    const big = JSON.stringify({ range: { from: 0, to: 1 }, targets: [], pad: 'x'.repeat(11 * 1024 * 1024) });
    const res = await fetch(`${url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    expect((await res.json() as any).error).toMatch(/too large/);
  });

  test('invalid UTF-8: 400', async () => {
    const body = Buffer.concat([Buffer.from('{"message":"bad '), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","kind":"confirmed"}')]);
    const res = await fetch(`${url}/api/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(400);
    expect((await res.json() as any).error).toMatch(/UTF-8/);
  });

  test('1 MB lines: refused on feedback and on push', async () => {
    const line = 'y'.repeat(1024 * 1024);
    const fb = await postJson(`${url}/api/feedback`, { message: line, kind: 'confirmed' });
    expect(fb.status).toBe(400);
    expect((await fb.json() as any).field).toBe('message');
    const push = await pushLines(url, SOURCE, [line]);
    expect(push.status).toBe(400);
    expect((await push.json() as any).error).toMatch(/longer than/);
  });

  test('unknown route and unknown anomaly: 404 JSON', async () => {
    const route = await fetch(`${url}/api/nope`);
    expect(route.status).toBe(404);
    expect((await route.json() as any).error).toMatch(/no route/);
    const ctx = await fetch(`${url}/api/anomalies/123-0000000000/context`);
    expect(ctx.status).toBe(404);
    expect((await ctx.json() as any).field).toBe('id');
  });

  test('a batch bigger than the queue bound: 413 naming the limit (a 429 would be retried forever), nothing accepted', async () => {
    const before = service.pipelines.get(SOURCE)!.stats().linesIngested;
    const lines = Array.from({ length: 200_001 }, (_, i) => `bulk line ${i}`);
    const res = await pushLines(url, SOURCE, lines);
    expect(res.status).toBe(413);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(((await res.json()) as { error: string }).error).toMatch(/more than 200000 lines .*queue\.maxLines/);
    expect(service.pipelines.get(SOURCE)!.stats().linesIngested).toBe(before);
  });
});

describe('GET /api/anomalies/:id/context', () => {
  test('returns the lines just before and after, in order, from the same source', async () => {
    const row = (await anomalies({ search: 'OutOfMemoryError' }))[0];
    const res = await fetch(`${url}/api/anomalies/${row.id}/context?before=3&after=2`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.anomaly).toMatchObject({ id: row.id, line: anomalyLines[2], anomaly: true, source: SOURCE });
    expect(body.before.map((r: { line: string }) => r.line)).toEqual(normalLines.slice(397, 400));
    expect(body.after.map((r: { line: string }) => r.line)).toEqual(normalLines.slice(400, 402));
    expect(body.before[0]).toMatchObject({ source: SOURCE, anomaly: expect.any(Boolean), suppressed: false, score: expect.any(Number) });
  });

  test('bad before/after: 400 naming the parameter', async () => {
    const row = (await anomalies())[0];
    const res = await fetch(`${url}/api/anomalies/${row.id}/context?before=-1`);
    expect(res.status).toBe(400);
    expect((await res.json() as any).field).toBe('before');
  });
});

describe('feedback', () => {
  test('POST with only message and kind fills in template; with anomalyId fills source, template and score', async () => {
    const bare = await postJson(`${url}/api/feedback`, { message: 'GET /health 200 3ms', kind: 'confirmed' });
    expect(bare.status).toBe(201);
    const rec = (await bare.json()) as any;
    expect(rec).toMatchObject({ message: 'GET /health 200 3ms', kind: 'confirmed', source: '*', score: null, comment: null, user: null });
    expect(rec.template).toMatch(/<NUM>|<DUR>/);
    expect(Date.parse(rec.time)).not.toBeNaN();

    const row = (await anomalies({ search: 'SocketTimeoutException' }))[0];
    const res = await postJson(`${url}/api/feedback`, { message: row.line, kind: 'confirmed', anomalyId: row.id, comment: 'real outage', user: 'ops' });
    expect(res.status).toBe(201);
    const filled = (await res.json()) as any;
    expect(filled).toMatchObject({ source: SOURCE, template: row.template, score: row.score, comment: 'real outage', user: 'ops' });
    const again = (await anomalies({ search: 'SocketTimeoutException' }))[0];
    expect(again.feedback).toBe('confirmed');
  });

  test('GET filters by source, kind and time; DELETE removes (204) and 404s when unknown', async () => {
    const a = (await (await postJson(`${url}/api/feedback`, { message: 'x 1', kind: 'confirmed', source: 'other' })).json()) as any;
    const all = (await (await fetch(`${url}/api/feedback`)).json() as any) as { id: string; source: string; kind: string }[];
    expect(all.map((r) => r.id)).toContain(a.id);
    const other = (await (await fetch(`${url}/api/feedback?source=other`)).json()) as any;
    expect(other.map((r: { id: string }) => r.id)).toEqual([a.id]);
    const fps = (await (await fetch(`${url}/api/feedback?kind=false_positive&source=other`)).json()) as any;
    expect(fps).toEqual([]);
    const future = (await (await fetch(`${url}/api/feedback?from=${Date.now() + 60_000}`)).json()) as any;
    expect(future).toEqual([]);
    const badKind = await fetch(`${url}/api/feedback?kind=maybe`);
    expect(badKind.status).toBe(400);
    expect((await badKind.json() as any).field).toBe('kind');

    expect((await fetch(`${url}/api/feedback/${a.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${url}/api/feedback/${a.id}`, { method: 'DELETE' })).status).toBe(404);
    const after = (await (await fetch(`${url}/api/feedback`)).json() as any) as { id: string }[];
    expect(after.map((r) => r.id)).not.toContain(a.id);
  });

  test('POST validation: kind and message required, wrong types named', async () => {
    for (const [body, field] of [
      [{ kind: 'confirmed' }, 'message'],
      [{ message: 'm' }, 'kind'],
      [{ message: 'm', kind: 'nope' }, 'kind'],
      [{ message: 'm', kind: 'confirmed', score: 'high' }, 'score'],
    ] as const) {
      const res = await postJson(`${url}/api/feedback`, body);
      expect(res.status).toBe(400);
      expect((await res.json() as any).field).toBe(field);
    }
  });

  test('a false positive suppresses a near-duplicate pushed afterwards: scored, stored, marked, counted', async () => {
    const line = anomalyLines[5]; // duplicate key ... orders_pkey
    const nearDuplicate = line.replace('exec-7', 'exec-12').replace('88213', '99999');
    // 1. the line is flagged
    await pushLines(url, SOURCE, [line]);
    const id = await waitFor(async () => (await anomalies({ search: 'orders_pkey' }))[0]?.id as string | undefined, 'first anomaly');
    // 2. someone marks it a false positive
    const fb = await postJson(`${url}/api/feedback`, { message: line, kind: 'false_positive', anomalyId: id });
    expect(fb.status).toBe(201);
    const suppressedBefore = service.pipelines.get(SOURCE)!.stats().suppressed;
    // 3. a near-duplicate arrives: scored and stored, but not flagged
    await pushLines(url, SOURCE, [nearDuplicate]);
    await waitFor(() => (service.pipelines.get(SOURCE)!.stats().suppressed > suppressedBefore ? true : undefined), 'suppressed count');
    expect(await anomalies({ search: 'orders_pkey' })).toEqual([]);
    const withSuppressed = await anomalies({ search: 'orders_pkey', includeSuppressed: true });
    expect(withSuppressed.map((r) => r.line).sort()).toEqual([line, nearDuplicate].sort());
    expect(withSuppressed.every((r) => r.suppressed === true && r.feedback === 'false_positive')).toBe(true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`lad_suppressed_total\\{source="${SOURCE}"\\} ${suppressedBefore + 1}`));
    // The next retraining learns it as normal.
    expect(service.facts.falsePositiveMessages(SOURCE)).toContain(line);
    // 4. deleting the feedback lifts the suppression for queries
    const record = (await fb.json()) as any;
    expect((await fetch(`${url}/api/feedback/${record.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await anomalies({ search: 'orders_pkey' })).map((r) => r.line)).toEqual([line]);
  });

  test('a false positive given by message alone (template from templateOf) also suppresses near-duplicates', async () => {
    const line = anomalyLines[6]; // SMTP relay refused
    const fb = await postJson(`${url}/api/feedback`, { message: line, kind: 'false_positive', source: SOURCE });
    expect(fb.status).toBe(201);
    const suppressedBefore = service.pipelines.get(SOURCE)!.stats().suppressed;
    await pushLines(url, SOURCE, [line.replace('554 5.7.1', '550 5.7.2')]);
    await waitFor(() => (service.pipelines.get(SOURCE)!.stats().suppressed > suppressedBefore ? true : undefined), 'suppression by message');
    expect(await anomalies({ search: 'SMTP relay' })).toEqual([]);
    expect((await anomalies({ search: 'SMTP relay', includeSuppressed: true })).length).toBe(1);
  });

  test('feedback query type returns the records as a frame', async () => {
    await postJson(`${url}/api/feedback`, { message: 'frame me', kind: 'confirmed', source: SOURCE, user: 'alice' });
    const res = await query(url, [{ refId: 'F', queryType: 'feedback', source: SOURCE, kind: 'confirmed' }]);
    const frame = res.results.F.frames[0];
    expect(frame.schema.fields.map((f) => f.name)).toEqual(['time', 'id', 'source', 'kind', 'message', 'template', 'score', 'comment', 'user']);
    const rows = rowsOf(frame);
    expect(rows.find((r) => r.message === 'frame me')).toMatchObject({ source: SOURCE, kind: 'confirmed', user: 'alice' });
    expect(rows.every((r) => r.kind === 'confirmed' && r.source === SOURCE)).toBe(true);
  });

  test('concurrent POSTs never lose each other: every record is in the file', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => postJson(`${url}/api/feedback`, { message: `concurrent ${i}`, kind: i % 2 ? 'confirmed' : 'false_positive', source: 'conc' })));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const ids = await Promise.all(results.map(async (r) => (await r.json() as any).id as string));
    const { readFileSync } = await import('node:fs');
    const onDisk = JSON.parse(readFileSync(`${dir}/fact-store.json`, 'utf8')) as { feedback: { id: string }[] };
    const diskIds = new Set(onDisk.feedback.map((r) => r.id));
    expect(ids.filter((id) => !diskIds.has(id))).toEqual([]);
  });

  test('precision is reported from confirmed vs false-positive records', async () => {
    const { factStore } = await fetchHealth(url);
    expect(factStore.precision).toBeCloseTo(factStore.confirmed / (factStore.confirmed + factStore.falsePositives));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const m = /^lad_precision (\S+)$/m.exec(metrics);
    expect(Number(m?.[1])).toBeCloseTo(factStore.precision!);
  });
});

describe('GET /metrics', () => {
  test('exposes the lad_* metrics with per-source values and default process metrics', async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    const stats = service.pipelines.get(SOURCE)!.stats();
    expect(text).toContain(`lad_lines_scored_total{source="${SOURCE}"} ${stats.linesScored}`);
    expect(text).toContain(`lad_lines_ingested_total{source="${SOURCE}"} ${stats.linesIngested}`);
    expect(text).toContain(`lad_anomalies_total{source="${SOURCE}"} ${stats.anomalies}`);
    expect(text).toContain(`lad_threshold{source="${SOURCE}"} ${stats.threshold}`);
    expect(text).toMatch(new RegExp(`lad_training_runs_total\\{source="${SOURCE}",result="ok",reason="initial"\\} 1`));
    expect(text).toMatch(new RegExp(`lad_score_count\\{source="${SOURCE}"\\} ${stats.linesScored}`));
    expect(text).toMatch(/lad_model_age_seconds\{source="shop"\} \d/);
    expect(text).toMatch(/lad_queue_depth\{source="shop"\} 0/);
    // The oversize batch above was refused for good (413), not asked to retry: not a refused-for-now line.
    expect(text).toMatch(/lad_refused_lines_total\{source="shop"\} 0/);
    expect(text).toMatch(/lad_feedback_total\{kind="confirmed"\} \d+/);
    expect(text).toMatch(/lad_model_state\{source="shop",state="ready"\} 1/);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
  });
});
