import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { LogEntry } from '../sources/source';
import { removeDir, tempDir } from '../testing/temp-dir';
import { encodeRecord } from './record';
import { nextWholeRecord, scanSegment, segmentFile } from './segments';

const entries = (from: number, n: number): LogEntry[] =>
  Array.from({ length: n }, (_, i) => ({ source: 's', timestampMs: 1000 + i, line: `line ${from + i}`, labels: {} }));

/** A pino logger that keeps each record's message and fields. */
function recordingLogger(): { logger: pino.Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => records.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, records };
}

describe('spool segments at start-up', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('lad-segments-')));
  afterEach(() => removeDir(dir));

  const three = (): Buffer[] => [encodeRecord({ source: 's', firstSeq: 0, entries: entries(0, 3) }), encodeRecord({ source: 's', firstSeq: 3, entries: entries(3, 3) }), encodeRecord({ source: 's', firstSeq: 6, entries: entries(6, 3) })];

  it('cuts a torn tail (the last write cut short by a crash) and keeps nothing aside', async () => {
    const [a, b] = three();
    const file = segmentFile(dir, 1);
    writeFileSync(file, Buffer.concat([a, b.subarray(0, b.length - 5)]));
    const { logger, records } = recordingLogger();
    const scanned = await scanSegment(dir, 1, logger);
    expect(scanned.batches.map((x) => x.firstSeq)).toEqual([0]);
    expect(statSync(file).size).toBe(a.length);
    expect(readdirSync(dir).filter((n) => n.endsWith('.corrupt'))).toEqual([]);
    expect(records.map((r) => r.msg)).toEqual([expect.stringMatching(/torn tail truncated/)]);
  });

  it('keeps damage in the middle of a segment aside (whole records follow it), never deletes it', async () => {
    const [a, b, c] = three();
    const damaged = Buffer.from(b);
    damaged[damaged.length - 4] ^= 1; // a flipped bit in the second record's payload
    const file = segmentFile(dir, 1);
    writeFileSync(file, Buffer.concat([a, damaged, c]));
    const { logger, records } = recordingLogger();
    const scanned = await scanSegment(dir, 1, logger);
    expect(scanned.batches.map((x) => x.firstSeq)).toEqual([0]);
    expect(statSync(file).size).toBe(a.length);
    // the third record, acknowledged and whole, is in the file set aside, byte for byte
    const aside = readdirSync(dir).filter((n) => n.endsWith('.corrupt'));
    expect(aside).toEqual([expect.stringMatching(/^000000000001\.spool\.\d+\.corrupt$/)]);
    expect(readFileSync(path.join(dir, aside[0]))).toEqual(Buffer.concat([damaged, c]));
    expect(records).toEqual([expect.objectContaining({ level: 50, keptAside: path.join(dir, aside[0]), nextRecordAt: a.length + b.length, msg: expect.stringMatching(/damaged record in the middle/) })]);
  });

  it('finds the next whole record after damage, and none in a torn tail', () => {
    const [a, b, c] = three();
    const buf = Buffer.concat([a, Buffer.from('garbage {"s": not a record'), b, c]);
    expect(nextWholeRecord(buf, a.length)).toBe(a.length + 26);
    expect(nextWholeRecord(Buffer.concat([a, b.subarray(0, 20)]), a.length)).toBe(-1);
  });
});
