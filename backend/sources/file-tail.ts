/**
 * FileTailSource (config type 'file'): follows one file like `tail -F`.
 * - appends are read as they come (polling with stat: fs.watch misses events on many file systems and
 *   across rotation, and a poll every 250 ms costs nothing);
 * - rotation by rename + create: the old file is read to its end, then the new one from its start;
 * - truncation (copytruncate, `> file`): reading restarts at the beginning;
 * - a missing file is waited for (state 'error' with the reason until it appears);
 * - continuation lines are joined to their entry (see multiline.ts), the last entry is flushed after
 *   `multilineFlushMs` without new lines;
 * - while the sink is saturated nothing more is read: the batch in hand is kept and retried on drain.
 * An unterminated last line is held until its newline arrives (a writer may be mid-line), as Promtail does,
 * but for `partialLineFlushMs` at most: a file whose last line never gets its newline still delivers it.
 *
 * Positions: when a data directory is known, the byte offset just after the last entry the sink ACCEPTED is
 * saved (with the file's device and inode) in <dataDir>/checkpoints/, so a restart resumes exactly there:
 * no gap, no duplicate. A file replaced or truncated while Scorpio was down is read from its start.
 */
import type { Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { liveTime, TimestampParser } from '../engine/timestamps';
import { CheckpointStore, checkpointFile } from './checkpoint';
import { MultilineJoiner, type JoinedEntry } from './multiline';
import { checkFileSourcePath, notRegularFile } from './path-check';
import { RateMeter } from './rate-meter';
import { deliver, waitForRoom } from './deliver';
import type { LogEntry, LogSink, LogSource, SourceStatus } from './source';
import { sourceNameSchema } from './source-name';

/** Blank lines carry nothing to score (a regex test, unlike trim(), allocates nothing). */
const BLANK = /^\s*$/;

export const fileTailConfigSchema = z
  .object({
    type: z.literal('file'),
    name: sourceNameSchema,
    /** A file, or a pattern in the file-name part (`/var/log/app/*.log`, see file-glob.ts). */
    path: z
      .string()
      .min(1)
      .refine((p) => !hasGlob(dirname(p)), 'wildcards are allowed in the file name only, not in directories'),
    /** With a pattern: at most this many files are followed at once. */
    maxFiles: z.number().int().min(1).max(10_000).default(100),
    /** Where to begin in a file that exists at start-up; files that appear later are always read from the start. */
    startAt: z.enum(['end', 'beginning']).default('end'),
    pollIntervalMs: z.number().int().min(10).max(60_000).default(250),
    multiline: z.boolean().default(true),
    /** An unterminated last line is emitted as it is once the file has not grown for this long. */
    partialLineFlushMs: z.number().int().min(1).max(3_600_000).default(5000),
    /**
     * Regular expression for the first line of an entry (e.g. `^\d{4}-\d{2}-\d{2}` for lines that start with a
     * date): every line not matching it is joined to the entry before. Default: the built-in continuation rules.
     */
    firstLinePattern: z
      .string()
      .min(1)
      .refine((pattern) => compiles(pattern), 'not a valid regular expression')
      .optional(),
    /** A pending multi-line entry is emitted after this long without a new line. */
    multilineFlushMs: z.number().int().min(0).max(60_000).default(1000),
    maxEntryLines: z.number().int().min(1).default(500),
    /** Longer lines are cut to this many bytes (a tailed file cannot be answered with a 400). */
    maxLineBytes: z
      .number()
      .int()
      .min(64)
      .default(256 * 1024),
    /** Entries per sink.push call. */
    batchSize: z.number().int().min(1).max(100_000).default(2000),
    /** Added to every entry, beside `filename`. */
    labels: z.record(z.string(), z.string()).default({}),
    /** Remember the read position across restarts (needs a data directory). */
    positions: z.boolean().default(true),
    /** Where positions go (<dataDir>/checkpoints/); default: the service's data dir (context), else LAD_DATA_DIR. */
    dataDir: z.string().min(1).optional(),
  })
  .strict();

/** True when a path component uses glob wildcards (`*`, `?`, `[...]`). */
export function hasGlob(pathPart: string): boolean {
  return /[*?[]/.test(pathPart);
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** What the service tells a source it builds. */
export interface FileTailContext {
  dataDir?: string;
  /** Name of the position file (default: the source name); FileGlobSource gives each file its own. */
  positionKey?: string;
}

const positionSchema = z.object({
  path: z.string(),
  dev: z.number(),
  ino: z.number(),
  offset: z.number().int().nonnegative(),
});
type Position = z.output<typeof positionSchema>;

/** Identity of an opened file, shared by all entries read from it (no per-entry allocation). */
interface FileId {
  dev: number;
  ino: number;
}
export type FileTailConfig = z.input<typeof fileTailConfigSchema>;
type ResolvedConfig = z.output<typeof fileTailConfigSchema>;

const READ_CHUNK_BYTES = 64 * 1024;
/** Bytes read per tick at most, so one huge file cannot starve the event loop or fill memory. */
const MAX_BYTES_PER_TICK = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

interface OpenFile {
  handle: FileHandle;
  id: FileId;
  position: number;
}

export class FileTailSource implements LogSource {
  readonly kind = 'file';
  readonly name: string;
  private readonly config: ResolvedConfig;
  private readonly labels: Record<string, string>;
  private readonly joiner: MultilineJoiner;
  /** Reads each line's own time (a joined entry's: its first line's). */
  private readonly times = new TimestampParser();
  private readonly rate = new RateMeter();

  private sink: LogSink | null = null;
  private file: OpenFile | null = null;
  private firstOpen = true;
  /** Bytes of an unterminated line carried to the next read. */
  private carry: Buffer | null = null;
  private carryGrewAtMs = 0;
  /** Inside an over-long line whose head was already emitted: skip to the next newline. */
  private skippingLongLine = false;
  /** Entries read but not yet accepted by the sink (the batch in hand while paused). */
  private outbox: LogEntry[] = [];
  /** For each outbox entry: the file it came from and the byte offset just after it (for the checkpoint). */
  private outboxFiles: FileId[] = [];
  private outboxEnds: number[] = [];
  private readonly positions: CheckpointStore<Position> | null;
  /** The checkpoint loaded at start, used by the first open only. */
  private resumeFrom: Position | null = null;
  private lastSave: Promise<void> = Promise.resolve();

  private state: SourceStatus['state'] = 'stopped';
  private lastError: string | null = null;
  private linesTotal = 0;
  private behindSinceMs: number | null = null;

  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** Ends a delivery wait (deliver.ts) when the source stops. */
  private abort = new AbortController();
  /** Resolves start() once the first read is done, even while its delivery still waits for the sink. */
  private afterFirstRead: (() => void) | null = null;

  constructor(config: FileTailConfig, context: FileTailContext = {}) {
    this.config = fileTailConfigSchema.parse(config);
    this.name = this.config.name;
    // As for pulls: the entry's own dataDir, else the service's (context), else LAD_DATA_DIR.
    const dataDir = this.config.dataDir ?? context.dataDir ?? process.env.LAD_DATA_DIR;
    this.positions =
      this.config.positions && dataDir
        ? new CheckpointStore(checkpointFile(dataDir, this.kind, context.positionKey ?? this.name), positionSchema)
        : null;
    this.labels = { ...this.config.labels, filename: this.config.path };
    this.joiner = new MultilineJoiner({
      maxLines: this.config.maxEntryLines,
      maxChars: this.config.maxLineBytes * 4,
      firstLine: this.config.firstLinePattern === undefined ? undefined : new RegExp(this.config.firstLinePattern),
    });
  }

  async start(sink: LogSink): Promise<void> {
    if (!this.stopped) {
      throw new Error(`source ${this.name} is already started`);
    }
    // A missing or unreadable directory, a directory as the path, an unreadable file: an error now, naming the
    // source and the resolved path (path-check.ts). A file that does not exist yet is waited for, as tail -F does.
    const problem = await checkFileSourcePath(this.name, this.config.path);
    if (problem?.level === 'error') {
      this.state = 'error';
      this.lastError = problem.message;
      throw new Error(problem.message);
    }
    this.sink = sink;
    this.stopped = false;
    this.state = 'starting';
    this.firstOpen = true;
    // An unreadable checkpoint stops start() (the service reports it) rather than silently re-reading or skipping.
    let saved: Position | null;
    try {
      saved = this.positions ? await this.positions.load() : null;
    } catch (err) {
      this.stopped = true;
      this.state = 'error';
      this.lastError = (err as Error).message;
      throw err;
    }
    this.resumeFrom = saved && saved.path === this.config.path ? saved : null;
    this.abort = new AbortController();
    // Open the file (and note the start position) before start() resolves, but do not wait for a saturated
    // sink to take what was read: a glob starts its files one after the other.
    const firstRead = new Promise<void>((resolve) => {
      this.afterFirstRead = resolve;
    });
    await Promise.race([firstRead, this.runTick()]);
    this.afterFirstRead = null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.abort.abort();
    await this.running;
    await this.lastSave;
    await this.closeFile();
    this.carry = null;
    this.outbox = [];
    this.outboxFiles = [];
    this.outboxEnds = [];
    this.joiner.flush();
    this.state = 'stopped';
  }

  status(): SourceStatus {
    return {
      state: this.state,
      lastError: this.lastError,
      linesTotal: this.linesTotal,
      lagMs: this.behindSinceMs === null ? (this.file ? 0 : null) : Date.now() - this.behindSinceMs,
      linesPerSecond: this.rate.perSecond(),
    };
  }

  // ------------------------------------------------------------ scheduling

  private schedule(delayMs: number): void {
    if (this.stopped) {
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runTick();
    }, delayMs);
  }

  /** Ticks never overlap: a tick asked for while one runs is scheduled after it. */
  private runTick(): Promise<void> {
    if (this.running) {
      return this.running.then(() => this.schedule(0));
    }
    this.running = this.tick()
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async tick(): Promise<void> {
    if (this.stopped || !this.sink) {
      return;
    }
    if (!(await this.deliver())) {
      return; // stopped while the sink pushed back
    }
    if (this.sink.saturated) {
      // Read nothing more until the pipeline drains: the file is the buffer.
      this.paused();
      await waitForRoom(this.sink, Math.max(this.config.pollIntervalMs, 1000), { signal: this.abort.signal });
      this.schedule(0);
      return;
    }
    let readMore: boolean;
    try {
      readMore = await this.follow();
    } finally {
      this.afterFirstRead?.();
    }
    if (this.stopped) {
      return;
    }
    if (!readMore) {
      this.flushStalePartialLine();
    }
    this.flushIdleEntry();
    if (await this.deliver()) {
      this.schedule(readMore ? 0 : this.config.pollIntervalMs);
    }
  }

  private fail(err: unknown): void {
    this.state = 'error';
    this.lastError = err instanceof Error ? err.message : String(err);
    this.schedule(this.config.pollIntervalMs);
  }

  // ------------------------------------------------------------ the sink

  /**
   * Pushes the outbox in batches, each through deliver.ts (which waits while the sink pushes back, and for a
   * durable sink until the batch is spooled); the read position is saved after each accepted batch. False
   * when the source stopped first (the batch in hand stays unread as far as the position says).
   */
  private async deliver(): Promise<boolean> {
    const sink = this.sink!;
    const signal = this.abort.signal;
    const onRefused = (): void => this.paused();
    while (this.outbox.length > 0) {
      const batch =
        this.outbox.length <= this.config.batchSize ? this.outbox : this.outbox.slice(0, this.config.batchSize);
      if (!(await deliver(sink, batch, { signal, onRefused }))) {
        return false;
      }
      const last = batch.length - 1;
      this.savePosition(this.outboxFiles[last], this.outboxEnds[last]);
      if (batch === this.outbox) {
        this.outbox = [];
        this.outboxFiles = [];
        this.outboxEnds = [];
      } else {
        this.outbox = this.outbox.slice(batch.length);
        this.outboxFiles = this.outboxFiles.slice(batch.length);
        this.outboxEnds = this.outboxEnds.slice(batch.length);
      }
      this.linesTotal += batch.length;
      this.rate.add(batch.length);
    }
    if (this.state === 'paused') {
      this.state = this.file ? 'connected' : 'starting';
    }
    return true;
  }

  private savePosition(file: FileId, offset: number): void {
    if (!this.positions) {
      return;
    }
    this.lastSave = this.positions
      .save({ path: this.config.path, dev: file.dev, ino: file.ino, offset })
      .catch((err: Error) => {
        this.lastError = `could not save the read position: ${err.message}`;
      });
  }

  private paused(): void {
    this.state = 'paused';
    this.behindSinceMs ??= Date.now();
  }

  // ------------------------------------------------------------ the file

  /** Reads what is new; returns true when there is more to read right away. */
  private async follow(): Promise<boolean> {
    const path = this.config.path;
    let byName: Stats | null = null;
    try {
      byName = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw err;
      }
    }
    // a pipe or device that appeared at the path (or matched a pattern) is never opened: path-check.ts says why
    const other = byName === null ? null : notRegularFile(byName);
    if (!this.file) {
      if (!byName) {
        this.state = 'error';
        this.lastError = `waiting for ${path} to appear (no such file)`;
        this.firstOpen = false; // a file that appears later is read from its start
        return false;
      }
      if (other !== null) return this.cannotOpen(`${path} ${other}`);
      await this.openFile(path);
    }
    const file = this.file!;
    const size = (await file.handle.stat()).size;
    if (size < file.position) {
      this.restartAfterTruncation(file);
    }
    if (size > file.position) {
      const more = await this.readFrom(file, size);
      this.behindSinceMs ??= Date.now();
      if (more) {
        return true;
      }
    }
    const rotated = byName !== null && (byName.ino !== file.id.ino || byName.dev !== file.id.dev);
    if (rotated) {
      // The old file is read to its end (above); what follows is the new file, from its start.
      this.finishFile();
      await this.closeFile();
      if (other !== null) return this.cannotOpen(`${path} ${other}`);
      await this.openFile(path);
      return true;
    }
    this.behindSinceMs = null;
    if (this.state !== 'paused') {
      this.state = 'connected';
      this.lastError = null;
    }
    return false;
  }

  /** Reports a path that cannot be followed; it is looked at again at the next poll. */
  private cannotOpen(why: string): false {
    this.state = 'error';
    this.lastError = why;
    return false;
  }

  private async openFile(path: string): Promise<void> {
    const handle = await open(path, 'r');
    try {
      const st = await handle.stat();
      this.file = { handle, id: { dev: st.dev, ino: st.ino }, position: this.startPosition(st) };
      this.firstOpen = false;
      this.resumeFrom = null;
      this.state = 'connected';
      this.lastError = null;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Saved position if it is still this file and still inside it; else the start rule (first open only). */
  private startPosition(st: { dev: number; ino: number; size: number }): number {
    const saved = this.resumeFrom;
    if (saved) {
      const sameFile = saved.dev === st.dev && saved.ino === st.ino && saved.offset <= st.size;
      return sameFile ? saved.offset : 0; // replaced or truncated while we were down: all of it is new
    }
    return this.firstOpen && this.config.startAt === 'end' ? st.size : 0;
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = null;
    await file?.handle.close().catch(() => undefined);
  }

  private restartAfterTruncation(file: OpenFile): void {
    this.finishFile();
    file.position = 0;
  }

  /** The rest of a file that ends (rotation, truncation): its unterminated line and pending entry are complete. */
  private finishFile(): void {
    if (this.carry && !this.skippingLongLine && this.file) {
      this.emitLine(this.carry, 0, this.carry.length, Date.now(), this.file.position);
    }
    this.carry = null;
    this.skippingLongLine = false;
    this.emitJoined(this.joiner.flush());
  }

  /** Reads up to MAX_BYTES_PER_TICK (and at most one batch of entries); true when it stopped early. */
  private async readFrom(file: OpenFile, size: number): Promise<boolean> {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let budget = MAX_BYTES_PER_TICK;
    while (file.position < size && budget > 0 && !this.stopped) {
      const want = Math.min(READ_CHUNK_BYTES, size - file.position);
      const chunkStart = file.position;
      const { bytesRead } = await file.handle.read(buffer, 0, want, chunkStart);
      if (bytesRead === 0) {
        break;
      }
      file.position += bytesRead;
      budget -= bytesRead;
      this.splitLines(buffer, bytesRead, Date.now(), chunkStart);
      if (this.outbox.length >= this.config.batchSize) {
        break;
      }
    }
    return file.position < size;
  }

  /** `chunkStart` is the file offset of buffer[0], so every line knows where it ends in the file. */
  private splitLines(buffer: Buffer, length: number, nowMs: number, chunkStart: number): void {
    let start = 0;
    while (start < length) {
      const newline = buffer.indexOf(NEWLINE, start);
      const end = newline < 0 || newline >= length ? length : newline;
      if (this.skippingLongLine) {
        if (end < length) {
          this.skippingLongLine = false;
        }
      } else if (end === length) {
        this.keepPartial(buffer, start, end, nowMs, chunkStart + end);
      } else if (this.carry) {
        const whole = Buffer.concat([this.carry, buffer.subarray(start, end)]);
        this.carry = null;
        this.emitLine(whole, 0, whole.length, nowMs, chunkStart + end + 1);
      } else {
        this.emitLine(buffer, start, end, nowMs, chunkStart + end + 1);
      }
      start = end + 1;
    }
  }

  /** Holds an unterminated tail; an over-long one is emitted cut, and its rest skipped up to the newline. */
  private keepPartial(buffer: Buffer, start: number, end: number, nowMs: number, endOffset: number): void {
    const piece = Buffer.from(buffer.subarray(start, end)); // the read buffer is reused: copy
    this.carry = this.carry ? Buffer.concat([this.carry, piece]) : piece;
    this.carryGrewAtMs = nowMs;
    if (this.carry.length > this.config.maxLineBytes) {
      this.emitLine(this.carry, 0, this.config.maxLineBytes, nowMs, endOffset);
      this.carry = null;
      this.skippingLongLine = true;
    }
  }

  private emitLine(buffer: Buffer, start: number, end: number, nowMs: number, endOffset: number): void {
    let stop = Math.min(end, start + this.config.maxLineBytes);
    if (stop > start && buffer[stop - 1] === 0x0d) {
      stop--; // \r\n
    }
    const line = buffer.toString('utf8', start, stop);
    if (BLANK.test(line)) {
      return; // blank lines carry nothing to score
    }
    if (!this.config.multiline) {
      this.enqueue(line, nowMs, endOffset);
      return;
    }
    this.emitJoined(this.joiner.add(line, nowMs, endOffset));
  }

  private emitJoined(entry: JoinedEntry | null): void {
    if (entry) {
      this.enqueue(entry.text, entry.firstSeenMs, entry.endOffset);
    }
  }

  /** `readMs`: when the entry was read; a live entry is stamped with its own time (engine/timestamps.ts). */
  private enqueue(line: string, readMs: number, endOffset: number): void {
    this.outbox.push({ source: this.name, timestampMs: liveTime(this.times, line, readMs), line, labels: this.labels });
    // Entries are only made while a file is open (reading, or finishing it before it is closed).
    this.outboxFiles.push(this.file!.id);
    this.outboxEnds.push(endOffset);
  }

  /** The carry is always the tail of what was read, so it ends at the current read position. */
  private flushStalePartialLine(): void {
    const now = Date.now();
    if (
      this.carry &&
      !this.skippingLongLine &&
      this.file &&
      now - this.carryGrewAtMs >= this.config.partialLineFlushMs
    ) {
      const carry = this.carry;
      this.carry = null;
      this.emitLine(carry, 0, carry.length, now, this.file.position);
    }
  }

  private flushIdleEntry(): void {
    if (this.joiner.hasPending && Date.now() - this.joiner.lastActivityMs >= this.config.multilineFlushMs) {
      this.emitJoined(this.joiner.flush());
    }
  }
}
