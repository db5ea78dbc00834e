import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface SegmentLogOptions {
  dir: string;
  /** File names are `<prefix>-<start key>.ndjson`, the start key being a zero-padded number. */
  prefix: string;
  /** Start a new file once the current one is this big. */
  segmentBytes: number;
  /** Also start a new file after this long (so retention can drop old data in slices). */
  segmentMs: number;
  /** Delete whole files older than this (by their last write). */
  retentionMs: number;
  /** Delete the oldest files while the total is above this. */
  maxBytes: number;
  /**
   * While writes fail (a full disk), records are kept in memory and written, in order, by a later flush. Past this
   * many bytes kept, the log gives up: it drops what it holds and every later record until the process restarts
   * (see `failed`), so the file never has a hole with later records after it. Default 64 MiB.
   */
  maxBacklogBytes?: number;
}

export interface SegmentFile {
  file: string;
  startKey: number;
}

const KEY_WIDTH = 17;

/**
 * An append-only log of NDJSON records split into segment files, with rotation by size and age and retention
 * by age and total size. Appends are buffered in memory and written by flush() (the caller's timer), in order,
 * one write at a time: the per-line cost is one string push.
 */
const CHUNK_BYTES = 1 << 20;
const DEFAULT_MAX_BACKLOG_BYTES = 64 * 1024 * 1024;
/** Characters JSON must escape in a string (plus lone surrogates, checked separately). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;
const LONE_SURROGATE = /[\ud800-\udfff]/;

export class SegmentLog {
  /** Records are encoded straight into 1 MiB buffers: no per-record string kept, no join at flush. */
  private chunks: Buffer[] = [];
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private handle: fs.FileHandle | null = null;
  private current: SegmentFile | null = null;
  private currentBytes = 0;
  private currentOpenedAt = 0;
  private writing: Promise<void> = Promise.resolve();
  private nextKey: number | null = null;
  /** The last write failed: what it held is back at the front of `chunks` for the next flush. */
  private retrying: string | null = null;
  /**
   * Set when the log gave up (backlog over maxBacklogBytes, or a failed write it could not cut back): records are
   * dropped from then on, and sync() fails, so nothing that depends on them being on disk may pass.
   */
  failed: string | null = null;
  /** Records dropped since the log gave up. */
  droppedRecords = 0;

  constructor(private readonly opts: SegmentLogOptions) {}

  /** Segment files on disk, oldest first. */
  async files(): Promise<SegmentFile[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.opts.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return [];
      }
      throw err;
    }
    const re = new RegExp(`^${this.opts.prefix}-(\\d+)\\.ndjson$`);
    return names
      .map((name) => {
        const m = re.exec(name);
        return m ? { file: path.join(this.opts.dir, name), startKey: Number(m[1]) } : null;
      })
      .filter((f): f is SegmentFile => f !== null)
      .sort((a, b) => a.startKey - b.startKey);
  }

  /**
   * Buffers one record. `key` is the record's ordering key (sequence number or time): a new segment file is
   * named after the key of its first record, which lets readers find the file holding a key.
   */
  append(record: string, key: number): void {
    if (this.failed !== null) {
      this.droppedRecords++;
      return;
    }
    this.start(key);
    this.put(record);
    this.put('\n');
  }

  /**
   * Buffers `head` + JSON string of `text` + `tail` + newline as one record, without building the record
   * string: the hot path for scored lines (most need no escaping and are copied as they are).
   */
  appendWithString(head: string, text: string, tail: string, key: number): void {
    if (this.failed !== null) {
      this.droppedRecords++;
      return;
    }
    this.start(key);
    this.put(head);
    if (NEEDS_ESCAPE.test(text) || LONE_SURROGATE.test(text)) {
      this.put(JSON.stringify(text));
    } else {
      this.put('"');
      this.put(text);
      this.put('"');
    }
    this.put(tail);
    this.put('\n');
  }

  private start(key: number): void {
    if (this.nextKey === null) {
      this.nextKey = key;
    }
  }

  private put(text: string): void {
    // Worst case 3 bytes per UTF-16 unit; a string too big for the room left gets a chunk of its own size.
    if (this.used + text.length * 3 > this.chunk.length) {
      this.seal();
      if (text.length * 3 > this.chunk.length) {
        this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, text.length * 3));
      }
    }
    const n = this.chunk.write(text, this.used, 'utf8');
    this.used += n;
  }

  /** Moves the filled part of the current chunk to the list to write and starts a fresh chunk. */
  private seal(): void {
    if (this.used > 0) {
      this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      this.used = 0;
    }
  }

  /** Writes buffered records; resolves when they (and any earlier flush) are written. */
  flush(): Promise<void> {
    this.seal();
    if (this.chunks.length === 0) {
      return this.writing;
    }
    const buffers = this.chunks;
    const firstKey = this.nextKey ?? 0;
    this.chunks = [];
    this.nextKey = null;
    const run = this.writing.then(() => this.write(buffers, firstKey)).then(
      () => {
        this.retrying = null;
      },
      (err: Error) => {
        this.keepForRetry(buffers, firstKey, err);
        throw err;
      }
    );
    // A failed write (disk full, say) must not wedge every later write: the chain goes on, this caller sees it.
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** What failed goes back in front of what was appended since, so the next flush writes both in order. */
  private keepForRetry(buffers: Buffer[], firstKey: number, err: Error): void {
    if (this.failed !== null) return;
    this.retrying = err.message;
    this.chunks = [...buffers, ...this.chunks];
    this.nextKey = firstKey;
    let held = this.used;
    for (const b of this.chunks) held += b.length;
    const max = this.opts.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES;
    if (held > max) this.giveUp(`${err.message}; over ${max} bytes waiting to be written, records dropped from now on until a restart`);
  }

  private giveUp(reason: string): void {
    this.failed = reason;
    this.chunks = [];
    this.used = 0;
    this.nextKey = null;
  }

  /** Why writes fail right now (a retry pending, or given up), or null. */
  get writeError(): string | null {
    return this.failed ?? this.retrying;
  }

  /**
   * Flushes, then fsyncs the current file (the files before it were fsynced when rotated away). Fails while
   * records are held after a failed write or were dropped: a caller must not treat them as on disk.
   */
  async sync(): Promise<void> {
    await this.flush();
    if (this.failed !== null) throw new Error(`${this.opts.prefix} log: ${this.failed}`);
    await this.handle?.datasync();
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    await this.writing;
    if (this.handle) {
      await this.handle.close();
      this.handle = null;
    }
  }

  /** Reads all records of one file, line by line (a torn last line from a crash is skipped). */
  static async *records(file: string): AsyncGenerator<string> {
    const stream = createReadStream(file, { encoding: 'utf8' });
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (line.length > 0) {
          yield line;
        }
      }
    } finally {
      lines.close();
      stream.destroy();
    }
  }

  private async write(buffers: Buffer[], firstKey: number): Promise<void> {
    const now = Date.now();
    if (
      !this.handle ||
      this.currentBytes >= this.opts.segmentBytes ||
      now - this.currentOpenedAt >= this.opts.segmentMs
    ) {
      await this.rotate(firstKey, now);
    }
    let bytes = 0;
    for (const b of buffers) {
      bytes += b.length;
    }
    // writev may write partially; loop until every byte is out.
    let pending = buffers;
    try {
      while (pending.length > 0) {
        const { bytesWritten } = await this.handle!.writev(pending);
        pending = dropWritten(pending, bytesWritten);
      }
    } catch (err) {
      // No torn record left behind: cut back to the last whole one, so the retry appends after it. If even that
      // fails, give up rather than write after a fragment (a reader would see a hole with records after it).
      await this.handle!.truncate(this.currentBytes).catch((cut: Error) => this.giveUp(`${(err as Error).message}; cutting back the torn write failed too (${cut.message})`));
      throw err;
    }
    this.currentBytes += bytes;
  }

  private async rotate(firstKey: number, now: number): Promise<void> {
    if (this.handle) {
      // what a later sync() vouches for includes this file
      await this.handle.datasync();
      await this.handle.close();
      this.handle = null;
    }
    await fs.mkdir(this.opts.dir, { recursive: true });
    const file = path.join(this.opts.dir, `${this.opts.prefix}-${String(firstKey).padStart(KEY_WIDTH, '0')}.ndjson`);
    this.handle = await fs.open(file, 'a');
    this.current = { file, startKey: firstKey };
    this.currentBytes = (await this.handle.stat()).size;
    this.currentOpenedAt = now;
    await this.enforceRetention(now);
  }

  /** Drops whole old files: older than the retention, or the oldest while over the size bound. */
  async enforceRetention(now = Date.now()): Promise<void> {
    const files = await this.files();
    const stats = await Promise.all(
      files.map(async (f) => ({ ...f, stat: await fs.stat(f.file).catch(() => null) }))
    );
    let total = stats.reduce((sum, f) => sum + (f.stat?.size ?? 0), 0);
    for (const f of stats) {
      if (!f.stat || f.file === this.current?.file) {
        continue;
      }
      if (now - f.stat.mtimeMs > this.opts.retentionMs || total > this.opts.maxBytes) {
        await fs.rm(f.file, { force: true });
        total -= f.stat.size;
      }
    }
  }
}

/** The buffers still to write after `written` bytes of them went out. */
function dropWritten(buffers: Buffer[], written: number): Buffer[] {
  let rest = written;
  let i = 0;
  while (i < buffers.length && rest >= buffers[i].length) {
    rest -= buffers[i].length;
    i++;
  }
  if (i >= buffers.length) {
    return [];
  }
  return [buffers[i].subarray(rest), ...buffers.slice(i + 1)];
}
