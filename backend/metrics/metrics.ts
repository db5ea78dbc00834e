import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MemoryBudgetEvents, MemoryReading, RetainedKind } from '../server/memory-budget';

/**
 * Every Prometheus metric of the service, on its own registry (never prom-client's global one, so two
 * services in one process — tests — do not collide). Names are documented in docs/service.md.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly linesIngested = new Counter({
    name: 'lad_lines_ingested_total',
    help: 'Log lines accepted into a source pipeline queue',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly linesScored = new Counter({
    name: 'lad_lines_scored_total',
    help: 'Log lines scored by a model',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly anomalies = new Counter({
    name: 'lad_anomalies_total',
    help: 'Lines scored above the threshold and not suppressed by a known false positive',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly anomaliesExpired = new Counter({
    name: 'lad_anomalies_expired_total',
    help: 'Anomalous lines whose own time was already older than the results retention when scored (a backfill with its original times): counted in lad_anomalies_total, not kept in the results store',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly rateAnomalies = new Counter({
    name: 'lad_rate_anomalies_total',
    help: 'Rate anomalies per template (engine/rate): kind="surge" when a template\'s count in an interval reaches its surge level, kind="drop" when a regular template stops',
    labelNames: ['source', 'kind'] as const,
    registers: [this.registry],
  });
  readonly suppressed = new Counter({
    name: 'lad_suppressed_total',
    help: 'Lines above the threshold whose template is a reported false positive (stored, not flagged)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'lad_dropped_lines_total',
    help:
      'Lines lost: never scored (reason: too_many_sources; syslog oversize, udp_backpressure, shutdown, sink_error)',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'lad_refused_lines_total',
    help:
      'Lines a full queue refused with a retry-later (429 / paused connection / waiting pull); counted per attempt, the sender retries them',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly feedback = new Counter({
    name: 'lad_feedback_total',
    help: 'Feedback records created, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly feedbackRecords = new Gauge({
    name: 'lad_feedback_records',
    help: 'Feedback records in the fact-store, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly feedbackAnswers = new Gauge({
    name: 'lad_feedback_answers_applied',
    help: 'Answers (confirmed and false positive) applied to the lines a source scores, its own and those for every source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly feedbackChanged = new Counter({
    name: 'lad_feedback_changed_lines_total',
    help: 'Scored lines whose decision an answer changed (flagged like a confirmed anomaly, or quieted like a false positive)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly precision = new Gauge({
    name: 'lad_precision',
    help: 'Confirmed / (confirmed + false positive) over reviewed anomalies (absent until one was reviewed)',
    registers: [this.registry],
  });
  readonly score = new Histogram({
    name: 'lad_score',
    help: 'Anomaly scores of scored lines (the threshold is per source, see lad_threshold)',
    labelNames: ['source'] as const,
    buckets: [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 100, 1000, 10000],
    registers: [this.registry],
  });
  readonly threshold = new Gauge({
    name: 'lad_threshold',
    help: 'Anomaly threshold of the current model',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly trainingRuns = new Counter({
    name: 'lad_training_runs_total',
    help: 'Model trainings, by result (ok, error) and reason (initial, periodic, drift)',
    labelNames: ['source', 'result', 'reason'] as const,
    registers: [this.registry],
  });
  readonly trainingDuration = new Histogram({
    name: 'lad_training_duration_seconds',
    help: 'Wall time of model trainings',
    labelNames: ['source'] as const,
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });
  readonly modelAge = new Gauge({
    name: 'lad_model_age_seconds',
    help: 'Seconds since the current model was trained',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly templates = new Gauge({
    name: 'lad_templates',
    help: 'Templates the miner of a source currently holds',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly templatesEvicted = new Counter({
    name: 'lad_templates_evicted_total',
    help: 'Templates evicted (least recently used) to keep a source within miner.maxTemplates',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'lad_queue_depth',
    help: 'Lines accepted and waiting to be scored',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly sourceLag = new Gauge({
    name: 'lad_source_lag_seconds',
    help: 'How far a source is behind (now minus the newest delivered line, or the pull position); absent when unknown',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly linesPerSecond = new Gauge({
    name: 'lad_lines_per_second',
    help: 'Lines scored per second over the last 10 seconds (as in /api/health)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly sourceUp = new Gauge({
    name: 'lad_source_up',
    help: '1 when a source is connected (or a push source has a pipeline), 0 otherwise',
    labelNames: ['source', 'kind'] as const,
    registers: [this.registry],
  });
  readonly sourceState = new Gauge({
    name: 'lad_source_state',
    help: '1 for the current state of a source (starting, connected, paused, error, stopped)',
    labelNames: ['source', 'state'] as const,
    registers: [this.registry],
  });
  readonly modelState = new Gauge({
    name: 'lad_model_state',
    help: '1 for the current model state of a source (collecting, training, ready)',
    labelNames: ['source', 'state'] as const,
    registers: [this.registry],
  });

  // The write-ahead spool (backend/spool) and the results store: what an operator watches for a full or slow disk.
  readonly spoolBytes = new Gauge({
    name: 'lad_spool_bytes',
    help: 'Bytes of spool segment files on disk (lines acknowledged and not yet checkpointed as scored, plus the segment being written)',
    registers: [this.registry],
  });
  readonly spoolRecords = new Counter({
    name: 'lad_spool_records_appended_total',
    help: 'Records (one per source per pushed batch) written to the spool and fsynced',
    registers: [this.registry],
  });
  readonly spoolLines = new Counter({
    name: 'lad_spool_lines_appended_total',
    help: 'Lines written to the spool and fsynced',
    registers: [this.registry],
  });
  readonly spoolCommitDuration = new Histogram({
    name: 'lad_spool_commit_duration_seconds',
    help: 'Time of one group commit: the write of the waiting batches and its fdatasync (the group-commit wait not included)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly spoolWriteErrors = new Counter({
    name: 'lad_spool_write_errors_total',
    help: 'Failed spool writes (what: write = a group commit, answered 503; checkpoint = the scored-position record)',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });
  readonly spoolReplayed = new Counter({
    name: 'lad_spool_replayed_lines_total',
    help: 'Lines spooled but not scored before the last stop, handed to the pipelines at start-up',
    registers: [this.registry],
  });
  readonly resultsWriteErrors = new Counter({
    name: 'lad_results_write_errors_total',
    help: 'Failed background writes of the results store (scored lines, anomalies, counts); the spool keeps those lines until a write succeeds',
    registers: [this.registry],
  });

  // The process-wide memory budget (backend/server/memory-budget.ts): read at each scrape from `memoryReading`.
  /** Set by the service to its memory budget's reading; the gauges below are absent until then. */
  memoryReading: (() => MemoryReading) | null = null;
  readonly memoryBudget = this.memoryGauge(
    'lad_memory_budget_chars',
    'Bound of the process-wide memory budget in characters of line text (part: waiting = queues and first training windows, refused beyond it; retained = recent lines, retraining windows and anomalies, oldest evicted beyond it)',
    (r) => ({ waiting: r.waitingMax, retained: r.retainedMax })
  );
  readonly memoryUsed = this.memoryGauge(
    'lad_memory_used_chars',
    'Characters of line text held in memory by all sources (part: queued = accepted, not yet scored; window = first training windows; retained = kept after scoring)',
    (r) => ({ queued: r.queued, window: r.window, retained: r.retained })
  );
  readonly memoryRefused = new Counter({
    name: 'lad_memory_refused_lines_total',
    help: 'Lines refused with a retry-later (429) because the waiting half of the process-wide memory budget was full; also counted in lad_refused_lines_total',
    registers: [this.registry],
  });
  readonly memoryEvicted = new Counter({
    name: 'lad_memory_evicted_lines_total',
    help: 'Retained lines dropped from memory (oldest first) because all sources together passed the retained half of the memory budget (window: recent, retrain, anomalies); scored lines and anomalies stay on disk',
    labelNames: ['window'] as const,
    registers: [this.registry],
  });

  // The bound on request body bytes in flight (backend/server/body-budget.ts), read at each scrape.
  /** Set by the app to its body budget's reading; the gauges below are absent until then. */
  bodyReading: (() => { inFlight: number; maxBytes: number }) | null = null;
  readonly bodyInFlight = this.bodyGauge('lad_body_bytes_in_flight', 'Bytes reserved by request bodies being read or parsed (Content-Length, or maxBodyBytes for a compressed or chunked body), all requests together', (r) => r.inFlight);
  readonly bodyBudget = this.bodyGauge('lad_body_budget_bytes', 'Bound on request body bytes in flight (memory.bodyBytes)', (r) => r.maxBytes);
  readonly bodyRefused = new Counter({
    name: 'lad_body_refused_requests_total',
    help: 'Requests refused before their body was read because it would pass the body budget (reason="budget", 429 + Retry-After), or cut because their body arrived too slowly (reason="too_slow", 408)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly bodyEvents = { refused: (reason: 'budget' | 'too_slow') => this.bodyRefused.inc({ reason }) };

  /** What the memory budget tells: its refusals and evictions, counted. */
  readonly memoryEvents: MemoryBudgetEvents = {
    refused: (lines) => this.memoryRefused.inc(lines),
    evicted: (kind: RetainedKind, lines) => this.memoryEvicted.inc({ window: kind }, lines),
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.memoryRefused.inc(0);
    for (const reason of ['budget', 'too_slow']) this.bodyRefused.inc({ reason }, 0);
  }

  /** A gauge of the body budget's reading, set at each scrape. */
  private bodyGauge(name: string, help: string, value: (reading: { inFlight: number; maxBytes: number }) => number): Gauge {
    const gauge: Gauge = new Gauge({
      name,
      help,
      registers: [this.registry],
      collect: () => {
        const reading = this.bodyReading?.();
        if (reading) gauge.set(value(reading));
      },
    });
    return gauge;
  }

  /** A gauge by `part` of the memory budget's reading, set at each scrape. */
  private memoryGauge(name: string, help: string, parts: (reading: MemoryReading) => Record<string, number>): Gauge<'part'> {
    const gauge: Gauge<'part'> = new Gauge({
      name,
      help,
      labelNames: ['part'] as const,
      registers: [this.registry],
      collect: () => {
        const reading = this.memoryReading?.();
        if (reading) for (const [part, value] of Object.entries(parts(reading))) gauge.set({ part }, value);
      },
    });
    return gauge;
  }

  /** Sets a one-hot state gauge: 1 for `current`, 0 for the other states. */
  static oneHot<L extends string>(gauge: Gauge<L>, labels: Record<Exclude<L, 'state'>, string>, states: readonly string[], current: string): void {
    for (const state of states) {
      gauge.set({ ...labels, state } as Record<L, string>, state === current ? 1 : 0);
    }
  }
}
