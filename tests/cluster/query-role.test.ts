/**
 * The query role against a real PostgreSQL and a real nats-server: anomalies and counts written by the sink
 * (as a scoring worker writes them) are answered by the datasource API, context lines come back from the
 * stream, feedback lands in the PostgreSQL fact-store; PostgreSQL stopped gives 503s naming it, and the same
 * process answers again once it is back.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import pino from 'pino';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { healthSchema } from '../../backend/contract';
import { ensureClusterResources, type ClusterResources } from '../../backend/cluster/nats/resources';
import { linesSubject, type ClusterScoredLine, type StreamLine } from '../../backend/cluster/ports';
import type { PostgresPool } from '../../backend/cluster/postgres/pool';
import { openPostgres, PostgresResultsSink } from '../../backend/cluster/postgres/results-sink';
import { startQueryRole, type QueryRoleHandle } from '../../backend/cluster/query-role';
import { Metrics } from '../../backend/metrics/metrics';
import { loadConfig } from '../../backend/server/config';
import type { FeedbackRecord } from '../../backend/store/fact-store';
import { PostgresFactStore } from '../../backend/store/fact-store-postgres';
import type { AnomalyContext } from '../../backend/store/results-reader';
import { queryRouter } from '../../backend/api/query';
import type { ReviewItem } from '../../backend/feedback/review-queue';
import { RateHistory, type RateEvent } from '../../backend/pipeline/rate-history';
import { batchesOf, ScoredBatch } from '../../backend/store/results-writer';
import { closeServer, listenLoopback } from '../../backend/testing/loopback';
import { startNatsServer, type NatsServer } from './nats-server';
import { startPostgres, type PostgresServer } from './postgres-server';

let pg: PostgresServer;
let nats: NatsServer;
let nc: NatsConnection;
let resources: ClusterResources;
let pool: PostgresPool;
let facts: PostgresFactStore;
let role: QueryRoleHandle;
let server: Server;
let base: string;
const T0 = Date.now() - 60_000;
/** Stream sequence of each published line, by source and index. */
const seqs = new Map<string, number[]>();

async function publish(source: string, n: number): Promise<void> {
  const list = seqs.get(source) ?? [];
  for (let i = 0; i < n; i++) {
    const line: StreamLine = { source, t: T0 + list.length * 10, line: `${source} line ${list.length}`, labels: { job: source } };
    const ack = await resources.js.publish(linesSubject(source), JSON.stringify(line));
    list.push(ack.seq);
  }
  seqs.set(source, list);
}

function scored(source: string, i: number, anomaly: boolean): ClusterScoredLine {
  return {
    source,
    seq: seqs.get(source)![i],
    time: T0 + i * 10,
    line: `${source} line ${i}`,
    labels: { job: source },
    score: anomaly ? 9 : 1,
    threshold: 5,
    anomaly,
    suppressed: false,
    template: `${source} line <*>`,
    reason: anomaly ? 'rare template' : '',
    level: null,
  };
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

interface FrameJson {
  schema: { fields: { name: string }[] };
  data: { values: unknown[][] };
}

/** The named columns of the first frame of `refId` in a /api/query answer. */
async function columns(res: Response, refId: string): Promise<Record<string, unknown[]>> {
  const body = (await res.json()) as { results: Record<string, { frames: FrameJson[] }> };
  const frame = body.results[refId].frames[0];
  return Object.fromEntries(frame.schema.fields.map((f, i) => [f.name, frame.data.values[i]]));
}

async function getJson<T>(path: string): Promise<T> {
  return (await (await fetch(base + path)).json()) as T;
}

const anomaliesQuery = (source: string) => ({ range: { from: T0 - 1000, to: Date.now() + 1000 }, targets: [{ refId: 'A', queryType: 'anomalies', source }] });

beforeAll(async () => {
  [pg, nats] = await Promise.all([startPostgres(), startNatsServer()]);
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  resources = await ensureClusterResources(nc, 10);
  pool = await openPostgres(pg.url);
  facts = await PostgresFactStore.open(pool);
  const config = loadConfig({ LAD_MODE: 'cluster', LAD_ROLES: 'query', LAD_NATS_URL: nats.url, LAD_POSTGRES_URL: pg.url });
  role = await startQueryRole({ config, logger: pino({ level: 'silent' }), pool, facts, nats: resources, metrics: new Metrics() });
  const app = express();
  app.use(role.router);
  server = createServer(app);
  base = await listenLoopback(server);
  // two sources interleaved in the stream: context must keep to its own source
  for (let round = 0; round < 5; round++) {
    await publish('api', 10);
    await publish('db', 7);
  }
  const sink = new PostgresResultsSink(pool, { bucketMs: config.retention.bucketSeconds * 1000 });
  for (const batch of batchesOf(Array.from({ length: 50 }, (_, i) => scored('api', i, i === 25 || i === 40)))) await sink.writeBatch(batch);
  for (const batch of batchesOf(Array.from({ length: 35 }, (_, i) => scored('db', i, i === 3)))) await sink.writeBatch(batch);
  await role.results.refreshNames();
}, 90_000);

afterAll(async () => {
  await closeServer(server);
  await role?.close();
  await facts?.close();
  await pool?.close();
  await nc?.close();
  await Promise.all([pg?.close(), nats?.stop()]);
});

test('anomalies, counts and source names come from PostgreSQL', async () => {
  const res = await post('/api/query', anomaliesQuery('api'));
  expect(res.status).toBe(200);
  const fields = await columns(res, 'A');
  expect(fields.line).toEqual(['api line 40', 'api line 25']);
  expect(fields.score).toEqual([9, 9]);
  const rate = await post('/api/query', { range: { from: T0, to: T0 + 600 }, maxDataPoints: 1, targets: [{ refId: 'R', queryType: 'rate', source: 'api' }] });
  const lines = (await columns(rate, 'R')).lines as number[];
  expect(lines.reduce((a, b) => a + b, 0)).toBe(50);
  expect(await getJson('/api/sources')).toEqual(['api', 'db']);
});

test('context lines are read back from the stream, from the anomaly source only', async () => {
  const id = (await columns(await post('/api/query', anomaliesQuery('api')), 'A')).id[1] as string;
  const context = await getJson<AnomalyContext>(`/api/anomalies/${id}/context?before=12&after=3`);
  expect(context.anomaly.line).toBe('api line 25');
  expect(context.before.map((r) => r.line)).toEqual(Array.from({ length: 12 }, (_, i) => `api line ${13 + i}`));
  expect(context.after.map((r) => r.line)).toEqual(['api line 26', 'api line 27', 'api line 28']);
  expect(context.before[0]).toMatchObject({ source: 'api', anomaly: false, score: null, labels: { job: 'api' } });
  const near = await getJson<AnomalyContext>(`/api/anomalies/${id}/context?before=0&after=15`);
  // line 40 is stored as an anomaly: it comes back with its score
  expect(near.after[14]).toMatchObject({ line: 'api line 40', anomaly: true, score: 9 });
  expect((await fetch(`${base}/api/anomalies/1-0123456789/context`)).status).toBe(404);
});

test('context of a quiet source among a busy one: the stream window grows until it holds the lines before', async () => {
  // 'quiet' lines 600 sequences apart: the first window (32 sequences a wanted line) holds none of them
  for (let i = 0; i < 6; i++) {
    await publish('quiet', 1);
    await publish('busy', 600);
  }
  const sink = new PostgresResultsSink(pool, { bucketMs: 10_000 });
  for (const batch of batchesOf(Array.from({ length: 6 }, (_, i) => scored('quiet', i, i === 5)))) await sink.writeBatch(batch);
  const id = (await columns(await post('/api/query', anomaliesQuery('quiet')), 'A')).id[0] as string;
  const started = performance.now();
  const context = await getJson<AnomalyContext>(`/api/anomalies/${id}/context?before=5&after=5`);
  const ms = performance.now() - started;
  expect(context.before.map((r) => r.line)).toEqual(['quiet line 0', 'quiet line 1', 'quiet line 2', 'quiet line 3', 'quiet line 4']);
  expect(context.after).toEqual([]);
  process.stdout.write(`context of 5 lines spread over ${seqs.get('quiet')![5] - seqs.get('quiet')![0]} stream sequences: ${ms.toFixed(0)} ms\n`);
}, 30_000);

test('feedback goes to the PostgreSQL fact-store and suppresses in queries', async () => {
  const id = (await columns(await post('/api/query', anomaliesQuery('db')), 'A')).id[0] as string;
  const created = await post('/api/feedback', { message: 'db line 3', kind: 'false_positive', anomalyId: id });
  expect(created.status).toBe(201);
  const record = (await created.json()) as FeedbackRecord;
  expect(record).toMatchObject({ source: 'db', template: 'db line <*>', score: 9, anomalyId: id });
  const { rows } = await pool.query('SELECT source, template FROM lad_feedback WHERE id = $1', [record.id]);
  expect(rows).toEqual([{ source: 'db', template: 'db line <*>' }]);
  expect((await columns(await post('/api/query', anomaliesQuery('db')), 'A')).id).toEqual([]);
});

/**
 * The same rate history and review queue given to an embedded router (in memory, as the pipeline keeps them)
 * and written to PostgreSQL through the sink (as a worker writes them): the query replica answers the same
 * frames. The batch is written twice (a replay after a failover): nothing is counted twice.
 */
test('template_rates, rate_events and review come from PostgreSQL, in the embedded frames', async () => {
  const source = 'rates';
  const width = 60_000;
  const start = Math.floor(T0 / width) * width;
  const history = new RateHistory();
  const batch = new ScoredBatch().reset(source, 5);
  batch.rateIntervalMs = width;
  const templates = [
    { id: 3, text: 'GET /api <*>', perInterval: [4, 5, 4, 14, 0, 4], expected: 4 },
    { id: 8, text: 'cache refresh <*>', perInterval: [2, 2, 2, 0, 0, 0], expected: 2 },
  ];
  let seq = 0;
  for (let k = 0; k < 6; k++) {
    for (const t of templates) {
      for (let n = 0; n < t.perInterval[k]; n++) {
        const time = start + k * width + n * 100;
        const i = batch.add({ timestampMs: time, line: `${t.text} ${n}`, labels: {} }, 1, false, false, t.text, '', null, ++seq);
        batch.setRate(i, t.id, start + k * width, t.expected);
        history.count(t.id, t.text, start + k * width, t.expected);
        if (t.id === 3 && k === 3 && n === 9) {
          // the surge is raised at its tenth line; its observed count follows the interval's later lines
          const surge: RateEvent = { time: start + 3 * width, template: t.text, kind: 'surge', observed: 10, expected: 4, interval: '1 min' };
          history.event({ ...surge }, 3);
          batch.rateEvents.push({ templateId: 3, event: surge });
        }
      }
    }
  }
  const drop: RateEvent = { time: start + 3 * width, template: 'cache refresh <*>', kind: 'drop', observed: 0, expected: 2, interval: '1 min' };
  history.event({ ...drop }, 8);
  const sink = new PostgresResultsSink(pool, { bucketMs: 10_000 });
  expect((await sink.writeBatch(batch)).counted).toBe(seq);
  // a drop found by the clock between batches: written alone
  const alone = new ScoredBatch().reset(source, 5);
  alone.rateEvents.push({ templateId: 8, event: drop });
  await sink.writeBatch(alone);
  // a new owner replaying the same lines and raising the same events
  batch.rateEvents.push({ templateId: 8, event: drop });
  expect(await sink.writeBatch(batch)).toEqual({ anomalies: 0, counted: 0, duplicates: seq });
  const items: ReviewItem[] = [
    { line: 'GET /api 3', lineId: `7-0123456789`, template: 'GET /api <*>', score: 4.9, threshold: 5, flagged: false, affected: 12, templateLines: 30, priority: 3.5, why: ['score 4.90 is 0.10 below the threshold 5.00'] },
  ];
  await sink.writeReview(source, items);
  await role.results.refreshNames();

  const embedded = express();
  embedded.use(express.json());
  embedded.use(queryRouter({ results: role.results, facts, sourceNames: () => [source], review: () => items, rates: () => ({ history, intervalMs: width }) }));
  const local = createServer(embedded);
  const localBase = await listenLoopback(local);
  try {
    const body = {
      range: { from: start, to: start + 6 * width },
      targets: [
        { refId: 'T', queryType: 'template_rates', source },
        { refId: 'E', queryType: 'rate_events', source },
        { refId: 'V', queryType: 'review', source },
      ],
    };
    const ask = async (where: string) => {
      const res = await fetch(`${where}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      return (await res.json()) as { results: Record<string, { frames: FrameJson[] }> };
    };
    const [cluster, memory] = await Promise.all([ask(base), ask(localBase)]);
    expect(cluster).toEqual(memory);
    // and they hold what was written
    expect(cluster.results.T.frames).toHaveLength(2);
    const events = await columns(new Response(JSON.stringify(cluster)), 'E');
    expect(events.kind).toEqual(['surge', 'drop']);
    expect(events.observed).toEqual([14, 0]);
    const observed = cluster.results.T.frames[0].data.values[1];
    expect(observed).toEqual([4, 5, 4, 14, 0, 4]);
    expect((await columns(new Response(JSON.stringify(cluster)), 'V')).lineId).toEqual(['7-0123456789']);
    expect(JSON.stringify(cluster)).not.toMatch(/notices/);
  } finally {
    await closeServer(local);
  }
});

test('PostgreSQL stopped: 503 naming PostgreSQL, no crash; answers again once it is back', async () => {
  await pg.stop('immediate');
  const started = Date.now();
  const down = await post('/api/query', anomaliesQuery('api'));
  expect(down.status).toBe(503);
  const body = (await down.json()) as { error: string };
  expect(body.error).toMatch(new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${pg.port}/postgres is unavailable`));
  expect(Date.now() - started).toBeLessThan(5000);
  const health = await fetch(`${base}/api/health`);
  expect(health.status).toBe(503);
  expect(((await health.json()) as { error: string }).error).toMatch(/PostgreSQL/);
  // feedback cannot be stored either: 503, not 500
  expect((await post('/api/feedback', { message: 'x', kind: 'confirmed', source: 'api' })).status).toBe(503);
  await pg.start();
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = (await post('/api/query', anomaliesQuery('api'))).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  expect(status).toBe(200);
  const healthy = await fetch(`${base}/api/health`);
  expect(healthy.status).toBe(200);
  // What the plugin's app page and "Save & test" parse (backend/contract/health.ts).
  expect(healthSchema.safeParse(await healthy.json()).error?.issues ?? []).toEqual([]);
}, 30_000);

test('nats-server killed: context answers 503 naming NATS, anomalies still answer; context again once it is back', async () => {
  const id = (await columns(await post('/api/query', anomaliesQuery('api')), 'A')).id[0] as string;
  await nats.kill();
  const started = performance.now();
  const down = await fetch(`${base}/api/anomalies/${id}/context?before=3&after=3`);
  const ms = performance.now() - started;
  expect(down.status).toBe(503);
  expect(((await down.json()) as { error: string }).error).toMatch(/^NATS JetStream \(stream LAD_LINES\) did not answer for context lines/);
  expect((await post('/api/query', anomaliesQuery('api'))).status).toBe(200);
  await nats.restart();
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = (await fetch(`${base}/api/anomalies/${id}/context?before=3&after=3`)).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  expect(status).toBe(200);
  process.stdout.write(`context with NATS down: 503 after ${ms.toFixed(0)} ms\n`);
}, 60_000);
