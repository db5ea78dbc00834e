import type { ClusterScoredLine } from '../../backend/cluster/ports';
import { migrate, MIGRATIONS } from '../../backend/cluster/postgres/migrations';
import { PostgresPool, PostgresUnavailableError } from '../../backend/cluster/postgres/pool';
import { PostgresResultsReader } from '../../backend/cluster/postgres/results-reader';
import { openPostgres, PostgresResultsSink } from '../../backend/cluster/postgres/results-sink';
import type { AnomalyRecord } from '../../backend/store/results-store';
import { batchesOf, type WriteResult } from '../../backend/store/results-writer';
import net from 'node:net';
import { freePort } from '../../backend/testing/loopback';
import { startPostgres, type PostgresServer } from './postgres-server';

let server: PostgresServer;
let pool: PostgresPool;
const BUCKET = 10_000;
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

beforeAll(async () => {
  server = await startPostgres();
  pool = await openPostgres(server.url);
}, 60_000);

afterAll(async () => {
  await pool?.close();
  await server?.close();
});

function line(source: string, seq: number, over: Partial<ClusterScoredLine> = {}): ClusterScoredLine {
  return {
    source,
    seq,
    time: T0 + seq * 100,
    line: `line ${seq}`,
    labels: { host: 'a' },
    score: seq / 10,
    threshold: 5,
    anomaly: false,
    suppressed: false,
    template: 'line <*>',
    reason: '',
    level: null,
    ...over,
  };
}

/** Writes rows through the sink, one batch per source (as each source's owner writes), summing the results. */
async function write(sink: PostgresResultsSink, rows: ClusterScoredLine[]): Promise<WriteResult> {
  const sum: WriteResult = { anomalies: 0, counted: 0, duplicates: 0 };
  for (const batch of batchesOf(rows)) {
    const r = await sink.writeBatch(batch);
    sum.anomalies += r.anomalies;
    sum.counted += r.counted;
    sum.duplicates += r.duplicates;
  }
  return sum;
}

async function totals(source: string): Promise<{ lines: number; anomalies: number; suppressed: number; stored: number }> {
  const c = await pool.query<{ lines: string; anomalies: string; suppressed: string }>(
    'SELECT coalesce(sum(lines),0) AS lines, coalesce(sum(anomalies),0) AS anomalies, coalesce(sum(suppressed),0) AS suppressed FROM lad_counts WHERE source = $1',
    [source]
  );
  const a = await pool.query<{ n: string }>('SELECT count(*) AS n FROM lad_anomalies WHERE source = $1', [source]);
  return { lines: Number(c.rows[0].lines), anomalies: Number(c.rows[0].anomalies), suppressed: Number(c.rows[0].suppressed), stored: Number(a.rows[0].n) };
}

describe('migrations', () => {
  test('applied once, recorded by version; a second start applies nothing', async () => {
    expect(await migrate(pool)).toEqual([]);
    const { rows } = await pool.query<{ version: number }>('SELECT version FROM lad_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  test('replicas migrating at once: each step runs once (advisory lock)', async () => {
    const pools = [new PostgresPool(server.url), new PostgresPool(server.url), new PostgresPool(server.url)];
    const steps = [{ version: 100, name: 'probe', sql: 'CREATE TABLE lad_probe (x int)' }];
    const applied = await Promise.all(pools.map((p) => migrate(p, [...MIGRATIONS, ...steps])));
    expect(applied.flat()).toEqual([100]);
    await pool.query('DROP TABLE lad_probe');
    await pool.query('DELETE FROM lad_migrations WHERE version = 100');
    await Promise.all(pools.map((p) => p.close()));
  });

  test('a database migrated by a newer binary is refused, naming both versions', async () => {
    await pool.query("INSERT INTO lad_migrations (version, name) VALUES (99, 'future')");
    await expect(migrate(pool)).rejects.toThrow(`has schema version 99, newer than this binary's ${MIGRATIONS.length}`);
    await pool.query('DELETE FROM lad_migrations WHERE version = 99');
  });

  test('a failing step leaves no trace (one transaction)', async () => {
    const steps = [
      { version: 101, name: 'ok', sql: 'CREATE TABLE lad_probe2 (x int)' },
      { version: 102, name: 'broken', sql: 'CREATE TABLE lad_probe2 (x int)' },
    ];
    await expect(migrate(pool, [...MIGRATIONS, ...steps])).rejects.toThrow(/already exists/);
    const { rows } = await pool.query("SELECT to_regclass('lad_probe2') AS t, (SELECT count(*) FROM lad_migrations WHERE version > 100) AS n");
    expect(rows[0]).toEqual({ t: null, n: '0' });
  });
});

describe('PostgresResultsSink', () => {
  test('a redelivered batch is written once; a regrouped redelivery counts only the new lines', async () => {
    const sink = new PostgresResultsSink(pool, { bucketMs: BUCKET });
    const batch = Array.from({ length: 10 }, (_, i) => line('app', i + 1, i === 2 ? { anomaly: true } : i === 6 ? { anomaly: true, suppressed: true } : {}));
    expect(await write(sink, batch)).toEqual({ anomalies: 2, counted: 10, duplicates: 0 });
    expect(await write(sink, batch)).toEqual({ anomalies: 0, counted: 0, duplicates: 10 });
    // a worker taking over gets 6..15 again, grouped differently
    const again = Array.from({ length: 10 }, (_, i) => line('app', i + 6, i + 6 === 7 ? { anomaly: true, suppressed: true } : i + 6 === 12 ? { anomaly: true } : {}));
    expect(await write(sink, again)).toEqual({ anomalies: 1, counted: 5, duplicates: 5 });
    expect(await totals('app')).toEqual({ lines: 15, anomalies: 2, suppressed: 1, stored: 3 });
    expect(await sink.lastSeq('app')).toBe(15);
    expect(await sink.lastSeq('nobody')).toBe(0);
    const stored = await pool.query('SELECT labels, score, level, template FROM lad_anomalies WHERE source = $1 AND seq = 3', ['app']);
    expect(stored.rows[0]).toEqual({ labels: { host: 'a' }, score: 0.3, level: null, template: 'line <*>' });
  });

  test('two workers writing the same lines at once count them once', async () => {
    const a = new PostgresResultsSink(pool, { bucketMs: BUCKET });
    const b = new PostgresResultsSink(pool, { bucketMs: BUCKET });
    const lines = Array.from({ length: 500 }, (_, i) => line(`s${i % 5}`, 1000 + i, { anomaly: i % 50 === 0 }));
    const results = await Promise.all([write(a, lines), write(b, [...lines].reverse())]);
    expect(results[0].counted + results[1].counted).toBe(500);
    expect(results[0].duplicates + results[1].duplicates).toBe(500);
    let sum = 0;
    for (let s = 0; s < 5; s++) sum += (await totals(`s${s}`)).lines;
    expect(sum).toBe(500);
  });

  test('counts land in the bucket of each line time', async () => {
    const sink = new PostgresResultsSink(pool, { bucketMs: BUCKET });
    await write(sink, [line('b', 1, { time: T0 + 1 }), line('b', 2, { time: T0 + BUCKET - 1 }), line('b', 3, { time: T0 + BUCKET })]);
    const { rows } = await pool.query<{ bucket_ms: string; lines: string }>('SELECT bucket_ms, lines FROM lad_counts WHERE source = $1 ORDER BY bucket_ms', ['b']);
    expect(rows.map((r) => [Number(r.bucket_ms), Number(r.lines)])).toEqual([
      [T0, 2],
      [T0 + BUCKET, 1],
    ]);
  });
});

describe('PostgresPool errors', () => {
  test('nothing listening: a 503 error naming host:port/database, never the password', async () => {
    const port = await freePort();
    const down = new PostgresPool(`postgres://lad:s3cretpw@127.0.0.1:${port}/results`);
    const err = await down.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresUnavailableError);
    expect((err as PostgresUnavailableError).status).toBe(503);
    expect((err as Error).message).toContain(`PostgreSQL at 127.0.0.1:${port}/results is unavailable`);
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect((err as Error).message).not.toContain('s3cretpw');
    await down.close();
  });

  test('a server that accepts but never answers: 503 after the connect timeout, not a hang', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const hung = new PostgresPool(`postgres://postgres@127.0.0.1:${port}/postgres`, { connectTimeoutMs: 300 });
    const started = Date.now();
    const err = await hung.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresUnavailableError);
    expect((err as Error).message).toMatch(/timeout/);
    expect(Date.now() - started).toBeLessThan(2000);
    await hung.close();
    silent.close();
  });

  test('an SQL error is not "unavailable"', async () => {
    const err = await pool.query('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(PostgresUnavailableError);
    expect((err as Error).message).toMatch(/no_such_table/);
  });
});

describe('retention', () => {
  test('prune deletes anomalies and counts older than the cutoff only', async () => {
    const sink = new PostgresResultsSink(pool, { bucketMs: BUCKET });
    await write(sink, [line('old', 1, { time: T0 - 3600_000, anomaly: true }), line('old', 2, { time: T0, anomaly: true })]);
    const pruned = await sink.prune(T0 - 60_000);
    expect(pruned).toEqual({ anomalies: 1, counts: 1 });
    expect(await totals('old')).toEqual({ lines: 1, anomalies: 1, suppressed: 0, stored: 1 });
  });
});

describe('PostgresResultsReader', () => {
  const noStream = { around: async () => ({ before: [], at: null, after: [] }) };

  test('keyset pages: suppression decided here across pages, newest first; maxRows bounds one answer', async () => {
    const sink = new PostgresResultsSink(pool, { bucketMs: BUCKET });
    const lines = Array.from({ length: 5000 }, (_, i) => line('many', 10_000 + i, { anomaly: true, template: i % 2 === 0 ? 'a <*>' : 'b <*>', time: T0 + Math.floor(i / 3) }));
    await write(sink, lines);
    const reader = await PostgresResultsReader.open(pool, noStream, { bucketMs: BUCKET });
    const filter = { fromMs: T0 - 1, toMs: T0 + 10_000, source: 'many', includeSuppressed: false, isSuppressed: (a: AnomalyRecord) => a.template === 'a <*>', limit: 3000 };
    const rows = await reader.anomalies(filter);
    expect(rows).toHaveLength(2500);
    expect(rows.every((r) => r.template === 'b <*>')).toBe(true);
    const order = rows.map((r) => [r.time, r.seq]);
    expect(order).toEqual([...order].sort((x, y) => y[0] - x[0] || y[1] - x[1]));
    expect(rows[0].seq).toBe(14_999);
    expect(await reader.anomalies({ ...filter, includeSuppressed: true, limit: 10 })).toHaveLength(10);
    const bounded = await PostgresResultsReader.open(pool, noStream, { bucketMs: BUCKET, maxRows: 100 });
    expect(await bounded.anomalies({ ...filter, limit: Number.MAX_SAFE_INTEGER })).toHaveLength(100);
    expect((await reader.getAnomaly(rows[0].id))?.line).toBe('line 14999');
    expect(await reader.getAnomaly(`${rows[0].seq}-0000000000`)).toBeUndefined();
    expect(reader.sourceNames()).toContain('many');
    reader.close();
    bounded.close();
  });
});
