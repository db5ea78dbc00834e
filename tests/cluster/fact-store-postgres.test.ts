import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PostgresPool } from '../../backend/cluster/postgres/pool';
import { PostgresUnavailableError } from '../../backend/cluster/postgres/pool';
import { openPostgres } from '../../backend/cluster/postgres/results-sink';
import { ANY_SOURCE, FactStore, FactStoreFullError, type FactStore as FactStoreApi, type FeedbackRecord, type NewFeedback } from '../../backend/store/fact-store';
import { PostgresFactStore } from '../../backend/store/fact-store-postgres';
import { DEFAULT_TEMPLATE_VERSION } from '../../backend/engine/drain/config';
import { startPostgres, type PostgresServer } from './postgres-server';

let server: PostgresServer;
const pools: PostgresPool[] = [];
const stores: PostgresFactStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await Promise.all(pools.map((p) => p.close()));
  await server?.close();
});

/** A replica: its own pool and its own store, as a separate process would have. */
async function replica(): Promise<PostgresFactStore> {
  const pool = await openPostgres(server.url);
  pools.push(pool);
  const store = await PostgresFactStore.open(pool, { reconnectMs: 200 });
  stores.push(store);
  return store;
}

const fp = (over: Partial<NewFeedback> = {}): NewFeedback => ({
  message: 'GET /health 200 in 3 ms',
  kind: 'false_positive',
  source: 'web',
  template: 'GET /health <*> in <*> ms',
  score: 4.2,
  comment: null,
  user: null,
  ...over,
});

/** The same behaviour from both backends (one interface, one file per backend). */
describe.each([
  ['lowdb', async (): Promise<FactStoreApi> => FactStore.open(await mkdtemp(path.join(os.tmpdir(), 'lad-facts-')))],
  ['postgres', replica],
])('fact-store %s', (_name, open) => {
  let facts: FactStoreApi;
  beforeAll(async () => {
    facts = await open();
    for (const r of facts.list()) await facts.delete(r.id);
  });

  test('add, get, list by filter, counts, delete', async () => {
    const a = await facts.add(fp({ anomalyId: '12-abcdef0123' }));
    const b = await facts.add(fp({ kind: 'confirmed', message: 'kernel panic', template: 'kernel panic', source: 'db', user: 'ann', comment: 'real' }));
    expect(facts.get(a.id)).toEqual(a);
    expect(a.anomalyId).toBe('12-abcdef0123');
    expect(b).toMatchObject({ user: 'ann', comment: 'real', score: 4.2, templateVersion: expect.any(String) });
    expect(facts.list({ source: 'db' }).map((r) => r.id)).toEqual([b.id]);
    expect(facts.list({ kind: 'false_positive' }).map((r) => r.id)).toEqual([a.id]);
    expect(facts.counts()).toEqual({ falsePositives: 1, confirmed: 1, precision: 0.5 });
    expect(await facts.delete(b.id)).toBe(true);
    expect(await facts.delete(b.id)).toBe(false);
    expect(facts.get(b.id)).toBeUndefined();
    await facts.delete(a.id);
  });

  test('suppression by template overlap, per source and for any source; false-positive messages', async () => {
    const a = await facts.add(fp());
    expect(facts.isSuppressed('web', 'GET /health <*> in <*> ms')).toBe(true);
    expect(facts.isSuppressed('db', 'GET /health <*> in <*> ms')).toBe(false);
    const any = await facts.add(fp({ source: ANY_SOURCE, message: 'disk full', template: 'disk full on <*>' }));
    expect(facts.isSuppressed('db', 'disk full on <*>')).toBe(true);
    expect(facts.falsePositiveMessages('web').sort()).toEqual(['GET /health 200 in 3 ms', 'disk full']);
    await facts.delete(a.id);
    await facts.delete(any.id);
    expect(facts.isSuppressed('web', 'GET /health <*> in <*> ms')).toBe(false);
  });
});

/** Waits for `store` to report a change of record `id`; resolves with the ms it took from `since`. */
function changeSeen(store: PostgresFactStore, id: string, change: 'added' | 'deleted', since: () => number): Promise<number> {
  return new Promise((resolve) => {
    const off = store.onChange((record: FeedbackRecord, c) => {
      if (record.id === id && c === change) {
        off();
        resolve(performance.now() - since());
      }
    });
  });
}

describe('PostgresFactStore across replicas (LISTEN/NOTIFY)', () => {
  test('a feedback written on one replica is applied on another within a second', async () => {
    const a = await replica();
    const b = await replica();
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      let started = 0;
      const id = { value: '' };
      // the id is known only once add() resolves; listen for any added record of this message
      const seen = new Promise<number>((resolve) => {
        const off = b.onChange((record, change) => {
          if (change === 'added' && record.message === `probe ${i}`) {
            off();
            id.value = record.id;
            resolve(performance.now() - started);
          }
        });
      });
      started = performance.now();
      const record = await a.add(fp({ message: `probe ${i}`, template: `probe ${i} <*>` }));
      latencies.push(await seen);
      expect(id.value).toBe(record.id);
      expect(b.isSuppressed('web', `probe ${i} <*>`)).toBe(true);
      started = performance.now();
      const gone = changeSeen(b, record.id, 'deleted', () => started);
      await a.delete(record.id);
      latencies.push(await gone);
      expect(b.isSuppressed('web', `probe ${i} <*>`)).toBe(false);
    }
    // measured, printed for the record (docs/cluster.md)
    process.stdout.write(`NOTIFY latency ms (add/delete, replica A → B): ${latencies.map((ms) => ms.toFixed(1)).join(' ')}\n`);
    expect(Math.max(...latencies)).toBeLessThan(1000);
  });

  test('PostgreSQL restarted: writes are 503 meanwhile, reads keep answering, and changes made while away arrive after', async () => {
    const a = await replica();
    const b = await replica();
    const kept = await a.add(fp({ message: 'kept', template: 'kept <*>' }));
    await new Promise((r) => setTimeout(r, 100));
    await server.stop('immediate');
    const err = await a.add(fp({ message: 'lost' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresUnavailableError);
    expect((err as Error).message).toMatch(/^PostgreSQL at 127\.0\.0\.1:\d+\/postgres is unavailable/);
    expect(b.get(kept.id)?.message).toBe('kept');
    await server.start();
    // written by A as soon as PostgreSQL is back, possibly before B listens again: B's reload must bring it
    const later = await retry(() => a.add(fp({ message: 'after restart', template: 'after restart <*>' })));
    const started = performance.now();
    await until(() => b.get(later.id) !== undefined, 10_000);
    expect(b.isSuppressed('web', 'after restart <*>')).toBe(true);
    expect(b.lastError).toBeNull();
    process.stdout.write(`after restart, B had the record in ${(performance.now() - started).toFixed(0)} ms\n`);
  }, 30_000);
});

test('postgres: a record made by an older miner is re-stamped once; a template that no longer covers its message is re-derived', async () => {
  const pool = await openPostgres(server.url);
  pools.push(pool);
  const line = '{"time":1700000001000,"hostname":"hotel","level":40,"msg":"cache miss","key":"item:251"}';
  // MINER_VERSION 3 split a compact JSON line at spaces: the message's first word glued to the members before it
  const old = '{"time":<NUM>,"hostname":"hotel","level":<NUM>,"msg":"cache <*>';
  const insert = `INSERT INTO lad_feedback (id, time, source, message, template, score, kind, template_version)
    VALUES ($1, $2, 'web', $3, $4, 1, 'false_positive', 'masked-1+drain-3')`;
  await pool.query(insert, ['old-json', new Date(0).toISOString(), line, old]);
  await pool.query(insert, ['old-text', new Date(0).toISOString(), 'disk sda failed', 'disk <*> failed']);
  const store = await PostgresFactStore.open(pool, { reconnectMs: 200 });
  stores.push(store);
  expect(store.migrated).toBe(2);
  expect(store.rederived).toBe(1);
  expect(store.get('old-json')).toMatchObject({ template: '{…"msg":"cache miss"…}', previousTemplate: old, templateVersion: DEFAULT_TEMPLATE_VERSION });
  expect(store.get('old-text')).toMatchObject({ template: 'disk <*> failed', templateVersion: DEFAULT_TEMPLATE_VERSION });
  expect(store.isSuppressed('web', '{…"msg":"cache miss"…}')).toBe(true);
  // another replica opening after it finds nothing left to do
  const again = await PostgresFactStore.open(pool, { reconnectMs: 200 });
  stores.push(again);
  expect([again.migrated, again.rederived]).toEqual([0, 0]);
});

test('postgres: an add past maxChars is refused (FactStoreFullError, a 507), stores nothing; a delete makes room', async () => {
  // every replica holds every record in memory: unbounded, records of 64 KiB fields ran replicas out of heap
  const cleaner = await replica();
  for (const r of cleaner.list()) await cleaner.delete(r.id);
  const long = (i: number) => fp({ message: `${'x'.repeat(900)} ${i}`, kind: 'confirmed' });
  const pool = await openPostgres(server.url);
  pools.push(pool);
  const probe = await cleaner.add(long(9));
  const one = JSON.stringify(probe).length + 1;
  await cleaner.delete(probe.id);
  const bounded = await PostgresFactStore.open(pool, { reconnectMs: 200, maxChars: Math.floor(3.5 * one) });
  stores.push(bounded);
  for (let i = 0; i < 3; i++) await bounded.add(long(i));
  await expect(bounded.add(long(3))).rejects.toBeInstanceOf(FactStoreFullError);
  expect(bounded.list()).toHaveLength(3);
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM lad_feedback');
  expect(Number(rows[0].n)).toBe(3);
  await bounded.delete(bounded.list()[0].id);
  await expect(bounded.add(long(4))).resolves.toMatchObject({ message: expect.stringMatching(/ 4$/) });
});

async function retry<T>(work: () => Promise<T>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
