import { spawnSync } from 'node:child_process';
import { promises as fs, mkdirSync, readdirSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createLinePushRouter } from '../sources/line-push';
import { createLokiPushRouter } from '../sources/loki-push';
import type { LogEntry } from '../sources/source';
import { ResultsStore } from '../store/results-store';
import { removeDir, tempDir } from '../testing/temp-dir';
import { readCheckpoint } from './checkpoint';
import { decodeRecord, encodeRecord } from './record';
import { Spool, SpoolWriteError, type SpoolResults } from './spool';
import { SpooledSink } from './spooled-sink';

/** A results store stand-in: it "stores" the scored lines of source s in an array (seq = index); other sources have none. */
class FakeResults implements SpoolResults {
  stored: LogEntry[] = [];
  lastSeq(source: string): number {
    return source === 's' ? this.stored.length - 1 : -1;
  }
  async linesAfter(source: string, seq: number): Promise<number> {
    return source === 's' ? this.stored.length - 1 - seq : 0;
  }
  async syncLines(): Promise<void> {}
}

const silent = pino({ level: 'silent' });
const entries = (source: string, from: number, n: number): LogEntry[] =>
  Array.from({ length: n }, (_, i) => ({ source, timestampMs: 1000 + i, line: `line ${from + i}`, labels: { host: 'a' } }));

describe('spool', () => {
  let dir: string;
  let results: FakeResults;
  let scoredSeq: number | null;
  const open = (segmentBytes = 1 << 20): Promise<Spool> =>
    Spool.open({ dir, fsyncIntervalMs: 1, segmentBytes, checkpointIntervalMs: 60_000, logger: silent, results, scored: (source) => (source === 's' ? scoredSeq : null) });

  beforeEach(() => {
    dir = tempDir('lad-spool-unit-');
    results = new FakeResults();
    scoredSeq = null;
  });
  afterEach(() => removeDir(dir));

  it('frames records with a checksum: a flipped byte or a cut record does not decode', () => {
    const buf = encodeRecord({ source: 's', firstSeq: 7, entries: entries('s', 0, 3) });
    const decoded = decodeRecord(buf, 0)!;
    expect(decoded.end).toBe(buf.length);
    expect(decoded.batch.entries.map((e) => [e.line, e.spoolSeq, e.labels.host])).toEqual([
      ['line 0', 7, 'a'],
      ['line 1', 8, 'a'],
      ['line 2', 9, 'a'],
    ]);
    const flipped = Buffer.from(buf);
    flipped[buf.length - 3] ^= 1;
    expect(decodeRecord(flipped, 0)).toBeNull();
    expect(decodeRecord(buf.subarray(0, buf.length - 1), 0)).toBeNull();
  });

  it('groups concurrent appends into one commit, delivers in order, and replays only what was not scored', async () => {
    const spool = await open();
    const delivered: LogEntry[] = [];
    const deliver = (e: LogEntry[]): void => void delivered.push(...e);
    const handle = (spool as unknown as { handle: fs.FileHandle }).handle;
    const datasync = jest.spyOn(handle, 'datasync');
    await Promise.all([spool.append(entries('s', 0, 10), deliver), spool.append(entries('s', 10, 10), deliver), spool.append(entries('t', 0, 5), deliver)]);
    expect(datasync).toHaveBeenCalledTimes(1);
    expect(delivered.map((e) => `${e.source}:${e.spoolSeq}`).slice(9, 12)).toEqual(['s:9', 's:10', 's:11']);
    // 12 lines of s scored and stored, 4 of them after the checkpoint was written
    results.stored = delivered.filter((e) => e.source === 's').slice(0, 8);
    scoredSeq = 7;
    await spool.checkpoint();
    results.stored.push(...delivered.filter((e) => e.source === 's').slice(8, 12));
    // a crash: no close
    const again = await open();
    const replay = again.takeReplay().flat();
    expect(replay.filter((e) => e.source === 's').map((e) => e.line)).toEqual(entries('s', 12, 8).map((e) => e.line));
    expect(replay.filter((e) => e.source === 't')).toHaveLength(5);
    await again.close();
    await spool.close();
  });

  it('a failed write (ENOSPC) rejects with 503, keeps nothing, and the next write goes on from the same place', async () => {
    const spool = await open();
    const handle = (spool as unknown as { handle: fs.FileHandle }).handle;
    const write = handle.write.bind(handle);
    const delivered: LogEntry[] = [];
    const deliver = (e: LogEntry[]): void => void delivered.push(...e);
    await spool.append(entries('s', 0, 3), deliver);
    const file = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.spool'))!);
    const size = (await fs.stat(file)).size;
    // The disk fills up half-way through the record.
    (handle as unknown as { write: unknown }).write = async (buf: Buffer, offset: number, length: number, position: number) => {
      await write(buf, offset, Math.floor(length / 2), position);
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    };
    const failed = spool.append(entries('s', 3, 3), deliver);
    await expect(failed).rejects.toBeInstanceOf(SpoolWriteError);
    await expect(failed).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/ENOSPC/) });
    expect(delivered).toHaveLength(3);
    expect((await fs.stat(file)).size).toBe(size);
    expect(spool.lastError).toMatch(/ENOSPC/);
    (handle as unknown as { write: unknown }).write = write;
    await spool.append(entries('s', 3, 3), deliver);
    expect(delivered.map((e) => e.spoolSeq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(spool.lastError).toBeNull();
    await spool.close();
    const reopened = await open();
    expect(reopened.takeReplay().flat().map((e) => e.line)).toEqual(entries('s', 0, 6).map((e) => e.line));
    await reopened.close();
  });

  it('deletes segments once every line in them is scored', async () => {
    const spool = await open(64 * 1024);
    const deliver = (): void => undefined;
    const long = (from: number): LogEntry[] => entries('s', from, 200).map((e) => ({ ...e, line: `${e.line} ${'x'.repeat(400)}` }));
    for (let i = 0; i < 5; i++) await spool.append(long(i * 200), deliver);
    const segments = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.spool'));
    expect(segments().length).toBeGreaterThan(1);
    scoredSeq = 999;
    results.stored = entries('s', 0, 1000);
    await spool.checkpoint();
    expect(segments()).toHaveLength(1); // the one being written
    await spool.close();
  });

  it('a push whose spool write fails is answered 503 with the reason, never 204', async () => {
    const spool = await open();
    const accepted: LogEntry[] = [];
    const sink = new SpooledSink({ reserve: () => undefined, accept: (e) => void accepted.push(...e), saturated: false, onDrain: () => () => undefined }, spool);
    const app = express().use(createLinePushRouter(sink)).use(createLokiPushRouter(sink));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/push?source=s`;
    try {
      expect((await fetch(url, { method: 'POST', body: 'a\nb' })).status).toBe(204);
      const loki = JSON.stringify({ streams: [{ stream: { job: 's' }, values: [['1795620450936000000', 'from loki']] }] });
      const lokiUrl = url.replace('/api/push?source=s', '/loki/api/v1/push');
      expect((await fetch(lokiUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: loki })).status).toBe(204);
      const handle = (spool as unknown as { handle: fs.FileHandle }).handle;
      handle.datasync = () => Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      const res = await fetch(url, { method: 'POST', body: 'c\nd' });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/spool.*ENOSPC/);
      expect(accepted.map((e) => [e.line, e.spoolSeq])).toEqual([
        ['a', 0],
        ['b', 1],
        ['from loki', 2],
      ]);
    } finally {
      await new Promise((r) => server.close(r));
      await spool.close().catch(() => undefined);
    }
  });

  // A real full disk under the results store only (a small tmpfs; the spool stays on the test's disk): a dropped
  // background write must not let the checkpoint pass lines whose results are not on disk. Needs mount (root).
  it('while the results store cannot write, the checkpoint does not pass its lines; once space returns they are written in order', async () => {
    const mnt = path.join(dir, 'mnt');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status !== 0) {
      process.stdout.write('results full disk: skipped, mount -t tmpfs is not allowed here\n');
      return;
    }
    const spoolDir = path.join(dir, 'spool');
    const options = { dir: path.join(mnt, 'results'), retentionMs: 3600_000, maxBytesPerSource: 1 << 30, segmentBytes: 1 << 20, recentLines: 100, maxAnomalies: 100, bucketMs: 10_000 };
    const store = await ResultsStore.open(options);
    let scored: number | null = null;
    const spool = await Spool.open({ dir: spoolDir, fsyncIntervalMs: 1, segmentBytes: 1 << 20, checkpointIntervalMs: 60_000, logger: silent, results: store, scored: () => scored });
    const long = (from: number): LogEntry[] => entries('s', from, 10).map((e) => ({ ...e, line: `${e.line} ${'x'.repeat(4000)}` }));
    const score = async (batch: LogEntry[]): Promise<void> => {
      await spool.append(batch, (accepted) => {
        for (const e of accepted) store.addScored('s', { ...e, timestampMs: Date.now() }, 1, 10, false, false, 't', '', null);
        scored = accepted[accepted.length - 1].spoolSeq!;
      });
    };
    try {
      await score(long(0));
      await spool.checkpoint();
      expect((await readCheckpoint(spoolDir)).get('s')?.next).toBe(10);
      // the disk fills up
      const { bavail, bsize } = statfsSync(mnt);
      writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(bavail * bsize));
      await score(long(10));
      await expect(store.flush()).rejects.toThrow(/ENOSPC/);
      await spool.checkpoint();
      expect((await readCheckpoint(spoolDir)).get('s')?.next).toBe(10);
      expect(store.lastError).toMatch(/ENOSPC/);
      await expect(store.flush()).rejects.toThrow(/ENOSPC/); // retried, still full
      // space returns: the held lines are written (in order, once) and the checkpoint moves on
      await fs.rm(path.join(mnt, 'filler'));
      await store.flush();
      expect(store.lastError).toBeNull();
      await spool.checkpoint();
      expect((await readCheckpoint(spoolDir)).get('s')?.next).toBe(20);
      await spool.close();
      await store.close();
      const sourceDir = path.join(options.dir, readdirSync(options.dir)[0]);
      const file = path.join(sourceDir, readdirSync(sourceDir).find((f) => f.startsWith('lines-'))!);
      const records = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
      expect(records.map((r) => (JSON.parse(r) as { l: string }).l.split(' ').slice(0, 2).join(' '))).toEqual(entries('s', 0, 20).map((e) => e.line));
    } finally {
      await spool.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      spawnSync('umount', ['-l', mnt]);
    }
  });

  it('the results store counts the whole lines stored after a sequence number; a record torn by a kill is not one', async () => {
    const options = { dir, retentionMs: 3600_000, maxBytesPerSource: 1 << 30, segmentBytes: 1 << 20, recentLines: 100, maxAnomalies: 100, bucketMs: 10_000 };
    const store = await ResultsStore.open(options);
    for (const e of entries('s', 0, 5)) store.addScored('s', { ...e, timestampMs: Date.now() }, 1, 10, false, false, 't', '', null);
    const second = store.lastSeq('s') - 3;
    await store.close();
    const sourceDir = path.join(dir, readdirSync(dir).find((d) => d !== 's')!);
    const file = path.join(sourceDir, readdirSync(sourceDir).find((f) => f.startsWith('lines-'))!);
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.slice(0, text.length - 2)); // the last record cut short, after its labels' closing brace
    const reopened = await ResultsStore.open(options);
    expect(await reopened.linesAfter('s', second)).toBe(2); // 3 after it, the last one torn
    expect(await reopened.linesAfter('s', -1)).toBe(4);
    expect(await reopened.linesAfter('unknown', -1)).toBe(0);
    await reopened.close();
  });
});

