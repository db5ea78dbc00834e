/**
 * Cluster mode end to end, every role a separate process of the built backend on loopback, with a real
 * nats-server and PostgreSQL: 2 ingest replicas, 3 scoring workers, 1 query replica.
 * - LINES lines over SOURCES sources pushed through both ingest replicas; a worker is killed with SIGKILL
 *   mid-stream; its sources move within the lease time; every acknowledged line is counted exactly once in
 *   PostgreSQL (per source: counted lines = acknowledged lines, and the highest stream sequence counted is
 *   the last one stored), and every anomaly row is answered by the query replica.
 * - Feedback posted to the query replica suppresses on the owning worker within 1 s.
 * - The whole cluster killed (every LAD process, nats-server and PostgreSQL) and started again loses nothing
 *   acknowledged.
 * - nats-server killed: pushes answer 503 naming NATS, and 204 again once it is back.
 * Needs the built backend (scripts/test.sh builds it; else `npm run build:backend`).
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startBuiltServer, type BuiltServer } from '../../backend/testing/built-server';
import { removeDir, tempDir } from '../../backend/testing/temp-dir';
import { startNatsServer, type NatsServer } from './nats-server';
import { startPostgres, type PostgresServer } from './postgres-server';

/** The figure. Measured run time is in docs/cluster.md. */
const LINES = 200_000;
const SOURCES = 20;
const LINES_PER_REQUEST = 2000;
const LEASE_SECONDS = 3;
const TRAIN_LINES = 1000;

jest.setTimeout(300_000);

const sourceName = (s: number) => `app-${s}`;

/** A line of source s: a handful of ordinary shapes, and now and then one that looks like nothing else. */
function lineOf(s: number, i: number): string {
  if (i > TRAIN_LINES && i % 997 === 0) return `FATAL segfault in worker ${s}-${i} at 0x${(i * 7919).toString(16)} core dumped`;
  switch (i % 4) {
    case 0:
      return `GET /api/items/${i % 100} 200 ${i % 50}ms user=u${i % 13}`;
    case 1:
      return `POST /api/orders 201 ${i % 70}ms order=${i}`;
    case 2:
      return `cache hit key=item:${i % 100} ttl=${i % 30}s`;
    default:
      return `db query select items took ${i % 40}ms rows=${i % 9}`;
  }
}

function body(s: number, from: number, n: number): string {
  let out = '';
  for (let i = from; i < from + n; i++) out += `${lineOf(s, i)}\n`;
  return out;
}

interface Cluster {
  ingest: BuiltServer[];
  workers: BuiltServer[];
  query: BuiltServer;
}

describe('cluster mode end to end', () => {
  let nats: NatsServer;
  let pgServer: PostgresServer;
  let db: pg.Pool;
  let cluster: Cluster;
  const dataDir = tempDir('lad-cluster-');
  /** Lines acknowledged (204) per source. */
  const acked = new Map<string, number>();
  /**
   * Lines of refused requests (429/503) per source: a request refused after part of it was stored is stored
   * again when retried (at-least-once for refused requests, as any push API whose sender retries).
   */
  const refused = new Map<string, number>();
  const env = () => ({
    LAD_MODE: 'cluster',
    LAD_NATS_URL: nats.url,
    LAD_POSTGRES_URL: pgServer.url,
    LAD_LEASE_SECONDS: String(LEASE_SECONDS),
    LAD_DEMO: 'false',
    LAD_LOG_LEVEL: 'info',
    LAD_TRAIN_LINES: String(TRAIN_LINES),
    LAD_DATA_DIR: dataDir,
  });
  let started = 0;
  const start = async (roles: string) => {
    const p = await startBuiltServer({ env: { ...env(), LAD_ROLES: roles } });
    // LAD_E2E_LOG_DIR=dir keeps every process's whole log there (the failure message shows only the last lines)
    const dir = process.env.LAD_E2E_LOG_DIR;
    if (dir) {
      const out = createWriteStream(path.join(dir, `${roles}-${started++}-${p.child.pid}.log`));
      out.write(p.output());
      p.child.stdout.on('data', (d: Buffer) => out.write(d));
      p.child.stderr.on('data', (d: Buffer) => out.write(d));
    }
    return p;
  };

  async function startCluster(): Promise<Cluster> {
    const [workers, ingest, query] = await Promise.all([
      Promise.all([start('score'), start('score'), start('score')]),
      Promise.all([start('ingest'), start('ingest')]),
      start('query'),
    ]);
    return { ingest, workers, query };
  }

  async function stopCluster(c: Cluster, signal: NodeJS.Signals): Promise<void> {
    await Promise.all([...c.ingest, ...c.workers, c.query].map((p) => p.stop(signal)));
  }

  /** Pushes lines [from, from+n) of source s, retrying on 429/503 until acknowledged. */
  async function push(s: number, from: number, n: number, replica: number): Promise<void> {
    const text = body(s, from, n);
    for (let attempt = 0; ; attempt++) {
      const target = cluster.ingest[(replica + attempt) % cluster.ingest.length];
      const res = await fetch(`${target.url}/api/push?source=${sourceName(s)}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text }).catch(() => null);
      if (res?.status === 204) {
        acked.set(sourceName(s), (acked.get(sourceName(s)) ?? 0) + n);
        return;
      }
      if (res && res.status !== 429 && res.status !== 503) throw new Error(`push answered ${res.status}: ${await res.text()}`);
      refused.set(sourceName(s), (refused.get(sourceName(s)) ?? 0) + n);
      if (attempt > 200) throw new Error(`push never acknowledged (last ${res?.status})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function countedPerSource(): Promise<Map<string, number>> {
    const r = await db.query<{ source: string; lines: string }>('SELECT source, sum(lines)::bigint AS lines FROM lad_counts GROUP BY source');
    return new Map(r.rows.map((row) => [row.source, Number(row.lines)]));
  }

  async function totalCounted(): Promise<number> {
    let n = 0;
    for (const v of (await countedPerSource()).values()) n += v;
    return n;
  }

  /** Sources whose counted lines differ from the acknowledged ones, and the workers' warnings (for a failure's message). */
  async function diagnosis(): Promise<string> {
    const counted = await countedPerSource();
    const off = [...acked].filter(([s, n]) => counted.get(s) !== n).map(([s, n]) => `${s}: ${counted.get(s) ?? 0} of ${n}`);
    const owners = await Promise.all(cluster.workers.map(async (w) => (await ownedBy(w)).join(',')));
    const warnings = cluster.workers.flatMap((w) => w.output().split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-5));
    return `counted ${await totalCounted()} of ${totalAcked()}; off: ${off.join('; ')}; owners: ${owners.join(' | ')}; warnings: ${warnings.join('\n')}`;
  }

  /**
   * Every acknowledged line counted once: per source, counted = acknowledged exactly when no request of it was
   * refused; a refused request's lines may be counted once more (stored before the refusal, then retried).
   */
  function expectCountedOnce(counted: Map<string, number>): void {
    for (const [source, n] of acked) {
      const extra = (counted.get(source) ?? 0) - n;
      const maybeTwice = refused.get(source) ?? 0;
      expect({ source, extra, maybeTwice, once: extra >= 0 && extra <= maybeTwice }).toEqual({ source, extra, maybeTwice, once: true });
    }
  }

  const totalAcked = () => [...acked.values()].reduce((a, b) => a + b, 0);

  async function waitFor(check: () => Promise<boolean>, what: () => Promise<string> | string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${await what()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function ownedBy(worker: BuiltServer): Promise<string[]> {
    return (await holdings(worker)).map((s) => s.source);
  }

  /** The sources a worker holds, with the lines it scored of each since it took it. */
  async function holdings(worker: BuiltServer): Promise<{ source: string; since: number; scored: number }[]> {
    const res = await fetch(`${worker.url}/api/cluster`).catch(() => null);
    if (!res?.ok) return [];
    const body = (await res.json()) as { worker: { sources: { source: string; since: number; scored: number }[] } | null };
    return body.worker?.sources ?? [];
  }

  beforeAll(async () => {
    [nats, pgServer] = await Promise.all([startNatsServer(), startPostgres()]);
    db = new pg.Pool({ connectionString: pgServer.url, max: 2 });
    // the restart test takes PostgreSQL away under the pool's idle connections
    db.on('error', () => undefined);
    cluster = await startCluster();
  });

  afterAll(async () => {
    if (cluster) await stopCluster(cluster, 'SIGKILL');
    await db?.end();
    await Promise.all([nats?.stop(), pgServer?.close()]);
    removeDir(dataDir);
  });

  it(`scores all ${LINES} acknowledged lines exactly once through a worker's kill -9, and the query replica answers every anomaly`, async () => {
    const started = Date.now();
    const perSource = LINES / SOURCES;
    const requests: [number, number][] = [];
    for (let from = 0; from < perSource; from += LINES_PER_REQUEST) for (let s = 0; s < SOURCES; s++) requests.push([s, from]);
    let next = 0;
    let killed: { at: number; sources: string[] } | null = null;
    let moved: Promise<{ takenMs: number; seenMs: number }> | null = null;
    /**
     * From the kill until the other two workers hold every source the killed one held (watched while pushing):
     * takenMs from the time each lease was taken (the workers' lease threads say when), seenMs until /api/cluster
     * showed them all (later by the polling and by a busy worker's answer).
     */
    const watchTakeover = async (k: { at: number; sources: string[] }): Promise<{ takenMs: number; seenMs: number }> => {
      for (;;) {
        const held = new Map([...(await holdings(cluster.workers[1])), ...(await holdings(cluster.workers[2]))].map((h) => [h.source, h.since]));
        if (k.sources.every((s) => held.has(s))) {
          const since = k.sources.map((s) => held.get(s)!);
          // taken after the kill: a takeover, not a stale answer
          expect(Math.min(...since)).toBeGreaterThanOrEqual(k.at);
          return { takenMs: Math.max(...since) - k.at, seenMs: Date.now() - k.at };
        }
        if (Date.now() - k.at > 60_000) throw new Error(`sources ${k.sources.join(',')} not taken over in 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    /**
     * Kills worker 0 once half the lines are acknowledged and it has scored lines of every source it holds
     * (so their models are stored: the takers must load them). True once killed.
     */
    const killWhenReady = async (): Promise<boolean> => {
      if (killed !== null) return true;
      if (totalAcked() < LINES / 2) return false;
      const held = await holdings(cluster.workers[0]);
      if (killed !== null || held.length === 0 || held.some((h) => h.scored === 0)) return false;
      killed = { at: Date.now(), sources: held.map((h) => h.source) };
      cluster.workers[0].child.kill('SIGKILL');
      moved = watchTakeover(killed);
      return true;
    };
    const sender = async (lane: number) => {
      while (next < requests.length) {
        const [s, from] = requests[next++];
        await push(s, from, Math.min(LINES_PER_REQUEST, perSource - from), lane);
        await killWhenReady();
      }
    };
    await Promise.all([sender(0), sender(1), sender(0), sender(1)]);
    const pushedMs = Date.now() - started;
    // pushes can outrun the first training: then the kill comes after the last push, still mid-stream for scoring
    await waitFor(killWhenReady, () => 'worker 0 holding trained sources', 60_000);
    expect(await totalCounted()).toBeLessThan(totalAcked());
    const k = killed as unknown as { at: number; sources: string[] };
    // the bound: the killed worker's sources are owned by the other two within the lease time of the kill
    // (lease.ts leaseTiming: free half a lease after the last renewal, taken at the next look, a tenth later)
    const { takenMs, seenMs } = await moved!;
    expect(takenMs).toBeLessThan(LEASE_SECONDS * 1000);
    await waitFor(async () => (await totalCounted()) >= totalAcked(), diagnosis, 150_000);
    const refusedLines = [...refused.values()].reduce((a, b) => a + b, 0);
    const scoredMs = Date.now() - started;
    expectCountedOnce(await countedPerSource());
    expect(totalAcked()).toBe(LINES);
    // one anomaly row per (source, seq) by the primary key; every one answered by the query replica
    const rows = await db.query<{ source: string; n: string }>('SELECT source, count(*) AS n FROM lad_anomalies WHERE NOT suppressed GROUP BY source');
    const stored = rows.rows.reduce((a, r) => a + Number(r.n), 0);
    expect(stored).toBeGreaterThan(0);
    const answered = await queryAnomalies(cluster.query, null);
    expect(answered).toBe(stored);
    process.stdout.write(
      `cluster e2e: ${LINES} lines over ${SOURCES} sources acknowledged in ${pushedMs} ms, all scored after ${scoredMs} ms; ` +
        `killed worker's ${k.sources.length} sources moved after ${takenMs} ms (seen after ${seenMs} ms; lease ${LEASE_SECONDS} s); ${stored} anomalies; ${refusedLines} lines refused (429/503) and retried\n`
    );
    // every surviving worker exports its scoring on /metrics, the series the provisioned rules read
    // (a worker that never held a source has no per-source series; a line a worker scored and wrote but had not
    // acknowledged when it lost the source is scored again by the next owner: counted by both, stored once)
    let scoredByMetrics = 0;
    let anomalySeries = 0;
    for (const w of cluster.workers.slice(1)) {
      const res = await fetch(`${w.url}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      anomalySeries += [...text.matchAll(/^lad_anomalies_total\{source="/gm)].length;
      for (const m of text.matchAll(/^lad_lines_scored_total\{source="[^"]*"\} (\d+)/gm)) scoredByMetrics += Number(m[1]);
    }
    expect(anomalySeries).toBeGreaterThan(0);
    expect(scoredByMetrics).toBeGreaterThan(0);
    // the ingest replicas bound request bodies in flight as the embedded service does, and hold none once answered
    for (const replica of cluster.ingest) {
      const text = await (await fetch(`${replica.url}/metrics`)).text();
      expect(text).toMatch(/^lad_body_budget_bytes [1-9]\d*$/m);
      expect(text).toMatch(/^lad_body_bytes_in_flight 0$/m);
    }
    // the taking-over workers loaded the killed worker's models instead of training again
    const logs = cluster.workers.slice(1).map((w) => w.output()).join('\n');
    expect(logs).toMatch(/loaded the stored model/);
  });

  it('feedback posted to the query replica suppresses on the owning worker within 1 s', async () => {
    const s = 0;
    const line = 'FATAL segfault in worker feedback-1 at 0xdead core dumped';
    const before = await pushAndScore(s, line);
    expect(before.anomaly).toBe(true);
    const res = await fetch(`${cluster.query.url}/api/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: line, kind: 'false_positive', source: sourceName(s) }),
    });
    expect(res.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1000));
    const after = await pushAndScore(s, line.replace('feedback-1', 'feedback-2'));
    expect(after.suppressed).toBe(true);
  });

  it('a whole-cluster restart (kill -9 of every process, nats-server and PostgreSQL) loses nothing acknowledged', async () => {
    const extra = 20_000;
    await Promise.all(Array.from({ length: SOURCES }, (_, s) => push(s, LINES / SOURCES, extra / SOURCES, s)));
    await stopCluster(cluster, 'SIGKILL');
    await nats.kill('SIGKILL');
    await pgServer.stop('immediate');
    await Promise.all([nats.restart(), pgServer.start()]);
    cluster = await startCluster();
    await waitFor(async () => (await totalCounted()) >= totalAcked(), diagnosis, 120_000);
    expectCountedOnce(await countedPerSource());
  });

  it('nats-server killed: pushes answer 503 naming NATS, then 204 once it is back', async () => {
    await nats.kill('SIGKILL');
    let res: Response | null = null;
    for (let i = 0; i < 50; i++) {
      res = await fetch(`${cluster.ingest[0].url}/api/push?source=${sourceName(1)}`, { method: 'POST', body: 'one line\n' });
      if (res.status === 503) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(res?.status).toBe(503);
    expect(((await res!.json()) as { error: string }).error).toMatch(/NATS at 127\.0\.0\.1:\d+/);
    await nats.restart();
    let status = 0;
    for (let i = 0; i < 100 && status !== 204; i++) {
      status = (await fetch(`${cluster.ingest[0].url}/api/push?source=${sourceName(1)}`, { method: 'POST', body: 'one line\n' })).status;
      if (status !== 204) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(204);
    // the processes lived through it
    for (const p of [...cluster.ingest, ...cluster.workers, cluster.query]) expect(p.child.exitCode).toBeNull();
  });

  /** Pushes one line and waits for its scored row (anomaly or not: found by its text among the newest rows). */
  async function pushAndScore(s: number, line: string): Promise<{ anomaly: boolean; suppressed: boolean }> {
    const res = await fetch(`${cluster.ingest[0].url}/api/push?source=${sourceName(s)}`, { method: 'POST', body: `${line}\n` });
    expect(res.status).toBe(204);
    acked.set(sourceName(s), (acked.get(sourceName(s)) ?? 0) + 1);
    let row: { suppressed: boolean } | undefined;
    await waitFor(
      async () => {
        row = (await db.query<{ suppressed: boolean }>('SELECT suppressed FROM lad_anomalies WHERE source = $1 AND line = $2', [sourceName(s), line])).rows[0];
        return row !== undefined;
      },
      () => `the scored row of ${JSON.stringify(line)}`,
      20_000
    );
    return { anomaly: true, suppressed: row!.suppressed };
  }
});

/** Anomalies the query replica answers over all time (suppressed excluded), summed over its frames' rows. */
async function queryAnomalies(query: BuiltServer, source: string | null): Promise<number> {
  const res = await fetch(`${query.url}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ range: { from: 0, to: Date.now() + 3600_000 }, targets: [{ refId: 'A', queryType: 'anomalies', limit: 100_000, ...(source ? { source } : {}) }] }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${text}`);
  const frames = (JSON.parse(text) as { results: Record<string, { frames: { data: { values: unknown[][] } }[] }> }).results.A.frames;
  return frames.reduce((n, f) => n + (f.data.values[0]?.length ?? 0), 0);
}
