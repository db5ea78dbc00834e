/**
 * `npm run bench -- --only cluster`: cluster mode's throughput and cost against the embedded service, in one
 * run on this machine, every role a process of the built backend with a throwaway nats-server and PostgreSQL.
 * - lines/s through ingest → JetStream → scoring → PostgreSQL with 1, 2 and 3 workers (one ingest replica):
 *   the lines of LAD_BENCH_CLUSTER_LINES (default 100,000) pushed over SOURCES sources after every source
 *   has trained, timed from the first push until PostgreSQL has counted the last line;
 * - the same push into the embedded service (spool on), timed until its pipelines scored the last line;
 * - CPU per line (user + system of every process involved: LAD processes, nats-server, PostgreSQL's), and
 *   the cluster's cost per line as a ratio to the embedded one;
 * - failover: kill -9 of one of 3 workers under load, until the others hold its leases (and until /api/cluster shows it).
 * Runs only when named: it starts a dozen processes and takes a few minutes.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import pg from 'pg';
import type { BenchContext, BenchRow } from './bench-api';
import { startBuiltServer, type BuiltServer } from '../testing/built-server';
import { startNatsServer, type NatsServer } from '../testing/nats-server';
import { startPostgres, type PostgresServer } from '../testing/postgres-server';

export const runOnlyWhenNamed = true;

const SOURCES = 10;
const TRAIN_LINES = 2000;
const LINES_PER_REQUEST = 2000;
const CONCURRENT_REQUESTS = 4;
const LEASE_SECONDS = 3;
const TICKS_PER_SECOND = 100;

function lineOf(s: number, k: number): string {
  return k % 997 === 0
    ? `ERROR [payment-worker-${s}] provider returned 502 Bad Gateway order=ord-${k.toString(16)}`
    : `INFO [http-nio-exec-${k % 31}] GET /api/products/${k % 9973} 200 ${k % 97}ms user=user-${k % 50_021}`;
}

function body(s: number, from: number, n: number): string {
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = lineOf(s, from + i);
  return out.join('\n');
}

/** user + system CPU seconds of a process (0 once it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The postmaster and its children (backends, writer, WAL): PostgreSQL's share of the work. */
function postgresPids(dataDir: string): number[] {
  const master = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [master];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === master) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Pushes `perSource` lines of every source starting at `from`, retrying 429/503; resolves with the wall ms. */
async function pushAll(urls: string[], from: number, perSource: number): Promise<number> {
  const requests: [number, number, number][] = [];
  for (let at = from; at < from + perSource; at += LINES_PER_REQUEST) {
    for (let s = 0; s < SOURCES; s++) requests.push([s, at, Math.min(LINES_PER_REQUEST, from + perSource - at)]);
  }
  let next = 0;
  const started = Date.now();
  const lane = async (l: number) => {
    while (next < requests.length) {
      const [s, at, n] = requests[next++];
      const text = body(s, at, n);
      for (let attempt = 0; ; attempt++) {
        const url = urls[(l + attempt) % urls.length];
        const res = await fetch(`${url}/api/push?source=bench-${s}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text });
        await res.arrayBuffer();
        if (res.status === 204) break;
        if (res.status !== 429 && res.status !== 503) throw new Error(`push answered ${res.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, (_, l) => lane(l)));
  return Date.now() - started;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Measured {
  pushMs: number;
  totalMs: number;
  cpuSeconds: number;
  /** Cluster runs: CPU seconds per part. */
  parts?: Record<Part, number>;
}

async function embedded(ctx: BenchContext, lines: number): Promise<Measured> {
  const server = await startBuiltServer({ env: { LAD_DATA_DIR: join(ctx.tmpDir, 'embedded'), LAD_DEMO: 'false', LAD_TRAIN_LINES: String(TRAIN_LINES), LAD_LOG_LEVEL: 'info' } });
  const scored = async () => {
    const health = (await (await fetch(`${server.url}/api/health`)).json()) as { sources: { linesScored: number }[] };
    return health.sources.reduce((n, s) => n + s.linesScored, 0);
  };
  try {
    await pushAll([server.url], 0, TRAIN_LINES);
    await waitFor(async () => (await scored()) >= TRAIN_LINES * SOURCES, 'embedded warm-up scored');
    const cpuBefore = cpuSeconds(server.child.pid!);
    const started = Date.now();
    const pushMs = await pushAll([server.url], TRAIN_LINES, lines / SOURCES);
    await waitFor(async () => (await scored()) >= TRAIN_LINES * SOURCES + lines, 'embedded lines scored');
    return { pushMs, totalMs: Date.now() - started, cpuSeconds: cpuSeconds(server.child.pid!) - cpuBefore };
  } finally {
    await server.stop('SIGTERM');
  }
}

interface ClusterRun {
  workerEnv: Parameters<typeof startBuiltServer>[0];
  nats: NatsServer;
  pgServer: PostgresServer;
  db: pg.Pool;
  ingest: BuiltServer;
  workers: BuiltServer[];
}

async function startCluster(ctx: BenchContext, workers: number): Promise<ClusterRun> {
  const [nats, pgServer] = await Promise.all([startNatsServer(), startPostgres()]);
  const env = (roles: string) => ({
    env: {
      LAD_MODE: 'cluster',
      LAD_ROLES: roles,
      LAD_NATS_URL: nats.url,
      LAD_POSTGRES_URL: pgServer.url,
      LAD_LEASE_SECONDS: String(LEASE_SECONDS),
      LAD_DEMO: 'false',
      LAD_TRAIN_LINES: String(TRAIN_LINES),
      LAD_LOG_LEVEL: 'info',
      LAD_DATA_DIR: join(ctx.tmpDir, 'cluster'),
    },
  });
  const [ingest, ...ws] = await Promise.all([startBuiltServer(env('ingest')), ...Array.from({ length: workers }, () => startBuiltServer(env('score')))]);
  const db = new pg.Pool({ connectionString: pgServer.url, max: 1 });
  db.on('error', () => undefined);
  return { workerEnv: env('score'), nats, pgServer, db, ingest, workers: ws };
}

async function stopCluster(c: ClusterRun): Promise<void> {
  await Promise.all([c.ingest, ...c.workers].map((p) => p.stop('SIGKILL')));
  await c.db.end();
  await Promise.all([c.nats.stop(), c.pgServer.close()]);
}

async function counted(db: pg.Pool): Promise<number> {
  const r = await db.query<{ n: string | null }>('SELECT sum(lines)::bigint AS n FROM lad_counts');
  return Number(r.rows[0].n ?? 0);
}

async function owned(worker: BuiltServer): Promise<string[]> {
  return (await holdings(worker)).map((s) => s.source);
}

/** The sources a worker holds, and since when (its lease thread's clock, ms since the epoch). */
async function holdings(worker: BuiltServer): Promise<{ source: string; since: number }[]> {
  const res = await fetch(`${worker.url}/api/cluster`).catch(() => null);
  if (!res?.ok) return [];
  return ((await res.json()) as { worker: { sources: { source: string; since: number }[] } }).worker.sources;
}

type Part = 'ingest' | 'workers' | 'nats' | 'postgres';
const PARTS: Part[] = ['ingest', 'workers', 'nats', 'postgres'];

/** CPU seconds so far of each part of the cluster. */
function clusterCpu(c: ClusterRun): Record<Part, number> {
  const sum = (pids: number[]) => pids.reduce((n, pid) => n + cpuSeconds(pid), 0);
  return {
    ingest: sum([c.ingest.child.pid!]),
    workers: sum(c.workers.map((w) => w.child.pid!)),
    nats: sum([c.nats.pid()]),
    postgres: sum(postgresPids(join(c.pgServer.dir, 'data'))),
  };
}

interface ClusterMeasured extends Measured {
  failoverMs?: number;
  failoverSeenMs?: number;
  victimSources: number;
  /** Scoring a backlog of `lines` with fresh workers (no push beside it). */
  backlog?: { pushMs: number; ms: number; startupMs: number; workerCpuSeconds: number };
}

async function clusterThroughput(ctx: BenchContext, workers: number, lines: number, failover: boolean): Promise<ClusterMeasured> {
  const c = await startCluster(ctx, workers);
  try {
    await pushAll([c.ingest.url], 0, TRAIN_LINES);
    await waitFor(async () => (await counted(c.db)) >= TRAIN_LINES * SOURCES, `cluster warm-up (${workers} workers) counted`);
    const cpuBefore = clusterCpu(c);
    const started = Date.now();
    let failoverMs: number | undefined;
    let failoverSeenMs: number | undefined;
    let victimSources = 0;
    const pushing = pushAll([c.ingest.url], TRAIN_LINES, lines / SOURCES);
    if (failover) {
      await new Promise((r) => setTimeout(r, 2000));
      const victim = c.workers[0];
      let sources: string[] = [];
      await waitFor(async () => (sources = await owned(victim)).length > 0, 'the victim owning a source');
      victimSources = sources.length;
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      let since: number[] = [];
      await waitFor(async () => {
        const now = new Map((await Promise.all(c.workers.slice(1).map(holdings))).flat().map((h) => [h.source, h.since]));
        since = sources.map((s) => now.get(s) ?? NaN);
        return since.every((t) => t >= killedAt);
      }, 'failover');
      // until the last of its leases was taken (the takers' lease threads say when); /api/cluster shows it later
      // by the polling and by a busy worker's answer
      failoverMs = Math.max(...since) - killedAt;
      failoverSeenMs = Date.now() - killedAt;
    }
    const pushMs = await pushing;
    await waitFor(async () => (await counted(c.db)) >= TRAIN_LINES * SOURCES + lines, `cluster lines (${workers} workers) counted`);
    const totalMs = Date.now() - started;
    const after = clusterCpu(c);
    const parts = Object.fromEntries(PARTS.map((p) => [p, after[p] - cpuBefore[p]])) as Record<Part, number>;
    const result = { pushMs, totalMs, cpuSeconds: PARTS.reduce((n, p) => n + parts[p], 0), parts, failoverMs, failoverSeenMs, victimSources };
    if (failover) return result;
    // Backlog: the workers stopped (leases given back), the same number of lines pushed again (ingest alone),
    // then as many new workers started (loading the stored models): their scoring rate without a push beside it.
    await Promise.all(c.workers.map((w) => w.stop('SIGTERM')));
    const backlogPushMs = await pushAll([c.ingest.url], TRAIN_LINES + lines / SOURCES, lines / SOURCES);
    const before = clusterCpu(c);
    const startedWorkers = Date.now();
    c.workers = await Promise.all(c.workers.map(() => startBuiltServer(c.workerEnv)));
    const startupMs = Date.now() - startedWorkers;
    await waitFor(async () => (await counted(c.db)) >= TRAIN_LINES * SOURCES + 2 * lines, `backlog (${workers} workers) counted`);
    const backlogMs = Date.now() - startedWorkers;
    const workerCpu = clusterCpu(c).workers - before.workers;
    return { ...result, backlog: { pushMs: backlogPushMs, ms: backlogMs, startupMs, workerCpuSeconds: workerCpu } };
  } finally {
    await stopCluster(c);
  }
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const lines = Number(process.env.LAD_BENCH_CLUSTER_LINES ?? 100_000);
  const rows: BenchRow[] = [];
  ctx.log(`embedded: ${lines} lines over ${SOURCES} sources`);
  const e = await embedded(ctx, lines);
  const eCpuUs = (e.cpuSeconds / lines) * 1e6;
  rows.push({ name: `embedded: lines/s pushed and scored (${SOURCES} sources)`, value: Math.round(lines / (e.totalMs / 1000)), unit: 'lines/s', note: `push acknowledged at ${Math.round(lines / (e.pushMs / 1000))} lines/s` });
  rows.push({ name: 'embedded: CPU per line', value: Number(eCpuUs.toFixed(1)), unit: 'µs' });
  for (const workers of [1, 2, 3]) {
    ctx.log(`cluster: ${workers} worker(s)`);
    const m = await clusterThroughput(ctx, workers, lines, false);
    const cpuUs = (m.cpuSeconds / lines) * 1e6;
    rows.push({
      name: `cluster, 1 ingest + ${workers} worker(s): lines/s ingest → JetStream → scored in PostgreSQL`,
      value: Math.round(lines / (m.totalMs / 1000)),
      unit: 'lines/s',
      note: `push acknowledged at ${Math.round(lines / (m.pushMs / 1000))} lines/s; CPU ${cpuUs.toFixed(1)} µs/line over all processes = ${(cpuUs / eCpuUs).toFixed(2)} × embedded`,
    });
    rows.push({ name: `cluster, ${workers} worker(s): CPU per line / embedded CPU per line`, value: Number((cpuUs / eCpuUs).toFixed(2)), unit: '×' });
    const b = m.backlog!;
    rows.push({
      name: `cluster, ${workers} worker(s): lines/s scoring a backlog (no push beside it)`,
      value: Math.round(lines / (b.ms / 1000)),
      unit: 'lines/s',
      note: `from the workers' start (${b.startupMs} ms of it start-up and model loads); worker CPU ${((b.workerCpuSeconds / lines) * 1e6).toFixed(1)} µs/line; the ingest alone acknowledged the backlog at ${Math.round(lines / (b.pushMs / 1000))} lines/s`,
    });
    for (const part of PARTS) {
      rows.push({ name: `cluster, ${workers} worker(s): CPU per line in ${part}`, value: Number(((m.parts![part] / lines) * 1e6).toFixed(1)), unit: 'µs' });
    }
  }
  ctx.log('cluster: failover under load (3 workers, kill -9 of one)');
  const f = await clusterThroughput(ctx, 3, lines, true);
  rows.push({ name: `cluster: failover, kill -9 of 1 of 3 workers until its sources are owned again (lease ${LEASE_SECONDS} s)`, value: f.failoverMs ?? NaN, unit: 'ms', note: `${f.victimSources} sources moved; seen on /api/cluster after ${f.failoverSeenMs} ms` });
  rows.push({ name: 'cluster, 3 workers with the failover: lines/s', value: Math.round(lines / (f.totalMs / 1000)), unit: 'lines/s' });
  return rows;
}
