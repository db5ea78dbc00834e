/**
 * Where scoring workers write their results in cluster mode.
 *
 *   const pool = await openPostgres(config.cluster.postgresUrl, { onError });   // connects and migrates
 *   const sink = new PostgresResultsSink(pool, { bucketMs: config.retention.bucketSeconds * 1000 });
 *   await sink.writeBatch(lines: ClusterScoredLine[]): Promise<WriteResult>;    // ack the JetStream messages after it resolves
 *   await sink.lastSeq(source): Promise<number>;                               // highest stream seq counted (0: none)
 *
 * writeBatch is idempotent by (source, seq), one transaction per call:
 *  - anomalous lines go to lad_anomalies with INSERT … ON CONFLICT DO NOTHING: a redelivered line is stored once,
 *    whatever the order it comes back in;
 *  - interval counts are kept per (source, bucket) and a per-source high-water mark (lad_progress.last_seq)
 *    says which lines are already counted: lines at or below it are skipped. Why a mark and not a row per line:
 *    a row per scored line would store the stream a second time (hundreds of thousands of rows a second), and a
 *    row per batch keyed by its first seq double counts or drops lines when a redelivery groups them differently.
 *    The mark is exact as long as each source's lines are written in stream order, which one owner per source
 *    consuming its subject in order gives; lines that come back below the mark are reported as `duplicates`.
 *  - The progress rows are locked in source order (FOR UPDATE), so two workers that briefly both believe they own
 *    a source (a lease taken over from a paused worker) serialise instead of counting twice.
 * Throws PostgresUnavailableError when PostgreSQL cannot be reached; nothing of the batch is written then.
 */
import type { ClusterScoredLine } from '../ports';
import { PostgresPool, type PostgresOptions } from './pool';
import { migrate } from './migrations';

export interface WriteResult {
  /** Anomalous lines stored now (not already there). */
  anomalies: number;
  /** Lines added to the interval counts. */
  counted: number;
  /** Lines at or below their source's high-water mark: written before, not counted again. */
  duplicates: number;
}

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
  source: string;
  bucket: number;
  lines: number;
  anomalies: number;
  suppressed: number;
}

export class PostgresResultsSink {
  constructor(
    private readonly pool: PostgresPool,
    private readonly options: ResultsSinkOptions
  ) {}

  async writeBatch(lines: ClusterScoredLine[]): Promise<WriteResult> {
    const result: WriteResult = { anomalies: 0, counted: 0, duplicates: 0 };
    if (lines.length === 0) return result;
    const bySource = new Map<string, ClusterScoredLine[]>();
    for (const line of lines) {
      const list = bySource.get(line.source);
      if (list) list.push(line);
      else bySource.set(line.source, [line]);
    }
    const sources = [...bySource.keys()].sort();
    const anomalous = lines.filter((l) => l.anomaly);
    return this.pool.transaction(async (client) => {
      // One round trip creates missing progress rows and locks them all (the no-op update takes the row lock),
      // in source order, returning each source's mark.
      const marks = await client.query<{ source: string; last_seq: string }>(
        `INSERT INTO lad_progress (source, last_seq) SELECT s, 0 FROM unnest($1::text[]) AS s ORDER BY s
         ON CONFLICT (source) DO UPDATE SET last_seq = lad_progress.last_seq RETURNING source, last_seq`,
        [sources]
      );
      const markOf = new Map(marks.rows.map((r) => [r.source, Number(r.last_seq)]));
      const counts = new Map<string, CountRow>();
      const newMarks: [string, number][] = [];
      for (const source of sources) {
        const mark = markOf.get(source) ?? 0;
        let top = mark;
        const seen = new Set<number>();
        for (const line of bySource.get(source)!) {
          if (line.seq <= mark || seen.has(line.seq)) {
            result.duplicates++;
            continue;
          }
          seen.add(line.seq);
          top = Math.max(top, line.seq);
          result.counted++;
          const bucket = Math.floor(line.time / this.options.bucketMs) * this.options.bucketMs;
          const key = `${bucket}\u0000${source}`;
          let row = counts.get(key);
          if (!row) {
            row = { source, bucket, lines: 0, anomalies: 0, suppressed: 0 };
            counts.set(key, row);
          }
          row.lines++;
          if (line.anomaly && line.suppressed) row.suppressed++;
          else if (line.anomaly) row.anomalies++;
        }
        if (top > mark) newMarks.push([source, top]);
      }
      // and one more writes anomalies, counts and marks together (data-modifying CTEs; empty arrays write nothing)
      const rows = [...counts.values()];
      const written = await client.query<{ anomalies: string }>(
        `WITH a AS (
           INSERT INTO lad_anomalies (source, seq, time_ms, line, labels, score, threshold, suppressed, template, reason, level)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::jsonb[], $6::float8[], $7::float8[], $8::bool[], $9::text[], $10::text[], $11::text[])
           ON CONFLICT DO NOTHING RETURNING 1
         ), c AS (
           INSERT INTO lad_counts (source, bucket_ms, lines, anomalies, suppressed)
           SELECT * FROM unnest($12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[])
           ON CONFLICT (source, bucket_ms) DO UPDATE SET lines = lad_counts.lines + EXCLUDED.lines,
             anomalies = lad_counts.anomalies + EXCLUDED.anomalies, suppressed = lad_counts.suppressed + EXCLUDED.suppressed
           RETURNING 1
         ), p AS (
           UPDATE lad_progress SET last_seq = v.seq, updated_at = now()
           FROM unnest($17::text[], $18::bigint[]) AS v(source, seq) WHERE lad_progress.source = v.source
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM a) AS anomalies, (SELECT count(*) FROM c) AS counts, (SELECT count(*) FROM p) AS marks`,
        [
          anomalous.map((l) => l.source),
          anomalous.map((l) => l.seq),
          anomalous.map((l) => Math.round(l.time)),
          anomalous.map((l) => l.line),
          anomalous.map((l) => JSON.stringify(l.labels ?? {})),
          anomalous.map((l) => l.score),
          anomalous.map((l) => l.threshold),
          anomalous.map((l) => l.suppressed),
          anomalous.map((l) => l.template),
          anomalous.map((l) => l.reason),
          anomalous.map((l) => l.level),
          rows.map((r) => r.source),
          rows.map((r) => r.bucket),
          rows.map((r) => r.lines),
          rows.map((r) => r.anomalies),
          rows.map((r) => r.suppressed),
          newMarks.map((m) => m[0]),
          newMarks.map((m) => m[1]),
        ]
      );
      result.anomalies = Number(written.rows[0].anomalies);
      return result;
    });
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
    return { anomalies: a.rowCount ?? 0, counts: c.rowCount ?? 0 };
  }
}
