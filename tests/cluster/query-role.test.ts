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
  await sink.writeBatch(Array.from({ length: 50 }, (_, i) => scored('api', i, i === 25 || i === 40)));
  await sink.writeBatch(Array.from({ length: 35 }, (_, i) => scored('db', i, i === 3)));
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
  await sink.writeBatch(Array.from({ length: 6 }, (_, i) => scored('quiet', i, i === 5)));
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
