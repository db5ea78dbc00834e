/**
 * SegmentLog under failing writes, injected at the file-handle boundary: a write torn half-way is cut back and
 * retried in order (no torn record, nothing twice, nothing skipped); past maxBacklogBytes the log gives up for
 * good and sync() fails, so nothing that depends on those records being on disk can pass.
 */
import { promises as fs, readdirSync } from 'node:fs';
import path from 'node:path';
import { removeDir, tempDir } from '../testing/temp-dir';
import { SegmentLog } from './segment-log';

let dir: string;
beforeEach(() => {
  dir = tempDir('lad-segment-log-');
});
afterEach(() => removeDir(dir));

const open = (maxBacklogBytes?: number): SegmentLog =>
  new SegmentLog({ dir, prefix: 'lines', segmentBytes: 1 << 20, segmentMs: 3600_000, retentionMs: 3600_000, maxBytes: Infinity, maxBacklogBytes });

async function records(): Promise<string[]> {
  const file = path.join(dir, readdirSync(dir).find((f) => f.startsWith('lines-'))!);
  return (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
}

/** Makes the log's file handle write half of what it is given, then fail with ENOSPC, `times` times. */
function fillDisk(log: SegmentLog, times: number): void {
  const handle = (log as unknown as { handle: fs.FileHandle }).handle;
  const writev = handle.writev.bind(handle);
  let left = times;
  handle.writev = (async (buffers: Buffer[]) => {
    if (left-- <= 0) return writev(buffers);
    const all = Buffer.concat(buffers);
    await writev([all.subarray(0, Math.floor(all.length / 2))]);
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  }) as typeof handle.writev;
}

const record = (n: number): string => JSON.stringify({ q: n, l: `line ${n}` });

test('a torn write is cut back and retried in order by the next flush: every record once, none torn', async () => {
  const log = open();
  for (let n = 0; n < 5; n++) log.append(record(n), n);
  await log.flush();
  fillDisk(log, 2);
  for (let n = 5; n < 10; n++) log.append(record(n), n);
  await expect(log.flush()).rejects.toThrow(/ENOSPC/);
  expect(log.writeError).toMatch(/ENOSPC/);
  expect(await records()).toEqual([0, 1, 2, 3, 4].map(record));
  for (let n = 10; n < 12; n++) log.append(record(n), n);
  await expect(log.sync()).rejects.toThrow(/ENOSPC/);
  await log.sync();
  expect(log.writeError).toBeNull();
  expect(await records()).toEqual(Array.from({ length: 12 }, (_, n) => record(n)));
  await log.close();
});

test('past maxBacklogBytes it gives up: later records are dropped, sync fails, the file has no hole', async () => {
  const log = open(200);
  log.append(record(0), 0);
  await log.flush();
  fillDisk(log, Infinity);
  for (let n = 1; n < 20; n++) log.append(record(n), n);
  await expect(log.flush()).rejects.toThrow(/ENOSPC/);
  expect(log.failed).toMatch(/over 200 bytes/);
  log.append(record(20), 20);
  expect(log.droppedRecords).toBe(1);
  await expect(log.sync()).rejects.toThrow(/gave up|over 200 bytes/);
  expect(await records()).toEqual([record(0)]);
  await log.close();
});
