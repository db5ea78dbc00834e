/**
 * What the datasource API reads of the results, whatever keeps them: ResultsStore (embedded: local segment
 * files) or the cluster's PostgreSQL plus JetStream reader (backend/cluster/postgres/results-reader.ts).
 * Methods may answer synchronously (memory) or with a promise (a database): callers await either.
 */
import type { ReviewItem } from '../feedback/review-queue';
import type { RateEvent, TemplateSeries } from '../pipeline/rate-history';
import type { AnomalyRecord, IntervalCount, Row } from './results-store';

export type MaybePromise<T> = T | Promise<T>;

export interface AnomalyFilter {
  fromMs: number;
  toMs: number;
  source?: string;
  minScore?: number;
  search?: string;
  includeSuppressed: boolean;
  /** Suppression is looked up live (the fact-store), so feedback given now also hides earlier near-duplicates. */
  isSuppressed: (a: AnomalyRecord) => boolean;
  limit: number;
}

export interface AnomalyContext {
  anomaly: Row;
  before: Row[];
  after: Row[];
}

export interface ResultsReader {
  /** Anomalies of all (or one) sources in a time range, newest first, at most `limit`. */
  anomalies(filter: AnomalyFilter): MaybePromise<AnomalyRecord[]>;
  getAnomaly(id: string): MaybePromise<AnomalyRecord | undefined>;
  /** Per-interval counts of one source, in buckets of `stepMs` (rounded up to a multiple of bucketMs). */
  counts(source: string, fromMs: number, toMs: number, stepMs: number): MaybePromise<IntervalCount[]>;
  /** The lines just before and after an anomaly, from the same source; null when the anomaly is unknown. */
  context(id: string, before: number, after: number): Promise<AnomalyContext | null>;
  /** Sources with stored results (synchronous: a database-backed reader answers from a refreshed cache). */
  sourceNames(): string[];
  /** Width of the stored interval counts. */
  readonly bucketMs: number;
  /** The last background failure, if any (shown by /api/health). */
  readonly lastError: string | null;
}

/**
 * What the rate model saw of one source (query types template_rates and rate_events): the embedded pipeline's
 * RateHistory in memory, or the rows the cluster's workers wrote to PostgreSQL (postgres/results-reader.ts).
 */
export interface RateHistoryView {
  /** Each template's series over [from, to] in intervals of `width` ms, the `limit` most surprising first. */
  series(from: number, to: number, width: number, limit: number): MaybePromise<TemplateSeries[]>;
  /** Surges and drops in [from, to], oldest first. */
  eventsIn(from: number, to: number): MaybePromise<RateEvent[]>;
}

/**
 * The state the scoring side keeps besides lines, for the datasource API: rate history and review queue. Embedded,
 * the pipelines answer from memory (server/app.ts); in cluster mode, PostgresResultsReader answers from what the
 * owning workers wrote, so a query replica answers every query type.
 */
export interface ScoringStateReader {
  /** A source's rate history and interval (ms; null: no timed rate model); null when the source has none. */
  rates(source: string): { history: RateHistoryView; intervalMs: number | null } | null;
  /** A source's review queue, at most `limit` items, most teaching first; null when it has no model. */
  review(source: string, limit: number): MaybePromise<ReviewItem[] | null>;
}

export interface BucketCounts {
  lines: number;
  anomalies: number;
  suppressed: number;
}

/**
 * The grid of counts() from stored buckets: points from floor(fromMs/step)·step to toMs, each summing the
 * buckets that start inside it (step = stepMs rounded up to a multiple of the bucket width).
 */
export function countGrid(bucketMs: number, fromMs: number, toMs: number, stepMs: number, buckets: Iterable<[number, BucketCounts]>): IntervalCount[] {
  const step = Math.max(bucketMs, Math.ceil(stepMs / bucketMs) * bucketMs);
  const start = Math.floor(fromMs / step) * step;
  const points = Math.max(0, Math.floor((toMs - start) / step) + 1);
  const out: IntervalCount[] = new Array(points);
  for (let i = 0; i < points; i++) {
    out[i] = { time: start + i * step, lines: 0, anomalies: 0, suppressed: 0 };
  }
  for (const [t, b] of buckets) {
    const i = Math.floor((t - start) / step);
    if (i >= 0 && i < points) {
      out[i].lines += b.lines;
      out[i].anomalies += b.anomalies;
      out[i].suppressed += b.suppressed;
    }
  }
  return out;
}

/** Anomaly ids are `<seq>-<source key>` in both modes (sourceKey of results-store). */
export function parseAnomalyId(id: string): { seq: number; key: string } | null {
  const m = /^(\d{1,16})-([0-9a-f]{10})$/.exec(id);
  return m ? { seq: Number(m[1]), key: m[2] } : null;
}
