/**
 * Where scoring workers write their results in cluster mode.
 *
 *   const pool = await openPostgres(config.cluster.postgresUrl, { onError });   // connects and migrates
 *   const sink = new PostgresResultsSink(pool, { bucketMs: config.retention.bucketSeconds * 1000 });
 *   await sink.writeBatch(batch: ScoredBatch): Promise<WriteResult>;   // ResultsWriter; ack the JetStream messages after it resolves
 *   await sink.writeReview(source, items);                            // the source's review queue, replaced
 *   await sink.lastSeq(source): Promise<number>;                      // highest stream seq counted (0: none)
 *
 * writeBatch (one source's lines, seqs = stream sequences) is idempotent by (source, seq), one transaction per call:
 *  - anomalous lines go to lad_anomalies with INSERT … ON CONFLICT DO NOTHING: a redelivered line is stored once,
 *    whatever the order it comes back in;
 *  - interval counts are kept per (source, bucket) and a per-source high-water mark (lad_progress.last_seq)
 *    says which lines are already counted: lines at or below it are skipped. Why a mark and not a row per line:
 *    a row per scored line would store the stream a second time (hundreds of thousands of rows a second), and a
 *    row per batch keyed by its first seq double counts or drops lines when a redelivery groups them differently.
 *    The mark is exact as long as each source's lines are written in stream order, which one owner per source
 *    consuming its subject in order gives; lines that come back below the mark are reported as `duplicates`.
 *  - the rate model's per-template interval counts (lad_template_counts) follow the same mark, so a replay adds
 *    nothing; its surge and drop events (lad_rate_events) are keyed by (source, kind, template id, interval) and
 *    written with ON CONFLICT DO NOTHING, so a new owner raising the same event again leaves one row. A surge's
 *    observed count is its interval's template count, read at query time (results-reader.ts).
 *  - The progress rows are locked in source order (FOR UPDATE), so two workers that briefly both believe they own
 *    a source (a lease taken over from a paused worker) serialise instead of counting twice.
 * Throws PostgresUnavailableError when PostgreSQL cannot be reached; nothing of the batch is written then.
 */
import type { ReviewItem } from '../../feedback/review-queue';
import type { ResultsWriter, ScoredBatch, WriteResult } from '../../store/results-writer';
import { NO_RATE } from '../../store/results-writer';
import { PostgresPool, type PostgresOptions } from './pool';
import { migrate } from './migrations';

export type { WriteResult } from '../../store/results-writer';

export interface ResultsSinkOptions {
  /** Width of the interval counts (config retention.bucketSeconds × 1000); the query role reads with the same. */
  bucketMs: number;
}

/** Connects to PostgreSQL and brings the schema up to date (every role calls this at start-up). */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresPool> {
  const pool = new PostgresPool(url, options);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.close().catch(() => undefined);
    throw err;
  }
  return pool;
}

interface CountRow {
  bucket: number;
  lines: number;
  anomalies: number;
  suppressed: number;
}

interface TemplateCountRow {
  id: number;
  start: number;
  template: string;
  observed: number;
  expected: number;
}

export class PostgresResultsSink implements ResultsWriter {
  constructor(
    private readonly pool: PostgresPool,
    private readonly options: ResultsSinkOptions
  ) {}

  async writeBatch(batch: ScoredBatch): Promise<WriteResult> {
    const result: WriteResult = { anomalies: 0, counted: 0, duplicates: 0 };
    const { source, length: n } = batch;
    if (n === 0 && batch.rateEvents.length === 0 && batch.rateIntervalMs === null) return result;
    const anomalous: number[] = [];
    for (let i = 0; i < n; i++) if (batch.anomaly(i)) anomalous.push(i);
    const events = batch.rateEvents;
    return this.pool.transaction(async (client) => {
      let mark = 0;
      if (n > 0) {
        // One round trip creates the progress row if missing and locks it (the no-op update takes the row lock).
        const marks = await client.query<{ last_seq: string }>(
          `INSERT INTO lad_progress (source, last_seq) VALUES ($1, 0)
           ON CONFLICT (source) DO UPDATE SET last_seq = lad_progress.last_seq RETURNING last_seq`,
          [source]
        );
        mark = Number(marks.rows[0].last_seq);
      }
      const counts = new Map<number, CountRow>();
      const templateCounts = new Map<string, TemplateCountRow>();
      let top = mark;
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) {
        const seq = batch.seqs[i];
        if (seq <= mark || seen.has(seq)) {
          result.duplicates++;
          continue;
        }
        seen.add(seq);
        top = Math.max(top, seq);
        result.counted++;
        const bucket = Math.floor(batch.entries[i].timestampMs / this.options.bucketMs) * this.options.bucketMs;
        let row = counts.get(bucket);
        if (!row) counts.set(bucket, (row = { bucket, lines: 0, anomalies: 0, suppressed: 0 }));
        row.lines++;
        if (batch.anomaly(i) && batch.suppressed(i)) row.suppressed++;
        else if (batch.anomaly(i)) row.anomalies++;
        const id = batch.rateIds[i];
        if (id !== NO_RATE) {
          const start = batch.rateStarts[i];
          const key = `${id}:${start}`;
          const t = templateCounts.get(key);
          // the expectation of the interval's newest line, as the in-memory history keeps it
          if (t) {
            t.observed++;
            t.expected = batch.rateExpected[i];
            t.template = batch.templates[i];
          } else templateCounts.set(key, { id, start, template: batch.templates[i], observed: 1, expected: batch.rateExpected[i] });
        }
      }
      const rows = [...counts.values()];
      const tc = [...templateCounts.values()];
      // and one more writes anomalies, counts, rate state and the mark together (data-modifying CTEs; empty arrays write nothing)
      const written = await client.query<{ anomalies: string }>(
        `WITH a AS (
           INSERT INTO lad_anomalies (source, seq, time_ms, line, labels, score, threshold, suppressed, template, reason, level)
           SELECT $1, u.seq, u.time_ms, u.line, u.labels, u.score, $7::float8, u.suppressed, u.template, u.reason, u.level
           FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::jsonb[], $6::float8[], $8::bool[], $9::text[], $10::text[], $11::text[])
             AS u(seq, time_ms, line, labels, score, suppressed, template, reason, level)
           ON CONFLICT DO NOTHING RETURNING 1
         ), c AS (
           INSERT INTO lad_counts (source, bucket_ms, lines, anomalies, suppressed)
           SELECT $1, * FROM unnest($12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[])
           ON CONFLICT (source, bucket_ms) DO UPDATE SET lines = lad_counts.lines + EXCLUDED.lines,
             anomalies = lad_counts.anomalies + EXCLUDED.anomalies, suppressed = lad_counts.suppressed + EXCLUDED.suppressed
           RETURNING 1
         ), t AS (
           INSERT INTO lad_template_counts (source, template_id, start_ms, template, observed, expected)
           SELECT $1, * FROM unnest($16::int[], $17::bigint[], $18::text[], $19::bigint[], $20::float8[])
           ON CONFLICT (source, template_id, start_ms) DO UPDATE SET observed = lad_template_counts.observed + EXCLUDED.observed,
             expected = EXCLUDED.expected, template = EXCLUDED.template
           RETURNING 1
         ), e AS (
           INSERT INTO lad_rate_events (source, kind, template_id, time_ms, template, observed, expected, interval)
           SELECT $1, * FROM unnest($21::text[], $22::int[], $23::bigint[], $24::text[], $25::bigint[], $26::float8[], $27::text[])
           ON CONFLICT DO NOTHING RETURNING 1
         ), i AS (
           INSERT INTO lad_rate_intervals (source, interval_ms) SELECT $1, w FROM unnest($28::bigint[]) AS w
           ON CONFLICT (source) DO UPDATE SET interval_ms = EXCLUDED.interval_ms WHERE lad_rate_intervals.interval_ms <> EXCLUDED.interval_ms
           RETURNING 1
         ), p AS (
           UPDATE lad_progress SET last_seq = v.seq, updated_at = now()
           FROM unnest($29::bigint[]) AS v(seq) WHERE lad_progress.source = $1
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM a) AS anomalies, (SELECT count(*) FROM c) AS counts, (SELECT count(*) FROM t) AS templates,
           (SELECT count(*) FROM e) AS events, (SELECT count(*) FROM i) AS intervals, (SELECT count(*) FROM p) AS marks`,
        [
          source,
          anomalous.map((i) => batch.seqs[i]),
          anomalous.map((i) => Math.round(batch.entries[i].timestampMs)),
          anomalous.map((i) => batch.entries[i].line),
          anomalous.map((i) => JSON.stringify(batch.entries[i].labels ?? {})),
          anomalous.map((i) => batch.scores[i]),
          batch.threshold,
          anomalous.map((i) => batch.suppressed(i)),
          anomalous.map((i) => batch.templates[i]),
          anomalous.map((i) => batch.reasons[i]),
          anomalous.map((i) => batch.levels[i]),
          rows.map((r) => r.bucket),
          rows.map((r) => r.lines),
          rows.map((r) => r.anomalies),
          rows.map((r) => r.suppressed),
          tc.map((r) => r.id),
          tc.map((r) => r.start),
          tc.map((r) => r.template),
          tc.map((r) => r.observed),
          tc.map((r) => r.expected),
          events.map((e) => e.event.kind),
          events.map((e) => e.templateId),
          events.map((e) => Math.round(e.event.time)),
          events.map((e) => e.event.template),
          events.map((e) => e.event.observed),
          events.map((e) => e.event.expected),
          events.map((e) => e.event.interval),
          batch.rateIntervalMs === null ? [] : [batch.rateIntervalMs],
          top > mark ? [top] : [],
        ]
      );
      result.anomalies = Number(written.rows[0].anomalies);
      return result;
    });
  }

  /** Replaces `source`'s review queue (the owning worker's newest, items in priority order; null: no model yet). */
  async writeReview(source: string, items: ReviewItem[] | null): Promise<void> {
    if (items === null) {
      await this.pool.query('DELETE FROM lad_review WHERE source = $1', [source]);
      return;
    }
    await this.pool.query(
      `INSERT INTO lad_review (source, items) VALUES ($1, $2::jsonb)
       ON CONFLICT (source) DO UPDATE SET items = EXCLUDED.items, updated_at = now()`,
      [source, JSON.stringify(items)]
    );
  }

  /** The highest stream sequence of `source` counted so far (0 when none): where a worker taking over may resume. */
  async lastSeq(source: string): Promise<number> {
    const { rows } = await this.pool.query<{ last_seq: string }>('SELECT last_seq FROM lad_progress WHERE source = $1', [source]);
    return rows.length > 0 ? Number(rows[0].last_seq) : 0;
  }

  /** Deletes anomalies and counts older than `cutoffMs` (retention; the stream's own retention covers lines). */
  async prune(cutoffMs: number): Promise<{ anomalies: number; counts: number }> {
    const a = await this.pool.query('DELETE FROM lad_anomalies WHERE time_ms < $1', [cutoffMs]);
    const c = await this.pool.query('DELETE FROM lad_counts WHERE bucket_ms < $1', [cutoffMs - this.options.bucketMs]);
    // rate intervals are at most a day wide (engine/rate): one more day keeps every interval that ends in retention
    await this.pool.query('DELETE FROM lad_template_counts WHERE start_ms < $1', [cutoffMs - 86_400_000]);
    await this.pool.query('DELETE FROM lad_rate_events WHERE time_ms < $1', [cutoffMs]);
    return { anomalies: a.rowCount ?? 0, counts: c.rowCount ?? 0 };
  }
}
