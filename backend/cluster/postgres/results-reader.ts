/**
 * The query role's ResultsReader: anomalies and interval counts from PostgreSQL (written by the scoring
 * workers' PostgresResultsSink), context lines from the JetStream stream (stream-context.ts), anomaly ids as
 * in embedded mode (`<stream seq>-<source key>`). Also the ScoringStateReader: rate series and events, and review
 * queues, as the owning workers wrote them; series are computed by the embedded RateHistory itself from the rows,
 * so the frames are the embedded ones. Every read goes to PostgreSQL, so all query replicas answer
 * the same; when it is down they throw PostgresUnavailableError (a 503 naming PostgreSQL).
 * Source names are kept in a cache refreshed every few seconds: the API asks for them synchronously.
 */
import type { ReviewItem } from '../../feedback/review-queue';
import { RateHistory, RATE_HISTORY_LIMITS, type RateEvent, type RateHistoryFile, type TemplateSeries } from '../../pipeline/rate-history';
import type { AnomalyRecord, IntervalCount, Row } from '../../store/results-store';
import { sourceKey } from '../../store/results-store';
import {
  countGrid,
  parseAnomalyId,
  type AnomalyContext,
  type AnomalyFilter,
  type BucketCounts,
  type RateHistoryView,
  type ResultsReader,
  type ScoringStateReader,
} from '../../store/results-reader';
import type { LineContextSource, StreamRecord } from '../stream-context';
import type { PostgresPool } from './pool';

interface AnomalyRow {
  source: string;
  seq: string;
  time_ms: string;
  line: string;
  labels: Record<string, string>;
  score: number;
  threshold: number;
  suppressed: boolean;
  template: string;
  reason: string;
  level: string | null;
}

/**
 * Most template-interval rows one template_rates read takes, newest first: the embedded history holds at most
 * maxTemplates × maxIntervals per source (rate-history.ts), so a query replica reads no more than that.
 */
const MAX_TEMPLATE_COUNT_ROWS = RATE_HISTORY_LIMITS.maxTemplates * RATE_HISTORY_LIMITS.maxIntervals;

const ANOMALY_COLUMNS = 'source, seq, time_ms, line, labels, score, threshold, suppressed, template, reason, level';
/** Rows read per round trip while filling a page whose suppression is decided here (the fact-store). */
const PAGE_ROWS = 2000;

function toRecord(r: AnomalyRow): AnomalyRecord {
  const seq = Number(r.seq);
  return {
    id: `${seq}-${sourceKey(r.source)}`,
    time: Number(r.time_ms),
    source: r.source,
    line: r.line,
    score: r.score,
    anomaly: true,
    suppressed: r.suppressed,
    labels: r.labels ?? {},
    seq,
    threshold: r.threshold,
    template: r.template,
    reason: r.reason,
    level: r.level,
  };
}

function toRow(a: AnomalyRecord): Row {
  return { id: a.id, time: a.time, source: a.source, line: a.line, score: a.score, anomaly: a.anomaly, suppressed: a.suppressed, labels: a.labels };
}

export interface PostgresResultsReaderOptions {
  bucketMs: number;
  /** How often the source-name cache is refreshed (default 2 s). */
  refreshMs?: number;
  /**
   * Most anomalies one call returns, whatever `limit` asks (the templates query asks for all in its range): the
   * newest this many, as embedded mode holds the newest retention.maxAnomalies per source in memory (default 100,000).
   */
  maxRows?: number;
}

export class PostgresResultsReader implements ResultsReader, ScoringStateReader {
  lastError: string | null = null;
  private names: string[] = [];
  /** Rate interval width (ms) per source, refreshed with the names. */
  private intervals = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly pool: PostgresPool,
    private readonly lines: LineContextSource,
    private readonly options: PostgresResultsReaderOptions
  ) {}

  static async open(pool: PostgresPool, lines: LineContextSource, options: PostgresResultsReaderOptions): Promise<PostgresResultsReader> {
    const reader = new PostgresResultsReader(pool, lines, options);
    await reader.refreshNames();
    reader.timer = setInterval(() => {
      reader.refreshNames().catch(() => undefined);
    }, options.refreshMs ?? 2000);
    reader.timer.unref();
    return reader;
  }

  get bucketMs(): number {
    return this.options.bucketMs;
  }

  sourceNames(): string[] {
    return this.names;
  }

  async refreshNames(): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ source: string }>('SELECT source FROM lad_progress ORDER BY source');
      const widths = await this.pool.query<{ source: string; interval_ms: string }>('SELECT source, interval_ms FROM lad_rate_intervals');
      this.names = rows.map((r) => r.source);
      this.intervals = new Map(widths.rows.map((r) => [r.source, Number(r.interval_ms)]));
      this.lastError = null;
    } catch (err) {
      this.lastError = `reading source names: ${(err as Error).message}`;
      throw err;
    }
  }

  async anomalies(filter: AnomalyFilter): Promise<AnomalyRecord[]> {
    const where = ['time_ms >= $1', 'time_ms <= $2'];
    const values: unknown[] = [Math.floor(filter.fromMs), Math.ceil(filter.toMs)];
    const param = (v: unknown) => {
      values.push(v);
      return `$${values.length}`;
    };
    if (filter.source !== undefined) where.push(`source = ${param(filter.source)}`);
    if (filter.minScore !== undefined) where.push(`score >= ${param(filter.minScore)}`);
    if (filter.search) {
      const needle = param(filter.search.toLowerCase());
      where.push(`(strpos(lower(line), ${needle}) > 0 OR strpos(lower(template), ${needle}) > 0)`);
    }
    if (!filter.includeSuppressed) where.push('NOT suppressed');
    const out: AnomalyRecord[] = [];
    const limit = Math.min(filter.limit, this.options.maxRows ?? 100_000);
    // Keyset pages, newest first, until `limit` rows pass the live suppression check (or none are left).
    let after: { time: number; seq: number } | null = null;
    for (;;) {
      const page = [...values];
      let clause = where.join(' AND ');
      if (after) {
        page.push(after.time, after.seq);
        clause += ` AND (time_ms, seq) < ($${page.length - 1}, $${page.length})`;
      }
      const want = Math.min(PAGE_ROWS, Math.max(1, limit - out.length));
      page.push(filter.includeSuppressed ? want : PAGE_ROWS);
      const { rows } = await this.pool.query<AnomalyRow>(
        `SELECT ${ANOMALY_COLUMNS} FROM lad_anomalies WHERE ${clause} ORDER BY time_ms DESC, seq DESC LIMIT $${page.length}`,
        page
      );
      for (const row of rows) {
        const record = toRecord(row);
        if (!filter.includeSuppressed && filter.isSuppressed(record)) continue;
        out.push(record);
        if (out.length >= limit) return out;
      }
      if (rows.length < Number(page[page.length - 1])) return out;
      const last = rows[rows.length - 1];
      after = { time: Number(last.time_ms), seq: Number(last.seq) };
    }
  }

  async getAnomaly(id: string): Promise<AnomalyRecord | undefined> {
    const parsed = parseAnomalyId(id);
    if (!parsed) return undefined;
    const { rows } = await this.pool.query<AnomalyRow>(`SELECT ${ANOMALY_COLUMNS} FROM lad_anomalies WHERE seq = $1`, [parsed.seq]);
    const row = rows.find((r) => sourceKey(r.source) === parsed.key);
    return row ? toRecord(row) : undefined;
  }

  async counts(source: string, fromMs: number, toMs: number, stepMs: number): Promise<IntervalCount[]> {
    const step = Math.max(this.bucketMs, Math.ceil(stepMs / this.bucketMs) * this.bucketMs);
    const start = Math.floor(fromMs / step) * step;
    const { rows } = await this.pool.query<{ bucket_ms: string; lines: string; anomalies: string; suppressed: string }>(
      'SELECT bucket_ms, lines, anomalies, suppressed FROM lad_counts WHERE source = $1 AND bucket_ms >= $2 AND bucket_ms <= $3',
      [source, start, Math.ceil(toMs)]
    );
    const buckets: [number, BucketCounts][] = rows.map((r) => [Number(r.bucket_ms), { lines: Number(r.lines), anomalies: Number(r.anomalies), suppressed: Number(r.suppressed) }]);
    return countGrid(this.bucketMs, fromMs, toMs, stepMs, buckets);
  }

  /**
   * The anomaly from PostgreSQL, its neighbours from the stream. Lines that were not anomalies carry no score
   * (only anomalies are stored with theirs): score NaN, which JSON writes as null.
   */
  async context(id: string, before: number, after: number): Promise<AnomalyContext | null> {
    const anomaly = await this.getAnomaly(id);
    if (!anomaly) return null;
    const around = await this.lines.around(anomaly.source, anomaly.seq, before, after);
    const neighbours = [...around.before, ...around.after];
    const stored = new Map<number, AnomalyRecord>();
    if (neighbours.length > 0) {
      const { rows } = await this.pool.query<AnomalyRow>(`SELECT ${ANOMALY_COLUMNS} FROM lad_anomalies WHERE source = $1 AND seq = ANY($2::bigint[])`, [
        anomaly.source,
        neighbours.map((n) => n.seq),
      ]);
      for (const row of rows) stored.set(Number(row.seq), toRecord(row));
    }
    const row = (n: StreamRecord): Row => {
      const known = stored.get(n.seq);
      if (known) return toRow(known);
      return { id: `${n.seq}-${sourceKey(anomaly.source)}`, time: n.line.t, source: anomaly.source, line: n.line.line, score: NaN, anomaly: false, suppressed: false, labels: n.line.labels };
    };
    return { anomaly: toRow(anomaly), before: around.before.map(row), after: around.after.map(row) };
  }

  rates(source: string): { history: RateHistoryView; intervalMs: number | null } | null {
    const intervalMs = this.intervals.get(source);
    if (intervalMs === undefined) return null;
    return {
      intervalMs,
      history: {
        series: (from, to, width, limit) => this.templateSeries(source, from, to, width, limit),
        eventsIn: (from, to) => this.rateEvents(source, from, to),
      },
    };
  }

  /** The embedded RateHistory filled with the rows of the range, which then computes the series as in embedded mode. */
  private async templateSeries(source: string, from: number, to: number, width: number, limit: number): Promise<TemplateSeries[]> {
    const { rows } = await this.pool.query<{ template_id: number; start_ms: string; template: string; observed: string; expected: number }>(
      `SELECT template_id, start_ms, template, observed, expected FROM lad_template_counts
       WHERE source = $1 AND start_ms > $2 AND start_ms <= $3 ORDER BY start_ms DESC LIMIT $4`,
      [source, Math.floor(from - width), Math.ceil(to), MAX_TEMPLATE_COUNT_ROWS]
    );
    const tracks = new Map<number, RateHistoryFile['tracks'][number]>();
    // oldest first, so each track's text is its newest interval's (a widened template shows its newest text)
    for (let k = rows.length - 1; k >= 0; k--) {
      const r = rows[k];
      let track = tracks.get(r.template_id);
      if (!track) tracks.set(r.template_id, (track = [r.template_id, r.template, []]));
      track[1] = r.template;
      track[2].push([Number(r.start_ms), Number(r.observed), r.expected]);
    }
    const history = new RateHistory({ maxTemplates: tracks.size, maxIntervals: MAX_TEMPLATE_COUNT_ROWS, maxEvents: 0 });
    history.restore({ version: 1, tracks: [...tracks.values()], events: [] });
    return history.series(from, to, width, limit);
  }

  /** Surges and drops in [from, to], oldest first (the newest maxEvents, as the embedded history keeps). */
  private async rateEvents(source: string, from: number, to: number): Promise<RateEvent[]> {
    // a surge's observed count is its interval's template count (the embedded history raises it line by line)
    const { rows } = await this.pool.query<{ time_ms: string; template: string; kind: 'surge' | 'drop'; observed: string; expected: number; interval: string }>(
      `SELECT e.time_ms, e.template, e.kind, e.expected, e.interval,
         CASE WHEN e.kind = 'surge' THEN GREATEST(e.observed, coalesce(c.observed, 0)) ELSE e.observed END AS observed
       FROM lad_rate_events e
       LEFT JOIN lad_template_counts c ON c.source = e.source AND c.template_id = e.template_id AND c.start_ms = e.time_ms
       WHERE e.source = $1 AND e.time_ms >= $2 AND e.time_ms <= $3
       ORDER BY e.time_ms DESC, e.kind, e.template_id LIMIT $4`,
      [source, Math.floor(from), Math.ceil(to), RATE_HISTORY_LIMITS.maxEvents]
    );
    return rows.reverse().map((r) => ({ time: Number(r.time_ms), template: r.template, kind: r.kind, observed: Number(r.observed), expected: r.expected, interval: r.interval }));
  }

  async review(source: string, limit: number): Promise<ReviewItem[] | null> {
    const { rows } = await this.pool.query<{ items: ReviewItem[] }>('SELECT items FROM lad_review WHERE source = $1', [source]);
    return rows.length === 0 ? null : rows[0].items.slice(0, limit);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
