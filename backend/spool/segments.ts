/**
 * The spool's segment files: <dir>/<index, 12 digits>.spool, appended in index order. At start-up each is read
 * whole, record by record; a tail that does not check (torn by a crash or a full disk) is cut off, and logged.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { decodeRecord, type SpoolBatch } from './record';

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
    logger.warn({ file, offset, droppedBytes: buf.length - offset }, 'spool: torn tail truncated (a record cut by a crash or a failed write; it was never acknowledged)');
    await fs.truncate(file, offset);
  }
  return { index, bytes: offset, batches };
}

/** fsyncs a directory, so a file created or deleted in it stays so after a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
