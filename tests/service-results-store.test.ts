/**
 * The results store on real files in a temp dir: segment rotation and retention, reload after a restart,
 * context read back from disk when the in-memory ring no longer holds it, and a torn last record.
 */
import { appendFileSync, existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FactStore } from '../backend/store/fact-store';
import { ResultsStore, sourceKey, type AnomalyRecord, type ResultsStoreOptions, type ScoredLine } from '../backend/store/results-store';
import { removeDir, tempDir } from './service-helpers';
import { waitUntil } from '../backend/testing/wait';

let dir: string;
beforeEach(() => {
  dir = tempDir('lad-results-');
});
afterEach(() => removeDir(dir));

function options(overrides: Partial<ResultsStoreOptions> = {}): ResultsStoreOptions {
  return {
    dir: path.join(dir, 'results'),
    retentionMs: 3600_000,
    maxBytesPerSource: 64 * 1024 * 1024,
    segmentBytes: 64 * 1024 * 1024,
    recentLines: 1000,
    maxAnomalies: 1000,
    bucketMs: 10_000,
    ...overrides,
  };
}

function line(i: number, anomaly: boolean, time = Date.now(), source = 's'): ScoredLine {
  return {
    source,
    time,
    line: `${anomaly ? 'ERROR' : 'INFO'} line number ${i} ${'x'.repeat(40)}`,
    labels: { host: 'h1' },
    score: anomaly ? 5 : 0.5,
    threshold: 2,
    anomaly,
    suppressed: false,
    template: anomaly ? 'ERROR line number <NUM>' : 'INFO line number <NUM>',
    reason: anomaly ? 'rare' : '',
    level: anomaly ? 'error' : 'info',
  };
}

const all = { fromMs: 0, toMs: Number.MAX_SAFE_INTEGER, includeSuppressed: true, isSuppressed: (_a: AnomalyRecord): boolean => false, limit: 100_000 };

test('anomalies, counts and lines survive close and reopen; sequence numbers keep growing', async () => {
  const store = await ResultsStore.open(options());
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) {
    ids.push(store.add(line(i, i % 50 === 0)));
  }
  await store.close();
  const reopened = await ResultsStore.open(options());
  expect(reopened.sourceNames()).toEqual(['s']);
  const anomalies = reopened.anomalies(all);
  expect(anomalies.map((a) => a.id).sort()).toEqual([ids[0], ids[50], ids[100], ids[150]].sort());
  expect(anomalies[0]).toMatchObject({ source: 's', template: 'ERROR line number <NUM>', reason: 'rare', labels: { host: 'h1' } });
  const counts = reopened.counts('s', Date.now() - 60_000, Date.now(), 60_000);
  expect(counts.reduce((s, c) => s + c.lines, 0)).toBe(200);
  expect(counts.reduce((s, c) => s + c.anomalies, 0)).toBe(4);
  const next = reopened.add(line(999, true));
  const seq = (id: string) => Number(id.split('-')[0]);
  expect(seq(next)).toBeGreaterThan(Math.max(...ids.map(seq)));
  // Context of an anomaly from before the restart comes from the segment files.
  const ctx = await reopened.context(ids[100], 2, 2);
  expect(ctx!.before.map((r) => r.line)).toEqual([line(98, false).line, line(99, false).line]);
  expect(ctx!.after.map((r) => r.line)).toEqual([line(101, false).line, line(102, false).line]);
  await reopened.close();
});

test('context falls back to disk once the ring has moved on', async () => {
  const store = await ResultsStore.open(options({ recentLines: 100 }));
  const ids: string[] = [];
  for (let i = 0; i < 1000; i++) {
    ids.push(store.add(line(i, i === 10)));
  }
  const ctx = await store.context(ids[10], 3, 3);
  expect(ctx!.anomaly.line).toBe(line(10, true).line);
  expect(ctx!.before.map((r) => r.line)).toEqual([7, 8, 9].map((i) => line(i, false).line));
  expect(ctx!.after.map((r) => r.line)).toEqual([11, 12, 13].map((i) => line(i, false).line));
  expect(ctx!.before[0].id).toBe(ids[7]);
  // A recent one is answered from the ring, with the same shape.
  const late = store.add(line(2000, true));
  store.add(line(2001, false));
  const recent = await store.context(late, 2, 5);
  expect(recent!.before.map((r) => r.id)).toEqual([ids[998], ids[999]]);
  expect(recent!.after.map((r) => r.line)).toEqual([line(2001, false).line]);
  expect(await store.context('1-0000000000', 1, 1)).toBeNull();
  expect(await store.context('not-an-id', 1, 1)).toBeNull();
  await store.close();
});

test('any stored line has context, not only an anomaly (review items name their line by id), from the ring and from disk', async () => {
  const store = await ResultsStore.open(options({ recentLines: 100 }));
  const ids: string[] = [];
  for (let i = 0; i < 1000; i++) {
    ids.push(store.add(line(i, false)));
  }
  // recentLineId: the newest ring entry with that text; none once the ring moved past it
  expect(store.recentLineId('s', line(990, false).line)).toBe(ids[990]);
  expect(store.recentLineId('s', line(10, false).line)).toBeNull();
  expect(store.recentLineId('nosuch', line(990, false).line)).toBeNull();
  const ring = await store.context(ids[990], 2, 2);
  expect(ring).toMatchObject({ anomaly: { id: ids[990], line: line(990, false).line, anomaly: false } });
  expect(ring!.before.map((r) => r.id)).toEqual([ids[988], ids[989]]);
  expect(ring!.after.map((r) => r.id)).toEqual([ids[991], ids[992]]);
  const disk = await store.context(ids[10], 2, 2);
  expect(disk).toMatchObject({ anomaly: { id: ids[10], line: line(10, false).line } });
  expect(disk!.before.map((r) => r.id)).toEqual([ids[8], ids[9]]);
  expect(disk!.after.map((r) => r.id)).toEqual([ids[11], ids[12]]);
  // an id past the newest line is no stored line
  const [, key] = ids[0].split('-');
  expect(await store.context(`5000-${key}`, 1, 1)).toBeNull();
  await store.close();
});

/** A scored line of `chars` characters. */
function longLine(i: number, anomaly: boolean, chars: number, time = Date.now()): ScoredLine {
  const base = line(i, anomaly, time);
  return { ...base, line: `${base.line} `.padEnd(chars, String.fromCharCode(97 + (i % 26))) };
}

test('the ring of recent lines holds at most recentChars characters; context it no longer holds comes from disk', async () => {
  const store = await ResultsStore.open(options({ recentLines: 1000, recentChars: 10_000 }));
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) ids.push(store.add(longLine(i, false, 1000)));
  // the count bound (1,000) is far: the character bound keeps the newest 10 lines
  expect(store.heldInMemory('s')).toMatchObject({ recentLines: 10, recentChars: 10_000 });
  expect(store.recentLineId('s', longLine(95, false, 1000).line)).toBe(ids[95]);
  expect(store.recentLineId('s', longLine(89, false, 1000).line)).toBeNull();
  // 8 lines before the 96th: the ring holds 5 of them, the older ones are read from disk
  const ctx = await store.context(ids[95], 8, 2);
  expect(ctx!.before.map((r) => r.id)).toEqual(ids.slice(87, 95));
  expect(ctx!.after.map((r) => r.id)).toEqual([ids[96], ids[97]]);
  // a line longer than the bound alone is kept alone (the newest line always is)
  const big = store.add(longLine(100, false, 25_000));
  expect(store.heldInMemory('s')).toMatchObject({ recentLines: 1, recentChars: 25_000 });
  expect(store.recentLineId('s', longLine(100, false, 25_000).line)).toBe(big);
  store.add(longLine(101, false, 1000));
  expect(store.heldInMemory('s')).toMatchObject({ recentLines: 1, recentChars: 1000 });
  await store.close();
});

test('the in-memory anomalies hold at most maxAnomalyChars characters, also after a reopen and a retention prune', async () => {
  const store = await ResultsStore.open(options({ maxAnomalies: 1000, maxAnomalyChars: 20_000 }));
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) ids.push(store.add(longLine(i, true, 1000)));
  expect(store.heldInMemory('s')).toMatchObject({ anomalies: 20, anomalyChars: 20_000 });
  expect(store.anomalies(all).map((a) => a.id)).toEqual(ids.slice(80).reverse());
  expect(store.getAnomaly(ids[79])).toBeUndefined();
  expect(store.getAnomaly(ids[80])?.line).toBe(longLine(80, true, 1000).line);
  await store.close();
  // every anomaly is on disk; a reopen loads only the newest within the bound
  const reopened = await ResultsStore.open(options({ maxAnomalies: 1000, maxAnomalyChars: 20_000 }));
  expect(reopened.heldInMemory('s')).toMatchObject({ anomalies: 20, anomalyChars: 20_000 });
  expect(reopened.anomalies(all).map((a) => a.id)).toEqual(ids.slice(80).reverse());
  await reopened.close();
  // anomalies pruned by age (past retention.hours) give their characters back
  const aged = await ResultsStore.open(options({ dir: path.join(dir, 'aged'), maxAnomalies: 1000, maxAnomalyChars: 20_000 }));
  for (let i = 0; i < 5; i++) aged.add(longLine(i, true, 1000, Date.now() - 2 * 3600_000));
  for (let i = 5; i < 8; i++) aged.add(longLine(i, true, 1000));
  expect(aged.heldInMemory('s')).toMatchObject({ anomalies: 8, anomalyChars: 8000 });
  await aged.flush();
  expect(aged.heldInMemory('s')).toMatchObject({ anomalies: 3, anomalyChars: 3000 });
  await aged.close();
});

test('segments rotate by size and the oldest are deleted beyond the size bound', async () => {
  const store = await ResultsStore.open(options({ segmentBytes: 64 * 1024, maxBytesPerSource: 1024 * 1024 }));
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 500; i++) {
      store.add(line(round * 500 + i, false));
    }
    await store.flush();
  }
  await store.close();
  const sourceDir = path.join(dir, 'results', sourceKey('s'));
  const lineFiles = readdirSync(sourceDir).filter((f) => f.startsWith('lines-'));
  expect(lineFiles.length).toBeGreaterThan(3);
  const total = lineFiles.reduce((s, f) => s + statSync(path.join(sourceDir, f)).size, 0);
  // 20,000 lines of ~110 bytes (2.2 MB) were written; at most the bound plus one segment remains.
  expect(total).toBeLessThanOrEqual(1024 * 1024 + 128 * 1024);
  expect(total).toBeGreaterThan(512 * 1024);
});

test('anomalies older than the retention are dropped from queries and not reloaded; the in-memory bound holds', async () => {
  const store = await ResultsStore.open(options({ retentionMs: 60_000, maxAnomalies: 100 }));
  store.add(line(1, true, Date.now() - 120_000));
  for (let i = 0; i < 150; i++) {
    store.add(line(i, true));
  }
  await store.flush();
  const kept = store.anomalies(all);
  expect(kept.length).toBeLessThanOrEqual(110);
  expect(kept.every((a) => a.time > Date.now() - 60_000)).toBe(true);
  await store.close();
  const reopened = await ResultsStore.open(options({ retentionMs: 60_000, maxAnomalies: 100 }));
  expect(reopened.anomalies(all)).toHaveLength(100);
  await reopened.close();
});

test('files past the retention are deleted by the sweep, also for a source that went quiet', async () => {
  const store = await ResultsStore.open(options({ retentionMs: 3600_000 }));
  store.add(line(1, true));
  await store.close(); // the files are closed: a new segment will be opened by the next write
  const sourceDir = path.join(dir, 'results', sourceKey('s'));
  const old = readdirSync(sourceDir).filter((f) => f.endsWith('.ndjson'));
  expect(old.length).toBe(3); // lines, anomalies, counts
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  for (const f of old) {
    utimesSync(path.join(sourceDir, f), twoHoursAgo, twoHoursAgo);
  }
  const reopened = await ResultsStore.open(options({ retentionMs: 3600_000 }));
  await reopened.sweepRetention();
  expect(readdirSync(sourceDir).filter((f) => f.endsWith('.ndjson'))).toEqual([]);
  await reopened.close();
});

test('a torn last record (crash mid-write) is skipped on reload', async () => {
  const store = await ResultsStore.open(options());
  const id = store.add(line(1, true));
  await store.close();
  const sourceDir = path.join(dir, 'results', sourceKey('s'));
  for (const f of readdirSync(sourceDir).filter((n) => n.endsWith('.ndjson'))) {
    appendFileSync(path.join(sourceDir, f), '{"q":12,"t":');
  }
  const reopened = await ResultsStore.open(options());
  expect(reopened.anomalies(all).map((a) => a.id)).toEqual([id]);
  reopened.add(line(2, false));
  await reopened.close();
});

test('filters: source, minScore, search, suppressed, time range, limit (newest first)', async () => {
  const store = await ResultsStore.open(options());
  const t = Date.now();
  store.add({ ...line(1, true, t - 3000, 'a'), score: 3 });
  store.add({ ...line(2, true, t - 2000, 'b'), score: 9, line: 'ERROR disk full' });
  store.add({ ...line(3, true, t - 1000, 'a'), score: 7, suppressed: true });
  const q = (f: Partial<typeof all & { source: string; minScore: number; search: string }>) => store.anomalies({ ...all, ...f }).map((a) => a.time);
  expect(q({})).toEqual([t - 1000, t - 2000, t - 3000]);
  expect(q({ source: 'a' })).toEqual([t - 1000, t - 3000]);
  expect(q({ minScore: 7 })).toEqual([t - 1000, t - 2000]);
  expect(q({ search: 'DISK' })).toEqual([t - 2000]);
  expect(q({ includeSuppressed: false, isSuppressed: (a) => a.suppressed })).toEqual([t - 2000, t - 3000]);
  expect(q({ fromMs: t - 2500, toMs: t - 1500 })).toEqual([t - 2000]);
  expect(q({ limit: 1 })).toEqual([t - 1000]);
  await store.close();
});

test('a failing write is reported and scoring goes on', async () => {
  const errors: string[] = [];
  const again = await ResultsStore.open(options({ onError: (err, what) => errors.push(`${what}: ${err.message}`) }));
  const id = again.add(line(2, true, Date.now(), 's2'));
  // The first line registers the source's directory in the background: let that finish, or its mkdir races
  // the replacement below.
  const sourceDir = path.join(dir, 'results', sourceKey('s2'));
  await waitUntil(() => existsSync(path.join(sourceDir, 'source.json')), 'the s2 results directory to be registered');
  // Replace the source's directory by a file: its segment files cannot be created.
  rmSync(path.join(dir, 'results', sourceKey('s2')), { recursive: true, force: true });
  writeFileSync(path.join(dir, 'results', sourceKey('s2')), 'not a directory');
  await expect(again.flush()).rejects.toThrow();
  expect(again.add(line(3, false, Date.now(), 's2'))).not.toBe(id);
  expect(again.anomalies({ ...all, source: 's2' }).map((a) => a.id)).toEqual([id]);
  await again.close();
  expect(errors.length).toBeGreaterThan(0);
  expect(again.lastError).toMatch(/writing results/);
});

describe('fact-store', () => {
  test('an unreadable fact-store file stops start-up with a message naming it', async () => {
    writeFileSync(path.join(dir, 'fact-store.json'), '{"feedback": [');
    await expect(FactStore.open(dir)).rejects.toThrow(/fact-store .*fact-store\.json is unreadable/);
  });

  test('records and the suppression index survive reopening; delete lifts suppression', async () => {
    const facts = await FactStore.open(dir);
    const fp = await facts.add({ message: 'm 1', kind: 'false_positive', source: 'a', template: 'm <NUM>', score: 3, comment: null, user: null });
    await facts.add({ message: 'n', kind: 'confirmed', source: 'a', template: 'n', score: 5, comment: 'c', user: 'u' });
    await facts.add({ message: 'any', kind: 'false_positive', source: '*', template: 'everywhere', score: null, comment: null, user: null });
    const reopened = await FactStore.open(dir);
    expect(reopened.list().map((r) => r.message)).toEqual(['m 1', 'n', 'any']);
    expect(reopened.isSuppressed('a', 'm <NUM>')).toBe(true);
    expect(reopened.isSuppressed('b', 'm <NUM>')).toBe(false);
    expect(reopened.isSuppressed('b', 'everywhere')).toBe(true);
    expect(reopened.isSuppressed('a', 'n')).toBe(false);
    expect(reopened.counts()).toEqual({ falsePositives: 2, confirmed: 1, precision: 1 / 3 });
    expect(reopened.falsePositiveMessages('a').sort()).toEqual(['any', 'm 1']);
    expect(await reopened.delete(fp.id)).toBe(true);
    expect(reopened.isSuppressed('a', 'm <NUM>')).toBe(false);
    expect(await reopened.delete(fp.id)).toBe(false);
    expect((await FactStore.open(dir)).list()).toHaveLength(2);
  });
});

test('stored lines round-trip exactly: quotes, control characters, emoji, lone surrogates, 2 MB lines', async () => {
  const texts = ['plain', 'quote " and \\ back', 'tab\there\u0001', 'emoji 😀 ok', 'lone \ud800 surrogate', 'sep \u2028 x', 'é'.repeat(1_000_000)];
  const store = await ResultsStore.open(options({ recentLines: 100 }));
  const ids = texts.map((t, i) => store.add({ ...line(i, i === 3), line: t }));
  for (let i = 0; i < 200; i++) {
    store.add(line(100 + i, false)); // push the texts out of the ring: context comes from the file
  }
  const ctx = await store.context(ids[3], 3, 3);
  expect(ctx!.before.map((r) => r.line)).toEqual(texts.slice(0, 3));
  expect(ctx!.after.map((r) => r.line)).toEqual(texts.slice(4, 7));
  await store.close();
});
