import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { countGrid, parseAnomalyId as parseId, type AnomalyContext, type AnomalyFilter, type ResultsReader } from './results-reader';
import type { ResultsWriter, ScoredBatch, WriteResult } from './results-writer';
import { AnomalyWindow } from './anomaly-window';
import { SegmentLog } from './segment-log';
import { detached, type MemoryBudget } from '../server/memory-budget';

/** One scored line, as the pipeline hands it over. */
export interface ScoredLine {
  source: string;
  time: number;
  line: string;
  labels: Record<string, string>;
  score: number;
  threshold: number;
  anomaly: boolean;
  suppressed: boolean;
  template: string;
  reason: string;
  level: string | null;
}

/** A stored line (context queries). */
export interface Row {
  id: string;
  time: number;
  source: string;
  line: string;
  score: number;
  anomaly: boolean;
  suppressed: boolean;
  labels: Record<string, string>;
}

/** A stored anomaly (anomaly, template and annotation queries). */
export interface AnomalyRecord extends Row {
  seq: number;
  threshold: number;
  template: string;
  reason: string;
  level: string | null;
}

export interface IntervalCount {
  time: number;
  lines: number;
  anomalies: number;
  suppressed: number;
}

export interface ResultsStoreOptions {
  dir: string;
  retentionMs: number;
  maxBytesPerSource: number;
  segmentBytes: number;
  recentLines: number;
  /** Most characters of line text in a source's ring of recent lines (none when not given): line-budgets.ts. */
  recentChars?: number;
  maxAnomalies: number;
  /** Most characters of line text in a source's in-memory anomalies (none when not given): line-budgets.ts. */
  maxAnomalyChars?: number;
  bucketMs: number;
  /**
   * The process-wide bound on line text in memory, shared with the pipelines (memory-budget.ts): the recent lines
   * and the anomalies of every source are shrunk, the largest first, when all together pass its retained half.
   */
  budget?: MemoryBudget;
  /**
   * Told about background write failures (a failure must not stop scoring); `repeated` when it is the same failure
   * as the last one (a full disk fails every 250 ms flush until space returns: log it once, count it each time).
   */
  onError?: (err: Error, what: string, repeated: boolean) => void;
  /** Per log, how much to hold in memory while writes fail before giving up (SegmentLogOptions.maxBacklogBytes). */
  maxBacklogBytes?: number;
}

/** Compact on-disk form of a scored line: q seq, t time, s score, a anomaly, u suppressed, l line, b labels. */
interface LineRecord {
  q: number;
  t: number;
  s: number | null;
  a: 0 | 1;
  u: 0 | 1;
  l: string;
  b?: Record<string, string>;
}

class Bucket {
  lines = 0;
  anomalies = 0;
  suppressed = 0;
  // Unpersisted increments (written as a delta record by the next flush).
  dLines = 0;
  dAnomalies = 0;
  dSuppressed = 0;
}

/** The fields of a line the ring keeps by reference (the pipeline's LogEntry fits). */
export interface LineRef {
  timestampMs: number;
  line: string;
  labels: Record<string, string>;
}

/**
 * Per-source results: the in-memory ring of recent lines, the anomaly index, interval counts and their files.
 * The ring keeps the entries by reference and scores/flags in typed arrays: no object per line.
 * Ring slots hold consecutive sequence numbers, the newest being nextSeq - 1.
 */
class SourceResults {
  readonly ringEntries: (LineRef | undefined)[];
  readonly ringScores: Float64Array;
  /** bit 0 anomaly, bit 1 suppressed */
  readonly ringFlags: Uint8Array;
  ringNext = 0;
  ringSize = 0;
  /** Characters of the ring's lines (running total), and whether a line ever left it (older ones are on disk). */
  ringChars = 0;
  ringDropped = false;
  readonly anomalies: AnomalyWindow<AnomalyRecord>;
  readonly anomalyBySeq = new Map<number, AnomalyRecord>();
  readonly buckets = new Map<number, Bucket>();
  readonly dirty = new Set<number>();
  nextSeq: number;
  /** The bucket of the previous line (lines come in time order, so this almost always hits). */
  lastBucketTime = NaN;
  lastBucket: Bucket | null = null;
  /** Pushed batches share one labels object: serialise it once. */
  lastLabels: Record<string, string> | null = null;
  lastLabelsJson = '';

  constructor(
    readonly source: string,
    readonly key: string,
    readonly lines: SegmentLog,
    readonly anomalyLog: SegmentLog,
    readonly countLog: SegmentLog,
    ringSize: number,
    firstSeq: number,
    onAnomalyChars?: (delta: number) => void
  ) {
    this.anomalies = new AnomalyWindow<AnomalyRecord>(onAnomalyChars);
    this.ringEntries = new Array(ringSize);
    this.ringScores = new Float64Array(ringSize);
    this.ringFlags = new Uint8Array(ringSize);
    this.nextSeq = firstSeq;
  }
}

const DAY_MS = 24 * 3600 * 1000;

/** A short, URL-safe, stable key for a source name (anomaly ids and directory names). */
export function sourceKey(source: string): string {
  return createHash('sha1').update(source).digest('hex').slice(0, 10);
}

/**
 * The results store: high-volume scored output, kept out of lowdb. Per source it keeps
 *  - every scored line in append-only NDJSON segment files (rotated by size and age, retention by age and size),
 *  - a ring of the most recent lines in memory for context queries (older context is read from the segments),
 *  - every anomaly in memory (bounded) and in its own segment files, reloaded at start-up,
 *  - per-interval counts of lines/anomalies/suppressed, persisted as append-only deltas.
 * Anomaly ids are `<seq>-<source key>`: sequence numbers only grow, also across restarts.
 */
export class ResultsStore implements ResultsReader, ResultsWriter {
  private readonly sources = new Map<string, SourceResults>();
  private readonly byKey = new Map<string, SourceResults>();
  private flushTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  private constructor(private readonly opts: ResultsStoreOptions) {}

  static async open(opts: ResultsStoreOptions): Promise<ResultsStore> {
    const store = new ResultsStore(opts);
    await fs.mkdir(opts.dir, { recursive: true });
    for (const entry of await fs.readdir(opts.dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) {
        continue;
      }
      const nameFile = path.join(opts.dir, entry.name, 'source.json');
      // parseJson: a source.json left empty by a full disk must not stop start-up (the source rewrites it when next seen)
      const meta = await fs.readFile(nameFile, 'utf8').then((t) => parseJson<{ name: string }>(t), () => null);
      if (meta && typeof meta.name === 'string') {
        await store.load(meta.name);
      }
    }
    store.flushTimer = setInterval(() => {
      store.flush().catch((err: Error) => store.reportError(err, 'writing results'));
    }, 250);
    store.flushTimer.unref();
    // Files are also trimmed on rotation; the sweep covers sources that went quiet.
    store.sweepTimer = setInterval(() => {
      store.sweepRetention().catch((err: Error) => store.reportError(err, 'deleting old results'));
    }, 60_000);
    store.sweepTimer.unref();
    return store;
  }

  /** The last background failure (writing, registering, sweeping); cleared by the next successful flush. */
  private backgroundError: string | null = null;

  /**
   * Why results cannot be written right now, or null (shown by /api/health, which then says degraded). A failed
   * write is retried in order by the next flush (nothing is skipped, so the spool's checkpoint cannot pass lines
   * whose results are not on disk); a log that gave up says so until a restart.
   */
  get lastError(): string | null {
    for (const results of this.sources.values()) {
      for (const log of [results.lines, results.anomalyLog, results.countLog]) {
        if (log.failed !== null) return `results of ${results.source}: ${log.failed}`;
      }
    }
    if (this.backgroundError !== null) return this.backgroundError;
    // A write still being retried counts too: a flush of another log may have succeeded meanwhile and cleared
    // backgroundError while this one holds its failed write.
    for (const results of this.sources.values()) {
      for (const log of [results.lines, results.anomalyLog, results.countLog]) {
        if (log.writeError !== null) return `results of ${results.source}: ${log.writeError}`;
      }
    }
    return null;
  }

  private reportError(err: Error, what: string): void {
    const text = `${what}: ${err.message}`;
    const repeated = text === this.backgroundError;
    this.backgroundError = text;
    this.opts.onError?.(err, what, repeated);
  }

  sourceNames(): string[] {
    return [...this.sources.keys()];
  }

  private create(source: string, firstSeq: number): SourceResults {
    const key = sourceKey(source);
    const dir = path.join(this.opts.dir, key);
    const base = { dir, retentionMs: this.opts.retentionMs, maxBacklogBytes: this.opts.maxBacklogBytes };
    const { budget } = this.opts;
    const results = new SourceResults(
      source,
      key,
      new SegmentLog({
        ...base,
        prefix: 'lines',
        segmentBytes: this.opts.segmentBytes,
        segmentMs: Math.max(60_000, Math.min(this.opts.retentionMs / 8, 3600_000)),
        maxBytes: this.opts.maxBytesPerSource,
      }),
      new SegmentLog({ ...base, prefix: 'anomalies', segmentBytes: this.opts.segmentBytes, segmentMs: DAY_MS / 4, maxBytes: Infinity }),
      new SegmentLog({ ...base, prefix: 'counts', segmentBytes: this.opts.segmentBytes, segmentMs: DAY_MS / 4, maxBytes: Infinity }),
      this.opts.recentLines,
      firstSeq,
      budget && ((delta) => budget.addRetained(delta))
    );
    if (budget) {
      // the budget shrinks these windows when all sources' together pass its retained half (oldest lines first)
      budget.register({ kind: 'recent', get heldChars() { return results.ringChars; }, shrinkTo: (chars) => this.shrinkRing(results, chars) });
      budget.register({ kind: 'anomalies', get heldChars() { return results.anomalies.chars; }, shrinkTo: (chars) => this.shrinkAnomalies(results, chars) });
    }
    this.sources.set(source, results);
    this.byKey.set(key, results);
    return results;
  }

  private async load(source: string): Promise<void> {
    const results = this.create(source, 0);
    const cutoff = Date.now() - this.opts.retentionMs;
    let maxSeq = 0;
    for (const f of await results.anomalyLog.files()) {
      for await (const text of SegmentLog.records(f.file)) {
        const record = parseJson<AnomalyRecord>(text);
        if (!record || record.time < cutoff) {
          continue;
        }
        record.id = `${record.seq}-${results.key}`;
        // indexed first: the push may make the memory budget drop older anomalies, which unindexes them
        results.anomalyBySeq.set(record.seq, record);
        results.anomalies.push(record);
        maxSeq = Math.max(maxSeq, record.seq);
      }
    }
    this.trimAnomalies(results);
    for (const f of await results.countLog.files()) {
      for await (const text of SegmentLog.records(f.file)) {
        const c = parseJson<{ t: number; l: number; a: number; u: number }>(text);
        if (!c || c.t < cutoff) {
          continue;
        }
        const bucket = results.buckets.get(c.t) ?? new Bucket();
        bucket.lines += c.l;
        bucket.anomalies += c.a;
        bucket.suppressed += c.u;
        results.buckets.set(c.t, bucket);
      }
    }
    const lineFiles = await results.lines.files();
    const last = lineFiles[lineFiles.length - 1];
    if (last) {
      maxSeq = Math.max(maxSeq, last.startKey, await lastSeqIn(last.file));
    }
    results.nextSeq = Math.max(maxSeq + 1, Date.now() * 1000);
  }

  private get(source: string): SourceResults {
    return this.sources.get(source) ?? this.register(source);
  }

  private register(source: string): SourceResults {
    const results = this.create(source, Date.now() * 1000);
    const dir = path.join(this.opts.dir, results.key);
    // Written once, so a restart knows which source a directory belongs to.
    fs.mkdir(dir, { recursive: true })
      .then(() => fs.writeFile(path.join(dir, 'source.json'), JSON.stringify({ name: source })))
      .catch((err: Error) => this.reportError(err, `registering results directory of ${source}`));
    return results;
  }

  /** What `source` holds in memory: the ring of recent lines and the anomalies, in lines and characters of line text. */
  heldInMemory(source: string): { recentLines: number; recentChars: number; anomalies: number; anomalyChars: number } {
    const r = this.sources.get(source);
    return r
      ? { recentLines: r.ringSize, recentChars: r.ringChars, anomalies: r.anomalies.length, anomalyChars: r.anomalies.chars }
      : { recentLines: 0, recentChars: 0, anomalies: 0, anomalyChars: 0 };
  }

  /** The sequence number of the newest line stored for `source` (-1 when none): the spool's checkpoint pairs it with its own. */
  lastSeq(source: string): number {
    const results = this.sources.get(source);
    return results ? results.nextSeq - 1 : -1;
  }

  /** Writes and fsyncs every source's scored lines (the spool checkpoints only what is on disk for good). */
  async syncLines(): Promise<void> {
    await this.flush();
    await Promise.all([...this.sources.values()].map((r) => r.lines.sync()));
  }

  /** How many whole lines of `source` on disk have a sequence number above `seq` (the spool counts them at start-up). */
  async linesAfter(source: string, seq: number): Promise<number> {
    const results = this.sources.get(source);
    if (!results) return 0;
    const files = await results.lines.files();
    let n = 0;
    for (let i = 0; i < files.length; i++) {
      // a file holds the keys from its own start up to the next file's start
      if (i + 1 < files.length && files[i + 1].startKey <= seq + 1) continue;
      for await (const text of SegmentLog.records(files[i].file)) {
        const m = /^\{"q":(\d+),/.exec(text);
        // a record torn by a kill -9 mid-write (the file's last) is not a stored line: its line is scored again
        if (m && Number(m[1]) > seq && parseJson(text) !== null) n++;
      }
    }
    return n;
  }

  /**
   * The pipeline's write (ResultsWriter): every line of the batch through addScored, synchronously. Rate
   * columns are not stored here: the embedded pipeline's RateHistory keeps them (rate-watch.ts).
   */
  writeBatch(batch: ScoredBatch): WriteResult {
    const { source, threshold, entries, scores, templates, reasons, levels } = batch;
    // the flush prunes anomalies older than the retention by their own time; one clock read per batch
    const keepFrom = Date.now() - this.opts.retentionMs;
    let anomalies = 0;
    let expired = 0;
    for (let i = 0; i < batch.length; i++) {
      const anomaly = batch.anomaly(i);
      if (anomaly) {
        anomalies++;
        if (entries[i].timestampMs < keepFrom) expired++;
      }
      this.addScored(source, entries[i], scores[i], threshold, anomaly, batch.suppressed(i), templates[i], reasons[i], levels[i]);
    }
    return { anomalies, counted: batch.length, duplicates: 0, expired };
  }

  /** Stores one scored line; returns its id. */
  add(s: ScoredLine): string {
    return this.addScored(s.source, { timestampMs: s.time, line: s.line, labels: s.labels }, s.score, s.threshold, s.anomaly, s.suppressed, s.template, s.reason, s.level);
  }

  /**
   * The hot path (one call per scored line): keeps the entry by reference in the ring, appends one NDJSON
   * string, bumps the interval counters, and only for anomalies builds a record.
   */
  addScored(
    source: string,
    entry: LineRef,
    score: number,
    threshold: number,
    anomaly: boolean,
    suppressed: boolean,
    template: string,
    reason: string,
    level: string | null
  ): string {
    const results = this.get(source);
    const seq = results.nextSeq++;
    const slot = results.ringNext;
    const len = results.ringEntries.length;
    const ringCharsBefore = results.ringChars;
    if (results.ringSize === len) {
      // the slot about to be overwritten holds the oldest line
      results.ringChars -= results.ringEntries[slot]!.line.length;
      results.ringDropped = true;
    } else {
      results.ringSize++;
    }
    results.ringEntries[slot] = entry;
    results.ringScores[slot] = score;
    results.ringFlags[slot] = (anomaly ? 1 : 0) | (suppressed ? 2 : 0);
    results.ringNext = (slot + 1) % len;
    results.ringChars += entry.line.length;
    // the character bound: the oldest lines go (never the newest), their text stays on disk for context queries
    if (results.ringChars > this.recentCharsBound) this.dropOldestLines(results, this.recentCharsBound);
    this.opts.budget?.addRetained(results.ringChars - ringCharsBefore);
    if (entry.labels !== results.lastLabels) {
      results.lastLabels = entry.labels;
      let empty = true;
      for (const _k in entry.labels) {
        empty = false;
        break;
      }
      results.lastLabelsJson = empty ? '' : `,"b":${JSON.stringify(entry.labels)}`;
    }
    const a = anomaly ? 1 : 0;
    const u = suppressed ? 1 : 0;
    results.lines.appendWithString(`{"q":${seq},"t":${entry.timestampMs},"s":${jsonNumber(score)},"a":${a},"u":${u},"l":`, entry.line, results.lastLabelsJson + '}', seq);

    const bucketTime = Math.floor(entry.timestampMs / this.opts.bucketMs) * this.opts.bucketMs;
    let bucket = results.lastBucket;
    if (bucketTime !== results.lastBucketTime || bucket === null) {
      bucket = results.buckets.get(bucketTime) ?? null;
      if (!bucket) {
        bucket = new Bucket();
        results.buckets.set(bucketTime, bucket);
      }
      results.lastBucket = bucket;
      results.lastBucketTime = bucketTime;
      results.dirty.add(bucketTime);
    }
    bucket.lines++;
    bucket.dLines++;
    const id = `${seq}-${results.key}`;
    if (anomaly) {
      if (suppressed) {
        bucket.suppressed++;
        bucket.dSuppressed++;
      } else {
        bucket.anomalies++;
        bucket.dAnomalies++;
      }
      const record: AnomalyRecord = {
        id,
        time: entry.timestampMs,
        source,
        // its own copy: an anomaly kept for hours must not keep its request body alive (about 11 µs for 64 KB)
        line: detached(entry.line),
        score,
        anomaly,
        suppressed,
        labels: entry.labels,
        seq,
        threshold,
        template,
        reason,
        level,
      };
      // indexed first: the push may make the memory budget drop older anomalies, which unindexes them
      results.anomalyBySeq.set(seq, record);
      results.anomalies.push(record);
      const { id: _id, ...persisted } = record;
      results.anomalyLog.append(JSON.stringify(persisted), entry.timestampMs);
      if (results.anomalies.length > this.opts.maxAnomalies * 1.1 || results.anomalies.chars > this.anomalyCharsBound) {
        this.trimAnomalies(results);
      }
    }
    return id;
  }

  /** Drops the oldest anomalies beyond maxAnomalies, then beyond maxAnomalyChars (the newest one always stays). */
  private trimAnomalies(results: SourceResults): void {
    this.dropOldestAnomalies(results, results.anomalies.length - this.opts.maxAnomalies);
    this.shrinkAnomalies(results, this.anomalyCharsBound);
  }

  /** Drops the oldest anomalies until their lines hold at most `chars` characters (the newest stays); returns how many. */
  private shrinkAnomalies(results: SourceResults, chars: number): number {
    const { anomalies } = results;
    let drop = 0;
    for (let held = anomalies.chars; held > chars && drop < anomalies.length - 1; drop++) held -= anomalies.at(drop).line.length;
    this.dropOldestAnomalies(results, drop);
    return drop;
  }

  /** Drops the oldest lines of the memory ring until it holds at most `chars` characters (the newest stays); returns how many. */
  private dropOldestLines(results: SourceResults, chars: number): number {
    const len = results.ringEntries.length;
    let dropped = 0;
    for (; results.ringChars > chars && results.ringSize > 1; dropped++) {
      const oldest = (results.ringNext - results.ringSize + len) % len;
      results.ringChars -= results.ringEntries[oldest]!.line.length;
      results.ringEntries[oldest] = undefined;
      results.ringSize--;
      results.ringDropped = true;
    }
    return dropped;
  }

  /** dropOldestLines for the memory budget, which is told the characters freed. */
  private shrinkRing(results: SourceResults, chars: number): number {
    const before = results.ringChars;
    const dropped = this.dropOldestLines(results, chars);
    this.opts.budget?.addRetained(results.ringChars - before);
    return dropped;
  }

  private dropOldestAnomalies(results: SourceResults, n: number): void {
    if (n > 0) results.anomalies.dropOldest(n, (a) => results.anomalyBySeq.delete(a.seq));
  }

  private get recentCharsBound(): number {
    return this.opts.recentChars ?? Infinity;
  }

  private get anomalyCharsBound(): number {
    return this.opts.maxAnomalyChars ?? Infinity;
  }

  /** Writes buffered lines, anomalies and count deltas; prunes what fell out of retention. */
  flush(): Promise<void> {
    const run = this.flushing.then(async () => {
      const cutoff = Date.now() - this.opts.retentionMs;
      const writes: Promise<void>[] = [];
      for (const results of this.sources.values()) {
        for (const t of results.dirty) {
          const b = results.buckets.get(t);
          if (b && (b.dLines || b.dAnomalies || b.dSuppressed)) {
            results.countLog.append(JSON.stringify({ t, l: b.dLines, a: b.dAnomalies, u: b.dSuppressed }), Date.now());
            b.dLines = b.dAnomalies = b.dSuppressed = 0;
          }
        }
        results.dirty.clear();
        // The next line re-marks its bucket dirty.
        results.lastBucket = null;
        results.lastBucketTime = NaN;
        for (const t of results.buckets.keys()) {
          if (t < cutoff - this.opts.bucketMs) {
            results.buckets.delete(t);
          }
        }
        let drop = 0;
        while (drop < results.anomalies.length && results.anomalies.at(drop).time < cutoff) {
          drop++;
        }
        this.dropOldestAnomalies(results, drop);
        writes.push(results.lines.flush(), results.anomalyLog.flush(), results.countLog.flush());
      }
      await Promise.all(writes);
      // everything held was written: a failure reported before is over
      this.backgroundError = null;
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Deletes result files past the retention (age) or the per-source size bound. */
  async sweepRetention(): Promise<void> {
    for (const results of this.sources.values()) {
      await results.lines.enforceRetention();
      await results.anomalyLog.enforceRetention();
      await results.countLog.enforceRetention();
    }
  }

  async close(): Promise<void> {
    if (this.flushTimer) {
      clearInterval(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
    await this.flush().catch((err: Error) => this.reportError(err, 'writing results'));
    for (const results of this.sources.values()) {
      await Promise.all([results.lines.close(), results.anomalyLog.close(), results.countLog.close()]);
    }
  }

  /** Anomalies of all (or one) sources in a time range, newest first. */
  anomalies(filter: AnomalyFilter): AnomalyRecord[] {
    const needle = filter.search?.toLowerCase();
    const out: AnomalyRecord[] = [];
    for (const results of this.selected(filter.source)) {
      const held = results.anomalies;
      for (let i = 0; i < held.length; i++) {
        const a = held.at(i);
        if (a.time < filter.fromMs || a.time > filter.toMs) {
          continue;
        }
        if (filter.minScore !== undefined && a.score < filter.minScore) {
          continue;
        }
        if (!filter.includeSuppressed && filter.isSuppressed(a)) {
          continue;
        }
        if (needle && !a.line.toLowerCase().includes(needle) && !a.template.toLowerCase().includes(needle)) {
          continue;
        }
        out.push(a);
      }
    }
    out.sort((a, b) => b.time - a.time || b.seq - a.seq);
    return out.length > filter.limit ? out.slice(0, filter.limit) : out;
  }

  getAnomaly(id: string): AnomalyRecord | undefined {
    const parsed = parseId(id);
    return parsed ? this.byKey.get(parsed.key)?.anomalyBySeq.get(parsed.seq) : undefined;
  }

  /** Per-interval counts of one source, in buckets of `stepMs` (a multiple of the store's bucket width). */
  counts(source: string, fromMs: number, toMs: number, stepMs: number): IntervalCount[] {
    return countGrid(this.opts.bucketMs, fromMs, toMs, stepMs, this.sources.get(source)?.buckets ?? []);
  }

  get bucketMs(): number {
    return this.opts.bucketMs;
  }

  /**
   * The lines just before and after a stored line, from the same source (ring first, then the segment files).
   * Any stored line's id answers, not only an anomaly's: a review item names the line it asks about by its id.
   */
  async context(id: string, before: number, after: number): Promise<AnomalyContext | null> {
    const parsed = parseId(id);
    const results = parsed ? this.byKey.get(parsed.key) : undefined;
    if (!parsed || !results) {
      return null;
    }
    const anomaly = results.anomalyBySeq.get(parsed.seq);
    const row = anomaly ? toRow(anomaly) : this.ringRow(results, parsed.seq);
    const fromRing = row ? this.contextFromRing(results, parsed.seq, before, after) : null;
    if (row && fromRing) {
      return { anomaly: row, ...fromRing };
    }
    await this.flush();
    const disk = await this.contextFromDisk(results, parsed.seq, before, after);
    const found = row ?? disk.line;
    return found ? { anomaly: found, before: disk.before, after: disk.after } : null;
  }

  /**
   * The id of the newest line of `source` in the memory ring whose text is `line`, null when none is (the
   * review queue names its items' lines by it). A scan of at most `recentLines` entries, newest first.
   */
  recentLineId(source: string, line: string): string | null {
    const results = this.sources.get(source);
    if (!results) {
      return null;
    }
    const len = results.ringEntries.length;
    for (let k = 0; k < results.ringSize; k++) {
      if (results.ringEntries[(results.ringNext - 1 - k + len) % len]?.line === line) {
        return `${results.nextSeq - 1 - k}-${results.key}`;
      }
    }
    return null;
  }

  /** The stored line `seq` when the memory ring still holds it. */
  private ringRow(results: SourceResults, seq: number): Row | null {
    const offset = seq - (results.nextSeq - results.ringSize);
    return offset >= 0 && offset < results.ringSize ? this.ringRowAt(results, offset) : null;
  }

  /** The k-th oldest line of the memory ring. */
  private ringRowAt(results: SourceResults, k: number): Row {
    const len = results.ringEntries.length;
    const i = (results.ringNext - results.ringSize + k + len) % len;
    const entry = results.ringEntries[i]!;
    const flags = results.ringFlags[i];
    return {
      id: `${results.nextSeq - results.ringSize + k}-${results.key}`,
      time: entry.timestampMs,
      source: results.source,
      line: entry.line,
      score: results.ringScores[i],
      anomaly: (flags & 1) !== 0,
      suppressed: (flags & 2) !== 0,
      labels: entry.labels,
    };
  }

  private contextFromRing(results: SourceResults, seq: number, before: number, after: number): { before: Row[]; after: Row[] } | null {
    const n = results.ringSize;
    const offset = seq - (results.nextSeq - n);
    // The ring must hold all wanted `before` lines, unless none ever left it (then there are no older ones).
    if (n === 0 || offset < 0 || offset >= n || (offset < before && results.ringDropped)) {
      return null;
    }
    const rowAt = (k: number): Row => this.ringRowAt(results, k);
    const out = { before: [] as Row[], after: [] as Row[] };
    for (let k = Math.max(0, offset - before); k < offset; k++) {
      out.before.push(rowAt(k));
    }
    for (let k = offset + 1; k < Math.min(n, offset + 1 + after); k++) {
      out.after.push(rowAt(k));
    }
    return out;
  }

  private async contextFromDisk(results: SourceResults, seq: number, before: number, after: number): Promise<{ line: Row | null; before: Row[]; after: Row[] }> {
    const files = await results.lines.files();
    const out = { line: null as Row | null, before: [] as Row[], after: [] as Row[] };
    let at = -1;
    for (let i = 0; i < files.length; i++) {
      if (files[i].startKey <= seq) {
        at = i;
      }
    }
    if (at < 0) {
      return out;
    }
    // The previous file too when the anomaly sits near the start of its file.
    const scan = files.slice(Math.max(0, at - 1), at + 2);
    let found = false;
    for (const f of scan) {
      for await (const text of SegmentLog.records(f.file)) {
        const r = parseJson<LineRecord>(text);
        if (!r) {
          continue;
        }
        if (r.q < seq) {
          out.before.push(lineRow(r, results));
          if (out.before.length > before) {
            out.before.shift();
          }
        } else if (r.q === seq) {
          out.line = lineRow(r, results);
        } else if (r.q > seq) {
          found = true;
          out.after.push(lineRow(r, results));
          if (out.after.length >= after) {
            return out;
          }
        }
      }
      if (found && out.after.length >= after) {
        break;
      }
    }
    return out;
  }

  private *selected(source?: string): Iterable<SourceResults> {
    if (source === undefined) {
      yield* this.sources.values();
    } else {
      const results = this.sources.get(source);
      if (results) {
        yield results;
      }
    }
  }
}

/** A score as JSON: rounded to 6 decimals; non-finite values (never expected) as null. */
function jsonNumber(score: number): string {
  return Number.isFinite(score) ? String(Math.round(score * 1e6) / 1e6) : 'null';
}

function toRow(a: AnomalyRecord): Row {
  return { id: a.id, time: a.time, source: a.source, line: a.line, score: a.score, anomaly: a.anomaly, suppressed: a.suppressed, labels: a.labels };
}

function lineRow(r: LineRecord, results: SourceResults): Row {
  return {
    id: `${r.q}-${results.key}`,
    time: r.t,
    source: results.source,
    line: r.l,
    score: r.s ?? NaN,
    anomaly: r.a === 1,
    suppressed: r.u === 1,
    labels: r.b ?? {},
  };
}

function parseJson<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null; // a torn last record after a crash
  }
}

/** Sequence number of the last complete record of a lines file (read from its tail). */
async function lastSeqIn(file: string): Promise<number> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = /^\{"q":(\d+),/.exec(lines[i]);
      if (m) {
        return Number(m[1]);
      }
    }
    return 0;
  } finally {
    await handle.close();
  }
}
