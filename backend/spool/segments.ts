/**
 * The spool's segment files: <dir>/<index, 12 digits>.spool, appended in index order. At start-up each is read
 * whole, record by record; a tail that does not check (torn by a crash or a full disk) is cut off, and logged;
 * damage followed by whole records is cut off too, but kept aside in `<segment>.corrupt` first.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { HEADER_BYTES, decodeRecord, type SpoolBatch } from './record';

const SUFFIX = '.spool';
const INDEX_WIDTH = 12;

export function segmentFile(dir: string, index: number): string {
  return path.join(dir, `${String(index).padStart(INDEX_WIDTH, '0')}${SUFFIX}`);
}

/** Indexes of the segment files in `dir`, ascending. */
export async function segmentIndexes(dir: string): Promise<number[]> {
  const names = await fs.readdir(dir);
  return names
    .filter((n) => n.endsWith(SUFFIX) && /^\d+$/.test(n.slice(0, -SUFFIX.length)))
    .map((n) => Number(n.slice(0, -SUFFIX.length)))
    .sort((a, b) => a - b);
}

export interface ScannedSegment {
  index: number;
  /** Bytes of whole records (the file's size after any torn tail was cut). */
  bytes: number;
  batches: SpoolBatch[];
}

/** Reads one segment; a tail that is not a whole, checked record is truncated away (and logged). */
export async function scanSegment(dir: string, index: number, logger: Logger): Promise<ScannedSegment> {
  const file = segmentFile(dir, index);
  const buf = await fs.readFile(file);
  const batches: SpoolBatch[] = [];
  let offset = 0;
  for (;;) {
    const record = decodeRecord(buf, offset);
    if (record === null) break;
    batches.push(record.batch);
    offset = record.end;
  }
  if (offset < buf.length) {
    const droppedBytes = buf.length - offset;
    const next = nextWholeRecord(buf, offset + 1);
    if (next < 0) {
      logger.warn({ file, offset, droppedBytes }, 'spool: torn tail truncated (a record cut by a crash or a failed write; it was never acknowledged)');
    } else {
      // A whole record after the bad one: not a crash's torn tail (a crash cuts only the last write) but damage in
      // the middle (a media error, an edited file). What follows held acknowledged lines; replaying them past a
      // hole would break the source's order, so they are kept aside, never silently deleted.
      const aside = `${file}.${Date.now()}.corrupt`; // a name of its own: an earlier one is never overwritten
      await fs.writeFile(aside, buf.subarray(offset));
      logger.error(
        { file, offset, droppedBytes, keptAside: aside, nextRecordAt: next },
        'spool: damaged record in the middle of a segment; the rest of the segment (acknowledged lines among it) was moved aside and is not replayed',
      );
    }
    await fs.truncate(file, offset);
  }
  return { index, bytes: offset, batches };
}

/** The offset of the first record at or after `from` that checks, -1 when there is none. */
export function nextWholeRecord(buf: Buffer, from: number): number {
  // every payload is JSON.stringify of {s, q, e, b}: a record's body starts with {"s":, so the checksum is
  // computed only where those bytes are (a start-up scan of a damaged segment stays linear in practice)
  for (let p = buf.indexOf(PAYLOAD_START, from + HEADER_BYTES); p >= 0; p = buf.indexOf(PAYLOAD_START, p + 1)) {
    if (decodeRecord(buf, p - HEADER_BYTES) !== null) return p - HEADER_BYTES;
  }
  return -1;
}
const PAYLOAD_START = Buffer.from('{"s":');

/** fsyncs a directory, so a file created or deleted in it stays so after a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
