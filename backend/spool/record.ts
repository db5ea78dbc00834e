/**
 * One spool record on disk: [payload length u32 LE][CRC32 of the payload u32 LE][payload], the payload a JSON
 * batch of one source's lines with the spool sequence number of its first line. The checksum is what tells a
 * record torn by a crash (or a full disk) from a whole one: a reader stops at the first record that does not check.
 */
import { crc32 } from 'node:zlib';
import type { LogEntry } from '../sources/source';

export const HEADER_BYTES = 8;

/** What a record holds: `count` lines of `source`, numbered firstSeq, firstSeq + 1, ... in the source's spool order. */
export interface SpoolBatch {
  source: string;
  firstSeq: number;
  entries: LogEntry[];
}

interface Payload {
  s: string;
  q: number;
  /** [time ms, line, index into b] per line. */
  e: [number, string, number][];
  /** The distinct label sets of the batch (most batches share one object). */
  b: Record<string, string>[];
}

/** Encodes a batch as one framed record. */
export function encodeRecord(batch: SpoolBatch): Buffer {
  const labelSets: Record<string, string>[] = [];
  let lastLabels: Record<string, string> | null = null;
  let lastIndex = -1;
  const e: [number, string, number][] = new Array(batch.entries.length);
  for (let i = 0; i < batch.entries.length; i++) {
    const entry = batch.entries[i];
    if (entry.labels !== lastLabels) {
      lastLabels = entry.labels;
      lastIndex = labelSets.indexOf(entry.labels);
      if (lastIndex < 0) lastIndex = labelSets.push(entry.labels) - 1;
    }
    e[i] = [entry.timestampMs, entry.line, lastIndex];
  }
  const payload: Payload = { s: batch.source, q: batch.firstSeq, e, b: labelSets };
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([header, body], HEADER_BYTES + body.length);
}

export interface DecodedRecord {
  batch: SpoolBatch;
  /** Offset just past the record. */
  end: number;
}

/**
 * Decodes the record at `offset` of `buf`; null when there is none that checks (a torn or corrupt tail): too
 * short for its header or its length, a checksum mismatch, or a payload that is not a batch.
 */
export function decodeRecord(buf: Buffer, offset: number): DecodedRecord | null {
  if (offset + HEADER_BYTES > buf.length) return null;
  const length = buf.readUInt32LE(offset);
  const end = offset + HEADER_BYTES + length;
  if (end > buf.length) return null;
  const body = buf.subarray(offset + HEADER_BYTES, end);
  if (crc32(body) !== buf.readUInt32LE(offset + 4)) return null;
  let payload: Payload;
  try {
    payload = JSON.parse(body.toString('utf8')) as Payload;
  } catch {
    return null;
  }
  if (typeof payload?.s !== 'string' || !Number.isSafeInteger(payload.q) || !Array.isArray(payload.e) || !Array.isArray(payload.b)) return null;
  const entries: LogEntry[] = payload.e.map(([timestampMs, line, li], i) => ({
    source: payload.s,
    timestampMs,
    line,
    labels: payload.b[li] ?? {},
    spoolSeq: payload.q + i,
  }));
  return { batch: { source: payload.s, firstSeq: payload.q, entries }, end };
}
