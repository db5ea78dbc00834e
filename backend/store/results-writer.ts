/**
 * How scored lines are written, whatever keeps them: ResultsStore (embedded: local segment files) or
 * PostgresResultsSink (cluster: PostgreSQL, the lines themselves staying in the JetStream stream). The read
 * side is ResultsReader (results-reader.ts).
 *
 *   const batch = new ScoredBatch();                 // one per scorer, reused for every chunk
 *   batch.reset(source, threshold);
 *   batch.add(entry, score, anomaly, suppressed, template, reason, level, seq);   // per line
 *   await writer.writeBatch(batch);                  // embedded answers synchronously, PostgreSQL with a promise
 *
 * The batch is column-wise and reused, so the embedded hot path allocates nothing per line beyond what the
 * store keeps (the entry by reference, an anomaly's record); its arrays grow to the largest chunk once.
 */
import type { RateEvent } from '../pipeline/rate-history';
import type { MaybePromise } from './results-reader';
import type { LineRef, ScoredLine } from './results-store';

export interface WriteResult {
  /** Anomalous lines stored now (not already there). */
  anomalies: number;
  /** Lines added to the interval counts. */
  counted: number;
  /** Lines written before (a replay after a failover), not counted again. */
  duplicates: number;
  /**
   * Anomalous lines whose own time was already past the store's retention when written (a backfill pushed with
   * its original times): counted, but gone at the next pruning. Reported by the embedded store.
   */
  expired?: number;
}

export interface ResultsWriter {
  /**
   * Stores a batch of one source's scored lines. Resolves once they are stored for good where the writer
   * promises that (PostgreSQL: committed; the caller acknowledges the stream after it). The batch may be
   * reused as soon as this returns (synchronous) or resolves.
   */
  writeBatch(batch: ScoredBatch): MaybePromise<WriteResult>;
}

/** A surge or drop of a template, with the template's id in the rate model (keys it across a replay). */
export interface RateEventRow {
  templateId: number;
  event: RateEvent;
}

const FLAG_ANOMALY = 1;
const FLAG_SUPPRESSED = 2;
/** rateIds value of a line the rate model did not count. */
export const NO_RATE = -1;

/** Scored lines of one source, column by column; `length` of each column is in use. */
export class ScoredBatch {
  source = '';
  /** The model's threshold (one model scores a whole batch). */
  threshold = 0;
  length = 0;
  /** Time, text and labels of each line, kept by reference (the embedded store's ring holds them). */
  readonly entries: LineRef[] = [];
  readonly templates: string[] = [];
  readonly reasons: string[] = [];
  readonly levels: (string | null)[] = [];
  scores = new Float64Array(64);
  /** bit 0: stored as an anomaly row, bit 1: suppressed. */
  flags = new Uint8Array(64);
  /** Cluster: the JetStream stream sequence of each line (idempotence key). Embedded: unused (the store numbers lines). */
  seqs = new Float64Array(64);
  /**
   * Per-template interval counts of the rate model (cluster: written for the query replicas; embedded: the
   * pipeline's RateHistory keeps them). rateIds[i] is NO_RATE when the line was not counted.
   */
  rateIds = new Int32Array(64);
  rateStarts = new Float64Array(64);
  rateExpected = new Float64Array(64);
  /** Width of the rate intervals (ms), null when the source has no timed rate model. */
  rateIntervalMs: number | null = null;
  /** Surges and drops raised since the last batch (idempotent by source, kind, template id and time). */
  readonly rateEvents: RateEventRow[] = [];

  /** Empties the batch for the next chunk (the arrays keep their size). */
  reset(source: string, threshold: number): this {
    this.source = source;
    this.threshold = threshold;
    this.length = 0;
    this.rateIntervalMs = null;
    this.rateEvents.length = 0;
    return this;
  }

  /** Appends one scored line; returns its index. */
  add(entry: LineRef, score: number, anomaly: boolean, suppressed: boolean, template: string, reason: string, level: string | null, seq = 0): number {
    const i = this.length++;
    if (i === this.scores.length) this.grow();
    this.entries[i] = entry;
    this.templates[i] = template;
    this.reasons[i] = reason;
    this.levels[i] = level;
    this.scores[i] = score;
    this.flags[i] = (anomaly ? FLAG_ANOMALY : 0) | (suppressed ? FLAG_SUPPRESSED : 0);
    this.seqs[i] = seq;
    this.rateIds[i] = NO_RATE;
    return i;
  }

  /** The rate model counted line `i` in the interval starting at `start`, where `expected` lines were expected. */
  setRate(i: number, templateId: number, start: number, expected: number): void {
    this.rateIds[i] = templateId;
    this.rateStarts[i] = start;
    this.rateExpected[i] = expected;
  }

  anomaly(i: number): boolean {
    return (this.flags[i] & FLAG_ANOMALY) !== 0;
  }

  suppressed(i: number): boolean {
    return (this.flags[i] & FLAG_SUPPRESSED) !== 0;
  }

  /** Line `i` as a row object (tests, and writers that are not on a hot path). */
  row(i: number): ScoredLine & { seq: number } {
    const e = this.entries[i];
    return {
      source: this.source,
      seq: this.seqs[i],
      time: e.timestampMs,
      line: e.line,
      labels: e.labels,
      score: this.scores[i],
      threshold: this.threshold,
      anomaly: this.anomaly(i),
      suppressed: this.suppressed(i),
      template: this.templates[i],
      reason: this.reasons[i],
      level: this.levels[i],
    };
  }

  private grow(): void {
    const n = this.scores.length * 2;
    const bigger = <T extends Float64Array | Int32Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(n);
      b.set(a);
      return b;
    };
    this.scores = bigger(this.scores, Float64Array);
    this.flags = bigger(this.flags, Uint8Array);
    this.seqs = bigger(this.seqs, Float64Array);
    this.rateIds = bigger(this.rateIds, Int32Array);
    this.rateStarts = bigger(this.rateStarts, Float64Array);
    this.rateExpected = bigger(this.rateExpected, Float64Array);
  }
}

/**
 * Batches, one per source in order of first appearance, of scored lines given as rows (tests, tools): `seq`
 * is the stream sequence in cluster mode. Each batch's threshold is its first row's.
 */
export function batchesOf(rows: readonly (ScoredLine & { seq?: number })[]): ScoredBatch[] {
  const bySource = new Map<string, ScoredBatch>();
  for (const r of rows) {
    let b = bySource.get(r.source);
    if (!b) bySource.set(r.source, (b = new ScoredBatch().reset(r.source, r.threshold)));
    b.add({ timestampMs: r.time, line: r.line, labels: r.labels }, r.score, r.anomaly, r.suppressed, r.template, r.reason, r.level, r.seq ?? 0);
  }
  return [...bySource.values()];
}
