/**
 * A scoring worker's source scorer against a real nats-server and PostgreSQL writes what the query replica needs
 * beside anomalies and counts: the rate model's per-template interval counts (every scored line once, as the
 * line counts), the source's rate interval and its review queue; the query role then answers template_rates and
 * review targets for that source with rows, not empty frames, and an answer takes its item out of the queue.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import pino from 'pino';
import * as engine from '../../backend/engine';
import { ensureClusterResources, type ClusterResources } from '../../backend/cluster/nats/resources';
import { connectNats, type NatsLink } from '../../backend/cluster/nats/connection';
import { linesSubject, type StreamLine } from '../../backend/cluster/ports';
import type { PostgresPool } from '../../backend/cluster/postgres/pool';
import { openPostgres, PostgresResultsSink } from '../../backend/cluster/postgres/results-sink';
import { startQueryRole, type QueryRoleHandle } from '../../backend/cluster/query-role';
import { SourceScorer } from '../../backend/cluster/source-scorer';
import { Metrics } from '../../backend/metrics/metrics';
import { loadConfig } from '../../backend/server/config';
import { PostgresFactStore } from '../../backend/store/fact-store-postgres';
import { closeServer, listenLoopback } from '../../backend/testing/loopback';
import { startNatsServer, type NatsServer } from './nats-server';
import { startPostgres, type PostgresServer } from './postgres-server';

const logger = pino({ level: 'silent' });
const SOURCE = 'web';
const LINES = 400;
/** One line every 6 s: the 200 training lines span 20 one-minute intervals, enough for a timed rate model. */
const STEP_MS = 6000;
const T0 = Math.floor((Date.now() - 3 * 3600_000) / 60_000) * 60_000;

let pg: PostgresServer;
let nats: NatsServer;
let link: NatsLink;
let resources: ClusterResources;
let pool: PostgresPool;
let facts: PostgresFactStore;
let role: QueryRoleHandle;
let scorer: SourceScorer;
let server: Server;
let base: string;

beforeAll(async () => {
  [pg, nats] = await Promise.all([startPostgres(), startNatsServer()]);
  link = await connectNats(nats.url, logger, 'test');
  resources = await ensureClusterResources(link.nc, 10);
  pool = await openPostgres(pg.url);
  facts = await PostgresFactStore.open(pool);
  const config = loadConfig({ LAD_MODE: 'cluster', LAD_ROLES: 'score,query', LAD_NATS_URL: nats.url, LAD_POSTGRES_URL: pg.url, LAD_TRAIN_LINES: '200', LAD_TRAIN_IN_WORKER: 'false' });
  role = await startQueryRole({ config, logger, pool, facts, nats: resources, metrics: new Metrics() });
  const app = express();
  app.use(role.router);
  server = createServer(app);
  base = await listenLoopback(server);
  const verbs = ['GET /api/items', 'POST /api/orders', 'GET /health'];
  for (let i = 0; i < LINES; i++) {
    const line: StreamLine = { source: SOURCE, t: T0 + i * STEP_MS, line: `${verbs[i % 3]} status=200 took=${i % 40}ms`, labels: {} };
    await resources.js.publish(linesSubject(SOURCE), JSON.stringify(line));
  }
  scorer = new SourceScorer(SOURCE, 1, {
    js: resources.js,
    jsm: resources.jsm,
    models: () => ({ load: async () => null, save: async () => undefined }),
    sink: new PostgresResultsSink(pool, { bucketMs: config.retention.bucketSeconds * 1000 }),
    facts,
    engine,
    training: config.training,
    batchLines: 100,
    metrics: new Metrics(),
    logger,
  });
  scorer.start();
}, 90_000);

afterAll(async () => {
  await scorer?.stop();
  await closeServer(server);
  await role?.close();
  await facts?.close();
  await pool?.close();
  await link?.close();
  await Promise.all([pg?.close(), nats?.stop()]);
});

/** Polls an async check (the shared waitUntil takes a synchronous one). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function sum(sql: string): Promise<number> {
  const { rows } = await pool.query<{ n: string | null }>(sql, [SOURCE]);
  return Number(rows[0].n ?? 0);
}

test('every scored line is in the template interval counts, and the review queue is written', async () => {
  await eventually(async () => (await sum('SELECT sum(lines) AS n FROM lad_counts WHERE source = $1')) === LINES, 'every line counted', 60_000);
  expect(await sum('SELECT sum(observed) AS n FROM lad_template_counts WHERE source = $1')).toBe(LINES);
  expect(await sum('SELECT interval_ms AS n FROM lad_rate_intervals WHERE source = $1')).toBe(60_000);
  await eventually(async () => (await sum('SELECT count(*) AS n FROM lad_review WHERE source = $1')) === 1, 'review queue written', 15_000);
  await role.results.refreshNames();

  const res = await fetch(`${base}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      range: { from: T0, to: T0 + LINES * STEP_MS },
      targets: [
        { refId: 'T', queryType: 'template_rates', source: SOURCE },
        { refId: 'V', queryType: 'review', source: SOURCE, limit: 5 },
      ],
    }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: Record<string, { frames: { schema: { name: string; meta?: unknown }; data: { values: unknown[][] } }[] }> };
  const series = body.results.T.frames;
  // GET and POST lines (the paths are masked): one series each, together every line
  expect(series.map((f) => f.schema.name).sort()).toEqual([`${SOURCE} GET <PATH> status=<NUM> took=<DUR>`, `${SOURCE} POST <PATH> status=<NUM> took=<DUR>`]);
  const observed = series.flatMap((f) => f.data.values[1] as number[]);
  expect(observed.reduce((a, b) => a + b, 0)).toBe(LINES);
  const review = body.results.V.frames[0];
  expect(review.schema.meta).toMatchObject({ preferredVisualisationType: 'table' });
  expect((review.data.values[0] as string[]).every((s) => s === SOURCE)).toBe(true);
  expect(JSON.stringify(body)).not.toMatch(/notices/);
}, 90_000);

test('an answer posted to the query replica takes its item out of the replica\'s review queue within seconds', async () => {
  const queue = async () => (await pool.query<{ items: { line: string; template: string }[] }>('SELECT items FROM lad_review WHERE source = $1', [SOURCE])).rows[0]?.items ?? [];
  const [first] = await queue();
  expect(first).toBeDefined();
  const started = Date.now();
  const res = await fetch(`${base}/api/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ source: SOURCE, message: first.line, kind: 'false_positive' }),
  });
  expect(res.status).toBe(201);
  await eventually(async () => !(await queue()).some((item) => item.template === first.template), 'the answered item gone from lad_review', 5_000);
  process.stdout.write(`answered review item gone from the replica's queue after ${Date.now() - started} ms\n`);
}, 30_000);
