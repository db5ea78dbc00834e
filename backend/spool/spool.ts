/**
 * The write-ahead spool: a pushed batch is answered 2xx only once its lines are in an append-only file on disk
 * and fsynced. Group commit: batches arriving within `fsyncIntervalMs` (and while the previous fsync runs) share
 * one write and one fdatasync, as Prometheus's and Loki's WALs do. Lines are numbered per source (spool sequence
 * numbers, carried on LogEntry.spoolSeq); the checkpoint (checkpoint.ts) records per source up to where lines
 * are scored and stored, and at start-up the lines spooled but not yet scored are handed back, each once.
 * Segments whose lines are all scored are deleted.
 */
import { promises as fs } from 'node:fs';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import { PushRequestError } from '../sources/push-http';
import type { LogEntry } from '../sources/source';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint';
import { encodeRecord } from './record';
import { scanSegment, segmentFile, segmentIndexes, syncDir } from './segments';

/** What the spool needs of the results store (ResultsStore has these). */
export interface SpoolResults {
  lastSeq(source: string): number;
  linesAfter(source: string, seq: number): Promise<number>;
  /** Writes the scored lines and fsyncs them. */
  syncLines(): Promise<void>;
}

export interface SpoolOptions {
  dir: string;
  fsyncIntervalMs: number;
  segmentBytes: number;
  checkpointIntervalMs: number;
  logger: Logger;
  results: SpoolResults;
  /** The spool sequence number of the newest line of `source` scored (and added to the results store), or null. */
  scored(source: string): number | null;
  /** Where the spool reports its size, appends, commit latency, write errors and replay (lad_spool_* in /metrics). */
  metrics?: Pick<Metrics, 'spoolBytes' | 'spoolRecords' | 'spoolLines' | 'spoolCommitDuration' | 'spoolWriteErrors' | 'spoolReplayed'>;
}

/** A push that could not be made durable: 503 with the reason, never a 2xx. */
export class SpoolWriteError extends PushRequestError {
  constructor(reason: string) {
    super(503, `lines not accepted: writing the spool failed (${reason}); nothing of this request was kept, retry later`);
    this.name = 'SpoolWriteError';
  }
}

interface Pending {
  entries: LogEntry[];
  deliver: (entries: LogEntry[]) => void;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface SegmentMeta {
  /** Newest spool sequence number per source in the segment. */
  maxSeq: Map<string, number>;
  /** Bytes of whole records in the file. */
  bytes: number;
}

/** Splits a batch by source, keeping the order within each (one group, no copy, in the usual one-source case). */
function bySource(entries: LogEntry[]): [string, LogEntry[]][] {
  const first = entries[0].source;
  if (entries.every((e) => e.source === first)) return [[first, entries]];
  const groups = new Map<string, LogEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.source);
    if (g) g.push(e);
    else groups.set(e.source, [e]);
  }
  return [...groups];
}

async function writeAll(handle: fs.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await handle.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

export class Spool {
  private readonly segments = new Map<number, SegmentMeta>();
  private readonly nextSeq = new Map<string, number>();
  private checkpointState: Checkpoint = new Map();
  private checkpointChain: Promise<void> = Promise.resolve();
  private replay: LogEntry[][] = [];
  private handle: fs.FileHandle | null = null;
  private active = 0;
  private offset = 0;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The last failure (a spool write or a checkpoint), for health; cleared by the next success. */
  lastError: string | null = null;

  private constructor(private readonly opts: SpoolOptions) {}

  /** Opens the spool in `dir`: reads it (cutting a torn tail), works out what is not scored yet, starts a new segment. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    const spool = new Spool(opts);
    await fs.mkdir(opts.dir, { recursive: true });
    await spool.recover();
    spool.checkpointTimer = setInterval(() => void spool.checkpoint(), opts.checkpointIntervalMs);
    spool.checkpointTimer.unref();
    return spool;
  }

  /** The lines spooled but not scored before the last stop, in spool order; handed out once. */
  takeReplay(): LogEntry[][] {
    const out = this.replay;
    this.replay = [];
    return out;
  }

  /**
   * Appends the batch; resolves once it is on disk (fsynced) and `deliver` was called with it (in spool order),
   * rejects with SpoolWriteError (nothing kept, nothing delivered) when the write fails.
   */
  append(entries: LogEntry[], deliver: (entries: LogEntry[]) => void): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new SpoolWriteError('the service is stopping'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entries, deliver, resolve, reject });
      if (this.timer === null && this.writing === null) {
        this.timer = setTimeout(() => this.startFlush(), this.opts.fsyncIntervalMs);
      }
    });
  }

  /** Records durably how far each source is scored (after the results store wrote those lines); deletes spent segments. */
  checkpoint(): Promise<void> {
    const run = this.checkpointChain.then(() => this.advanceCheckpoint());
    this.checkpointChain = run.catch((err: Error) => {
      this.lastError = `spool checkpoint: ${err.message}`;
      this.opts.metrics?.spoolWriteErrors.inc({ what: 'checkpoint' });
      this.opts.logger.error({ err: err.message }, 'spool: writing the checkpoint failed (lines stay spooled)');
    });
    return this.checkpointChain;
  }

  /** Writes what is pending, takes a last checkpoint (call after the pipelines stopped), closes the file. */
  async close(): Promise<void> {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // no new appends from here; what is pending is written (or refused) below
    this.closed = true;
    while (this.writing !== null || this.pending.length > 0) {
      await (this.writing ?? this.runFlush());
    }
    await this.checkpoint();
    await this.handle?.close();
    this.handle = null;
  }

  private startFlush(): void {
    this.timer = null;
    void this.runFlush();
  }

  private runFlush(): Promise<void> {
    if (this.writing !== null) return this.writing;
    this.writing = this.flush().finally(() => {
      this.writing = null;
      // what arrived during the write is the next group: it already waited one fsync
      if (this.pending.length > 0 && this.timer === null && !this.closed) this.timer = setTimeout(() => this.startFlush(), 0);
    });
    return this.writing;
  }

  private async flush(): Promise<void> {
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    const seqBefore = new Map<string, number | undefined>();
    try {
      // A new source gets its checkpoint baseline before its first line can be scored.
      const newSources = new Set<string>();
      for (const item of group) {
        for (const e of item.entries) if (!this.nextSeq.has(e.source) && !this.checkpointState.has(e.source)) newSources.add(e.source);
      }
      if (newSources.size > 0) await this.addBaselines(newSources);
      if (this.offset >= this.opts.segmentBytes) await this.roll();
      const buffers: Buffer[] = [];
      const touched = new Map<string, number>();
      for (const item of group) {
        for (const [source, entries] of bySource(item.entries)) {
          const firstSeq = this.nextSeq.get(source) ?? 0;
          if (!seqBefore.has(source)) seqBefore.set(source, this.nextSeq.get(source));
          for (let i = 0; i < entries.length; i++) entries[i].spoolSeq = firstSeq + i;
          this.nextSeq.set(source, firstSeq + entries.length);
          touched.set(source, firstSeq + entries.length - 1);
          buffers.push(encodeRecord({ source, firstSeq, entries }));
        }
      }
      const buf = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers);
      const endTimer = this.opts.metrics?.spoolCommitDuration.startTimer();
      try {
        await writeAll(this.handle!, buf, this.offset);
        await this.handle!.datasync();
      } catch (err) {
        // No torn record left behind: cut back to the last whole one (the start-up scan would, too).
        await this.handle!.truncate(this.offset).catch(() => undefined);
        throw err;
      }
      endTimer?.();
      this.offset += buf.length;
      const meta = this.segments.get(this.active)!;
      for (const [source, seq] of touched) meta.maxSeq.set(source, seq);
      meta.bytes = this.offset;
      this.reportAppend(buffers.length, group);
      this.lastError = null;
    } catch (err) {
      for (const [source, seq] of seqBefore) {
        if (seq === undefined) this.nextSeq.delete(source);
        else this.nextSeq.set(source, seq);
      }
      const e = err as NodeJS.ErrnoException;
      const reason = e.code && !e.message.startsWith(e.code) ? `${e.code}: ${e.message}` : e.message;
      this.lastError = `spool write: ${reason}`;
      this.opts.metrics?.spoolWriteErrors.inc({ what: 'write' });
      this.opts.logger.error({ err: reason, lines: group.reduce((n, g) => n + g.entries.length, 0) }, 'spool: write failed, pushes answered 503');
      const refusal = new SpoolWriteError(reason);
      for (const item of group) item.reject(refusal);
      return;
    }
    for (const item of group) {
      try {
        item.deliver(item.entries);
        item.resolve();
      } catch (err) {
        // spooled, so scored after the next start; the client hears why not now
        item.reject(err as Error);
      }
    }
  }

  private reportAppend(records: number, group: Pending[]): void {
    const m = this.opts.metrics;
    if (!m) return;
    m.spoolRecords.inc(records);
    m.spoolLines.inc(group.reduce((n, g) => n + g.entries.length, 0));
    this.reportBytes();
  }

  /** Bytes of the segment files on disk (kept per segment: no stat per scrape). */
  get bytesOnDisk(): number {
    let bytes = 0;
    for (const meta of this.segments.values()) bytes += meta.bytes;
    return bytes;
  }

  private reportBytes(): void {
    this.opts.metrics?.spoolBytes.set(this.bytesOnDisk);
  }

  private addBaselines(sources: Set<string>): Promise<void> {
    const run = this.checkpointChain.then(async () => {
      const next = new Map(this.checkpointState);
      for (const source of sources) next.set(source, { next: 0, resultsSeq: this.opts.results.lastSeq(source) });
      await writeCheckpoint(this.opts.dir, next);
      this.checkpointState = next;
    });
    this.checkpointChain = run.catch(() => undefined);
    return run;
  }

  private async advanceCheckpoint(): Promise<void> {
    const updates: Checkpoint = new Map();
    for (const [source, entry] of this.checkpointState) {
      const scored = this.opts.scored(source);
      if (scored !== null && scored + 1 > entry.next) {
        // taken in the same turn as `scored`: the results store's lines up to here are exactly those scored
        updates.set(source, { next: scored + 1, resultsSeq: this.opts.results.lastSeq(source) });
      }
    }
    if (updates.size > 0) {
      await this.opts.results.syncLines();
      const next = new Map(this.checkpointState);
      for (const [source, entry] of updates) next.set(source, entry);
      await writeCheckpoint(this.opts.dir, next);
      this.checkpointState = next;
    }
    await this.deleteSpentSegments();
  }

  /** Deletes segments (not the one written to) whose every line is scored. */
  private async deleteSpentSegments(): Promise<void> {
    let deleted = false;
    for (const [index, meta] of this.segments) {
      if (index === this.active) continue;
      let spent = true;
      for (const [source, maxSeq] of meta.maxSeq) {
        if (maxSeq >= (this.checkpointState.get(source)?.next ?? 0)) {
          spent = false;
          break;
        }
      }
      if (!spent) continue;
      await fs.rm(segmentFile(this.opts.dir, index), { force: true });
      this.segments.delete(index);
      deleted = true;
    }
    if (deleted) {
      this.reportBytes();
      await syncDir(this.opts.dir);
    }
  }

  private async roll(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
    await this.openSegment(this.active + 1);
  }

  private async openSegment(index: number): Promise<void> {
    this.handle = await fs.open(segmentFile(this.opts.dir, index), 'w');
    await syncDir(this.opts.dir);
    this.active = index;
    this.offset = 0;
    this.segments.set(index, { maxSeq: new Map(), bytes: 0 });
  }

  /** Start-up: scan the segments, count what the results store already holds, keep the rest for replay. */
  private async recover(): Promise<void> {
    const { dir, logger, results } = this.opts;
    const checkpoint = await readCheckpoint(dir);
    const indexes = await segmentIndexes(dir);
    const scanned = [];
    const spoolMax = new Map<string, number>();
    const spoolMin = new Map<string, number>();
    for (const index of indexes) {
      const segment = await scanSegment(dir, index, logger);
      const meta: SegmentMeta = { maxSeq: new Map(), bytes: segment.bytes };
      for (const b of segment.batches) {
        const last = b.firstSeq + b.entries.length - 1;
        meta.maxSeq.set(b.source, Math.max(meta.maxSeq.get(b.source) ?? -1, last));
        spoolMax.set(b.source, Math.max(spoolMax.get(b.source) ?? -1, last));
        spoolMin.set(b.source, Math.min(spoolMin.get(b.source) ?? Infinity, b.firstSeq));
      }
      this.segments.set(index, meta);
      scanned.push(segment);
    }
    const done = new Map<string, number>();
    let scoredSinceCheckpoint = 0;
    for (const source of new Set([...checkpoint.keys(), ...spoolMax.keys()])) {
      const entry = checkpoint.get(source);
      const end = (spoolMax.get(source) ?? -1) + 1;
      // Without a baseline (its write failed) every spooled line is scored again rather than lost.
      const after = entry ? await results.linesAfter(source, entry.resultsSeq) : 0;
      scoredSinceCheckpoint += after;
      const scored = entry ? entry.next + after : (spoolMin.get(source) ?? 0);
      const first = Math.min(scored, Math.max(end, entry?.next ?? 0));
      done.set(source, first);
      this.nextSeq.set(source, Math.max(first, end));
      this.checkpointState.set(source, { next: first, resultsSeq: results.lastSeq(source) });
    }
    let lines = 0;
    for (const segment of scanned) {
      for (const b of segment.batches) {
        const from = done.get(b.source)! - b.firstSeq;
        if (from >= b.entries.length) continue;
        const entries = from > 0 ? b.entries.slice(from) : b.entries;
        this.replay.push(entries);
        lines += entries.length;
      }
    }
    await writeCheckpoint(dir, this.checkpointState);
    await this.openSegment((indexes[indexes.length - 1] ?? -1) + 1);
    await this.deleteSpentSegments();
    this.reportBytes();
    this.opts.metrics?.spoolReplayed.inc(lines);
    logger.info({ dir, segments: indexes.length, replayLines: lines, scoredSinceCheckpoint, sources: done.size }, 'spool opened');
  }
}
