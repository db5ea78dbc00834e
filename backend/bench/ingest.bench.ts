/**
 * Ingestion benchmark of the service, end to end over HTTP: the built server (backend/dist/server/main.js) runs
 * as a child process (pinned to ctx.cpu when taskset exists; this process then keeps to the other cores);
 * autocannon, in this process, pushes text/plain
 * batches to POST /api/push while a second autocannon asks POST /api/query (anomalies + rate of the last 15
 * minutes) at a steady rate. Measured:
 *  - lines/s accepted → scored → queryable: lines acknowledged with 204, divided by the time from the first
 *    push until the service has scored all of them (so queueing behind the scorer is counted, not hidden);
 *  - p50/p99 /api/query latency while that ingestion runs.
 * Lines come from the bundled demo logs (webshop.txt) with the injected anomalies mixed in.
 */
import autocannon from 'autocannon';
import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { cpus } from 'os';
import { join } from 'path';
import type { SourceHealth } from '../api/health';
import { startBuiltServer, type BuiltServer } from '../testing/built-server';
import { waitForValue } from '../testing/wait';
import type { BenchContext, BenchRow } from './bench-api';
import { tasksetAvailable } from './measure';
import { fetchSourceHealth } from '../testing/health';

const TARGET_LINES_PER_SECOND = 50_000;
const TARGET_QUERY_P99_MS = 100;
const LINES_PER_REQUEST = 1000;
const PUSH_CONNECTIONS = 4;
const QUERY_RATE_PER_SECOND = 20;
/** Pushes acknowledged per second with the write-ahead spool on (each 204 after an fsync). */
const TARGET_DURABLE_PUSH_LINES_PER_SECOND = 100_000;
const SPOOL_COMPARE_SECONDS = 3;

async function startServer(ctx: BenchContext, env: Record<string, string> = {}): Promise<BuiltServer> {
  return startBuiltServer({
    launcher: ctx.cpu !== null && tasksetAvailable() ? ['taskset', '-c', String(ctx.cpu)] : [],
    // LAD_BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server.
    nodeArgs: (process.env.LAD_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
    env: {
      LAD_DATA_DIR: join(ctx.tmpDir, 'data'),
      LAD_DEMO: 'false',
      LAD_TRAIN_LINES: '2000',
      LAD_QUEUE_MAX_LINES: '400000',
      LAD_RETRAIN_INTERVAL_SECONDS: '0',
      LAD_LOG_LEVEL: 'info',
      ...env,
    },
  });
}

/**
 * Push acknowledgement alone (no queries), spool on or off, on a fresh server and data dir whose queue can hold
 * the whole run (no 429): lines answered 204 per second and the push p99.
 */
async function pushAcknowledged(ctx: BenchContext, spool: boolean, body: string): Promise<{ linesPerSecond: number; p99: number; refused: number }> {
  const server = await startServer(ctx, {
    LAD_DATA_DIR: join(ctx.tmpDir, spool ? 'data-spool-on' : 'data-spool-off'),
    LAD_SPOOL: String(spool),
    // Spool off acknowledges ~750,000 lines/s here: 3 s fill 2.2M lines, so 2M answered 82 pushes 429 (session 8).
    LAD_QUEUE_MAX_LINES: '8000000',
  });
  const restoreAffinity = keepOffCore(ctx.cpu !== null && tasksetAvailable() ? ctx.cpu : null);
  try {
    const push = await autocannon({
      url: `${server.url}/api/push?source=bench`,
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body,
      connections: PUSH_CONNECTIONS,
      duration: SPOOL_COMPARE_SECONDS,
    });
    return { linesPerSecond: (push['2xx'] * LINES_PER_REQUEST) / SPOOL_COMPARE_SECONDS, p99: push.latency.p99, refused: push.non2xx };
  } finally {
    restoreAffinity();
    await server.stop('SIGKILL');
  }
}

/** The spool's cost, measured in one run: push acknowledgement with the spool against without. */
async function spoolRows(ctx: BenchContext, body: string): Promise<BenchRow[]> {
  ctx.log(`ingest: push acknowledgement for ${SPOOL_COMPARE_SECONDS}s each, spool off then on`);
  const off = await pushAcknowledged(ctx, false, body);
  const on = await pushAcknowledged(ctx, true, body);
  return [
    {
      name: 'HTTP push acknowledged (204) and durable: write-ahead spool on',
      value: Math.round(on.linesPerSecond),
      unit: 'lines/s',
      target: { op: '>=', value: TARGET_DURABLE_PUSH_LINES_PER_SECOND },
      note: `each 204 after the lines are fsynced (group commit); push p99 ${on.p99} ms, ${on.refused} non-2xx; ${PUSH_CONNECTIONS} connections, 1,000-line batches`,
    },
    {
      name: 'HTTP push acknowledged (204), spool off (lines in memory only)',
      value: Math.round(off.linesPerSecond),
      unit: 'lines/s',
      note: `push p99 ${off.p99} ms, ${off.refused} non-2xx`,
    },
    {
      name: 'push acknowledgement, spool on / spool off (same run)',
      value: Number((on.linesPerSecond / off.linesPerSecond).toFixed(2)),
      unit: 'ratio',
      note: `${Math.round(on.linesPerSecond).toLocaleString('en-US')} / ${Math.round(off.linesPerSecond).toLocaleString('en-US')} lines/s`,
    },
  ];
}

/** User + system CPU seconds of a process so far (Linux /proc; null elsewhere). */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th (clock ticks, 100/s).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const health = (url: string): Promise<SourceHealth | undefined> => fetchSourceHealth(url, 'bench');

const waitUntil = <T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> =>
  waitForValue(check, 'the ingest server', timeoutMs, 20);

/**
 * Moves this process (the load generators) off the server's core, so client and server do not share one;
 * returns a function restoring the previous affinity. No-op without taskset or with a single core.
 */
function keepOffCore(cpu: number | null): () => void {
  const n = cpus().length;
  if (cpu === null || n < 2 || !tasksetAvailable()) {
    return () => undefined;
  }
  const others = Array.from({ length: n }, (_, i) => i).filter((i) => i !== cpu);
  spawnSync('taskset', ['-a', '-p', '-c', others.join(','), String(process.pid)]);
  return () => {
    spawnSync('taskset', ['-a', '-p', '-c', `0-${n - 1}`, String(process.pid)]);
  };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const demo = join(ctx.repoRoot, 'backend', 'demo');
  const normal = readFileSync(join(demo, 'webshop.txt'), 'utf8').trim().split('\n');
  const anomalies = readFileSync(join(demo, 'anomalies.txt'), 'utf8').trim().split('\n');
  // One request body: 1000 lines, one of them anomalous.
  const bodyLines = Array.from({ length: LINES_PER_REQUEST }, (_, i) => (i === 500 ? anomalies[3] : normal[(i * 7) % normal.length]));
  const body = bodyLines.join('\n');
  const seconds = Math.max(5, Math.min(20, Math.round(ctx.lines / 100_000)));

  const spool = await spoolRows(ctx, body);
  const server = await startServer(ctx);
  const { child, url } = server;
  const restoreAffinity = keepOffCore(ctx.cpu !== null && tasksetAvailable() ? ctx.cpu : null);
  try {
    ctx.log('ingest: training the first model (2,000 lines)');
    await fetch(`${url}/api/push?source=bench`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: normal.slice(0, 2000).join('\n') });
    await waitUntil(async () => ((await health(url))?.modelState === 'ready' ? true : undefined), 120_000);
    const before = (await health(url))!;

    ctx.log(`ingest: pushing for ${seconds}s with ${PUSH_CONNECTIONS} connections, querying ${QUERY_RATE_PER_SECOND}/s`);
    const queryBody = JSON.stringify({
      range: { from: Date.now() - 15 * 60_000, to: Date.now() + 3600_000 },
      intervalMs: 10_000,
      maxDataPoints: 1000,
      targets: [
        { refId: 'A', queryType: 'anomalies', source: 'bench', limit: 100 },
        { refId: 'B', queryType: 'rate', source: 'bench' },
      ],
    });
    const started = Date.now();
    const cpuBefore = cpuSeconds(child.pid);
    const [push, query] = await Promise.all([
      autocannon({
        url: `${url}/api/push?source=bench`,
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body,
        connections: PUSH_CONNECTIONS,
        duration: seconds,
      }),
      autocannon({
        url: `${url}/api/query`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: queryBody,
        connections: 1,
        overallRate: QUERY_RATE_PER_SECOND,
        duration: seconds,
      }),
    ]);
    const accepted = push['2xx'] * LINES_PER_REQUEST;
    const target = before.linesIngested + accepted;
    const done = await waitUntil(async () => {
      const h = await health(url);
      return h && h.linesScored >= target ? Date.now() : undefined;
    }, 600_000);
    const endToEnd = accepted / ((done - started) / 1000);
    const cpuAfter = cpuSeconds(child.pid);
    const cpu = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
    const refused = push.non2xx;
    return [
      {
        name: 'HTTP push → scored → queryable (text/plain, 1,000-line batches)',
        value: Math.round(endToEnd),
        unit: 'lines/s',
        target: { op: '>=', value: TARGET_LINES_PER_SECOND },
        note: `${accepted.toLocaleString('en-US')} lines accepted in ${seconds}s by ${PUSH_CONNECTIONS} connections, ${refused} requests refused (429), server pinned to ${ctx.cpu ?? 'no'} core`,
      },
      {
        // Wall-clock figures depend on what else the machine runs; CPU time per line does much less.
        name: 'server capacity: lines per CPU-second (push parse + score + store + queries)',
        value: cpu ? Math.round(accepted / cpu) : NaN,
        unit: 'lines/s',
        note: cpu ? `${cpu.toFixed(1)} CPU-seconds of the server for ${accepted.toLocaleString('en-US')} lines` : 'no /proc here',
      },
      {
        name: 'HTTP push accepted (204), before scoring catches up',
        value: Math.round(accepted / seconds),
        unit: 'lines/s',
        note: `push p99 latency ${push.latency.p99} ms`,
      },
      {
        name: '/api/query p99 latency while ingesting (anomalies + rate, 15 min)',
        value: query.latency.p99,
        unit: 'ms',
        target: { op: '<=', value: TARGET_QUERY_P99_MS },
        note: `p50 ${query.latency.p50} ms, ${query.requests.total} queries, ${query.non2xx} non-2xx`,
      },
      ...spool,
    ];
  } finally {
    restoreAffinity();
    await server.stop();
  }
}
