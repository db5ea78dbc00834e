/**
 * Answers that generalise, over real HTTP against a real service (engine, lowdb fact-store, results in a temp
 * dir): a confirmed line flags a similar line pushed next even though the model scores it normal; a false
 * positive quiets a neighbour with another template; both survive a restart (rebuilt from the fact-store);
 * DELETE takes an answer back.
 */
import { QUERY_LIMITS } from '../backend/api/query';
import type { ReviewResponse } from '../backend/api/review';
import type { Service } from '../backend/server/service';
import { normalLines, anomalyLines, postJson, pushLines, query, removeDir, rowsOf, startTestService, tempDir, waitScored } from './service-helpers';

jest.setTimeout(90_000);

const SOURCE = 'shop';
let dir: string;
let service: Service;
let pushed = 0;

async function push(lines: string[]): Promise<void> {
  expect((await pushLines(service.url, SOURCE, lines)).status).toBe(204);
  pushed += lines.length;
  await waitScored(service, SOURCE, pushed);
}

async function flagged(search: string): Promise<Record<string, unknown>[]> {
  const res = await query(service.url, [{ refId: 'A', queryType: 'anomalies', source: SOURCE, search }]);
  return rowsOf(res.results.A.frames[0]);
}

async function answer(message: string, kind: 'confirmed' | 'false_positive'): Promise<string> {
  const res = await postJson(`${service.url}/api/feedback`, { message, kind, source: SOURCE });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

// A routine line the model learns as normal, and its siblings with other numbers and another warehouse.
const routine = (n: number, warehouse: string): string =>
  `INFO  [scheduler-1] c.s.stock.StockSync - synced ${n} stock levels from warehouse ${warehouse} in ${n * 3}ms`;
const failure = anomalyLines[3]; // ERROR ... StockSync - warehouse fra-2 unreachable: java.net.SocketTimeoutException: connect timed out
const failureNeighbour = 'ERROR [scheduler-7] c.s.stock.StockSync - warehouse fra-2 unreachable: java.net.SocketTimeoutException: read timed out, retrying in 30s';

beforeAll(async () => {
  dir = tempDir();
  service = await startTestService(dir);
  await push(normalLines.slice(0, 300));
});

afterAll(async () => {
  await service?.close();
  removeDir(dir);
});

test('GET /api/review: one item per template, most teaching first, with what an answer would affect and why', async () => {
  await push([anomalyLines[0], anomalyLines[4], ...normalLines.slice(300, 340)]);
  const res = await fetch(`${service.url}/api/review?source=${SOURCE}&limit=5`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as ReviewResponse;
  expect(body.source).toBe(SOURCE);
  expect(body.items.length).toBe(5);
  expect(new Set(body.items.map((i) => i.template)).size).toBe(5);
  for (let i = 1; i < body.items.length; i++) expect(body.items[i - 1].priority).toBeGreaterThanOrEqual(body.items[i].priority);
  for (const item of body.items) {
    expect(item.affected).toBeGreaterThanOrEqual(1);
    expect(item.why.join('; ')).toMatch(/threshold/);
  }
  // the datasource's review queryType answers the same items as a frame
  const framed = await query(service.url, [{ refId: 'R', queryType: 'review', source: SOURCE, limit: 5 }]);
  const rows = rowsOf(framed.results.R.frames[0]);
  expect(rows.map((r) => r.template)).toEqual(body.items.map((i) => i.template));
  expect(rows[0]).toMatchObject({ source: SOURCE, affected: body.items[0].affected, why: body.items[0].why.join('; ') });
  for (const [params, field, status] of [
    ['', 'source', 400],
    [`source=${SOURCE}&limit=0`, 'limit', 400],
    [`source=${SOURCE}&limit=many`, 'limit', 400],
    ['source=nosuch', 'source', 404],
  ] as const) {
    const bad = await fetch(`${service.url}/api/review?${params}`);
    expect(bad.status).toBe(status);
    expect(((await bad.json()) as { field?: string }).field).toBe(field);
  }
});

async function reviewItems(): Promise<ReviewResponse['items']> {
  const res = await fetch(`${service.url}/api/review?source=${SOURCE}&limit=200`);
  expect(res.status).toBe(200);
  return ((await res.json()) as ReviewResponse).items;
}

test('a review item names its stored line, whose context the service answers; an answered item leaves the queue, also after a restart, and DELETE brings it back', async () => {
  const [item] = await reviewItems();
  expect(item.lineId).toMatch(/^\d+-[0-9a-f]{10}$/);
  const ctx = await fetch(`${service.url}/api/anomalies/${item.lineId!}/context?before=2&after=2`);
  expect(ctx.status).toBe(200);
  const around = (await ctx.json()) as { anomaly: { line: string }; before: unknown[]; after: unknown[] };
  expect(around.anomaly.line).toBe(item.line);
  expect(around.before.length).toBe(2);

  const id = await answer(item.line, 'false_positive');
  expect((await reviewItems()).map((i) => i.line)).not.toContain(item.line);
  // the fact-store is the truth: a restarted service (its window filled again by the same lines) does not ask again
  await service.close();
  service = await startTestService(dir);
  pushed = 0;
  await push([...normalLines.slice(0, 300), anomalyLines[0], anomalyLines[4], ...normalLines.slice(300, 340)]);
  const afterRestart = await reviewItems();
  expect(afterRestart.length).toBeGreaterThan(0);
  expect(afterRestart.map((i) => i.line)).not.toContain(item.line);
  // Undo: the line is asked about again
  expect((await fetch(`${service.url}/api/feedback/${id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await reviewItems()).some((i) => i.line === item.line || i.template === item.template)).toBe(true);
});

test('review targets count against QUERY_LIMITS: items per source, sources per target, lines examined (400s name the field)', async () => {
  const lines = service.pipelines.get(SOURCE)!.reviewLines();
  expect(lines).toBeGreaterThan(300);
  const ok = await query(service.url, [{ refId: 'R', queryType: 'review', source: SOURCE, limit: QUERY_LIMITS.reviewItemsPerSource }]);
  expect(rowsOf(ok.results.R.frames[0]).length).toBeGreaterThan(0);
  // each named source runs its queue, repeats too: enough repeats of one source pass the lines examined
  const repeats = Math.floor(QUERY_LIMITS.reviewLinesPerQuery / lines) + 1;
  for (const [target, field, limit] of [
    [{ limit: QUERY_LIMITS.reviewItemsPerSource + 1, source: SOURCE }, 'targets.0.limit', 'reviewItemsPerSource'],
    [{ source: Array<string>(QUERY_LIMITS.sourcesPerTarget + 1).fill(SOURCE) }, 'targets.0.source', 'sourcesPerTarget'],
    [{ source: Array<string>(repeats).fill(SOURCE) }, 'targets', 'reviewLinesPerQuery'],
  ] as const) {
    const res = await postJson(`${service.url}/api/query`, { range: { from: 0, to: Date.now() }, targets: [{ refId: 'R', queryType: 'review', ...target }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { field?: string; error?: string; message?: string };
    expect(body.field).toBe(field);
    expect(JSON.stringify(body)).toContain(limit);
  }
  const tooMany = await fetch(`${service.url}/api/review?source=${SOURCE}&limit=${QUERY_LIMITS.reviewItemsPerSource + 1}`);
  expect(tooMany.status).toBe(400);
  expect(((await tooMany.json()) as { field?: string }).field).toBe('limit');
});

test('confirm, false positive, restart, DELETE', async () => {
  // Unsupervised alone: a routine sibling is normal, the failure's neighbour is flagged.
  await push([routine(171, 'lon-1'), failureNeighbour.replace('30s', '31s')]);
  expect(await flagged('synced 171')).toEqual([]);
  expect((await flagged('retrying in 31s')).length).toBe(1);

  // 1. confirming a line flags the similar line pushed next, saying why
  const confirmed = await answer(routine(161, 'lon-1'), 'confirmed');
  await push([routine(172, 'lon-1')]);
  const [like] = await flagged('synced 172');
  expect(like?.reason).toContain(`like confirmed anomaly ${confirmed}`);

  // 2. a false positive quiets a neighbour of another template (more tokens), not only its own
  expect(service.pipelines.get(SOURCE)!.templateOf(failure)).not.toBe(service.pipelines.get(SOURCE)!.templateOf(failureNeighbour));
  await answer(failure, 'false_positive');
  await push([failureNeighbour.replace('30s', '32s')]);
  expect(await flagged('retrying in 32s')).toEqual([]);
  // ... but a different failure is still flagged
  await push([anomalyLines[8]]); // ERROR ... OrderEvents - deserialisation failed at offset ...
  expect((await flagged('deserialisation failed')).length).toBe(1);

  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  expect(metrics).toMatch(new RegExp(`lad_feedback_answers_applied\\{source="${SOURCE}"\\} 2`));
  expect(metrics).toMatch(new RegExp(`lad_feedback_changed_lines_total\\{source="${SOURCE}"\\} [1-9]`));

  // 3. a restart rebuilds both from the fact-store
  await service.close();
  service = await startTestService(dir);
  pushed = 0; // the push source comes back with the first push, its saved model loaded from disk
  await push([routine(173, 'lon-1'), failureNeighbour.replace('30s', '33s')]);
  expect((await flagged('synced 173'))[0]?.reason).toContain(`like confirmed anomaly ${confirmed}`);
  expect(await flagged('retrying in 33s')).toEqual([]);

  // 4. DELETE takes the confirmation back
  expect((await fetch(`${service.url}/api/feedback/${confirmed}`, { method: 'DELETE' })).status).toBe(204);
  await push([routine(174, 'lon-1')]);
  expect(await flagged('synced 174')).toEqual([]);
});
