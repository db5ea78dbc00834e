import type { Logger } from 'pino';
import type { Config } from '../server/config';
import { LINE_CHARS_BUDGET, queueChars, retrainChars, windowChars } from '../server/line-budgets';
import { detached, type MemoryBudget } from '../server/memory-budget';
import type { Metrics } from '../metrics/metrics';
import { FeedbackIndex } from '../feedback/feedback-index';
import { REVIEW_WINDOW_LINES, reviewQueue, type ReviewItem } from '../feedback/review-queue';
import { isWindowModel, scoreWindow } from '../feedback/window';
import type { FactStore } from '../store/fact-store';
import type { ResultsStore } from '../store/results-store';
import { ScoredBatch } from '../store/results-writer';
import { BackpressureError, type LogEntry } from '../sources/source';
import { DriftWatch } from './drift-watch';
import type { EngineApi, Model } from './engine-port';
import { LineDecider } from './line-decision';
import { LineQueue } from './line-queue';
import { DirectoryModelStore, modelDir } from './model-directory';
import { RateWatch } from './rate-watch';
import type { RateHistory } from './rate-history';
import { RecentLines } from './recent-lines';
import { RetrainPolicy } from './retrain-policy';
import { Throughput } from './throughput';

export { modelDir } from './model-directory';


export type ModelState = 'collecting' | 'training' | 'ready';
export type TrainReason = 'initial' | 'periodic' | 'drift';

export interface PipelineDeps {
  engine: EngineApi;
  results: ResultsStore;
  facts: FactStore;
  metrics: Metrics;
  logger: Logger;
  config: Config;
  /** The process-wide bound on line text in memory, shared by every source (none: each source's own bounds only). */
  budget?: MemoryBudget;
}

export interface PipelineStats {
  linesIngested: number;
  linesScored: number;
  anomalies: number;
  suppressed: number;
  linesPerSecond: number;
  queueDepth: number;
  modelState: ModelState;
  modelAgeSeconds: number | null;
  lastTrainedAt: string | null;
  threshold: number | null;
  lastError: string | null;
  retraining: boolean;
}

/**
 * Continuous detection for one source, as a coordinator: a bounded queue of accepted lines, the initial
 * training window, scoring of every line, and retraining (periodic, or when the anomaly ratio drifts up) that
 * runs beside scoring and swaps the model when done. The parts are their own modules: what a line's verdict is
 * (line-decision.ts), where models are kept (model-directory.ts, <dataDir>/models/<source>), the newest lines
 * (recent-lines.ts), drift (drift-watch.ts) and throughput (throughput.ts).
 */
export class SourcePipeline {
  private readonly queue = new LineQueue();
  /** The scored chunk handed to the results store (ResultsWriter), reused for every chunk. */
  private readonly batch = new ScoredBatch();
  private model: Model | null = null;
  private state: ModelState = 'collecting';
  private ready: Promise<void>;
  private scheduled = false;
  private stopped = false;
  /** Set by stop(): no new lines are accepted, the queue is still scored. */
  private closing = false;
  /** When to retrain (periodic, drift, back-off after a failure): retrain-policy.ts. */
  private readonly policy: RetrainPolicy;
  private retraining: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private rejectedSinceDrain = false;
  private readonly drainListeners = new Set<() => void>();

  /** Lines waiting for the initial model, and the characters of their text. */
  private collected: LogEntry[] = [];
  private collectedChars = 0;
  /** Queue and window characters last told to the memory budget. */
  private toldQueued = 0;
  private toldWindow = 0;
  private collectStartedAt = 0;
  /** Newest lines, the training set of the next retraining. */
  private readonly recent: RecentLines;
  /** Anomaly flags of the newest scored lines (drift detection). */
  private readonly drift: DriftWatch;

  private linesIngested = 0;
  private linesScored = 0;
  /** Spool number of the newest scored line (backend/spool checkpoints it), null before one. */
  scoredSpoolSeq: number | null = null;
  private anomalyCount = 0;
  private suppressedCount = 0;
  /** Anomalies stored past the retention (a backfill with its original times); logged the first time. */
  private expiredCount = 0;
  /** Lines scored per second over the last 10 one-second ticks. */
  private readonly throughput = new Throughput(10);
  private readonly ticker: NodeJS.Timeout;

  private readonly m;
  /** The answers of this source, applied after model.score (backend/feedback). */
  private readonly feedback: FeedbackIndex;
  /** Rate anomalies per template (surges flag lines, drops are logged and counted): rate-watch.ts. */
  private readonly rate: RateWatch;
  private readonly decider: LineDecider;
  private readonly models: DirectoryModelStore;

  constructor(
    readonly name: string,
    readonly kind: string,
    private readonly deps: PipelineDeps
  ) {
    const { training } = deps.config;
    this.recent = new RecentLines(training.retrainLines, retrainChars(training), deps.budget);
    this.drift = new DriftWatch(training.driftWindowLines, training.driftRatio);
    this.policy = new RetrainPolicy(training);
    const metrics = deps.metrics;
    // Label-bound children once, so the per-line path does no label hashing.
    this.m = {
      ingested: metrics.linesIngested.labels(name),
      scored: metrics.linesScored.labels(name),
      anomalies: metrics.anomalies.labels(name),
      anomaliesExpired: metrics.anomaliesExpired.labels(name),
      suppressed: metrics.suppressed.labels(name),
      score: metrics.score.labels(name),
      // Refusals, not losses: the sender retries (push clients on 429, syslog TCP and file tail resume, pulls wait).
      refused: metrics.refused.labels(name),
      feedbackChanged: metrics.feedbackChanged.labels(name),
    };
    const answers = metrics.feedbackAnswers.labels(name);
    this.feedback = new FeedbackIndex(deps.facts, name, undefined, (n) => answers.set(n));
    this.rate = new RateWatch(name, metrics.rateAnomalies, deps.logger, modelDir(deps.config.dataDir, name));
    this.rate.attach(deps.facts);
    this.decider = new LineDecider(name, this.feedback, deps.facts, this.rate);
    this.models = new DirectoryModelStore(deps.config.dataDir, deps.engine, this.rate, (message, dir, keptAs) => {
      this.lastError = `saved model at ${dir} unusable: ${message}${keptAs ? `; kept as ${keptAs}` : ''}`;
      deps.logger.warn({ source: name, err: message, path: dir, keptAs }, 'saved model unusable, kept aside, will train');
    });
    this.m.ingested.inc(0);
    this.m.scored.inc(0);
    this.m.anomalies.inc(0);
    this.m.suppressed.inc(0);
    this.m.refused.inc(0);
    this.m.feedbackChanged.inc(0);
    this.ready = this.loadSavedModel();
    this.ticker = setInterval(() => this.tick(), 1000);
    this.ticker.unref();
  }

  /**
   * Accepts the whole batch or throws BackpressureError; never drops accepted lines. The character bound
   * (queue.maxChars) refuses only while lines wait: a batch alone over it is taken, so no batch waits forever.
   * So does the process-wide budget (memory-budget.ts), while lines wait in any source's queue.
   */
  checkCapacity(lines: number, chars: number): void {
    const overChars = this.queue.size > 0 && this.queue.chars + chars > this.queueMaxChars;
    if (this.queue.size + lines > this.deps.config.queue.maxLines || overChars || this.closing) {
      this.refuse(lines, `source ${this.name}: queue full (${this.queue.size} lines, ${this.queue.chars} characters waiting), retry later`);
    }
    const budget = this.deps.budget;
    if (budget?.refuses(chars)) {
      budget.refused(lines);
      const { queued, window, waitingMax } = budget.reading();
      this.refuse(
        lines,
        `source ${this.name}: memory budget full (${queued + window} characters of lines waiting in all sources, bound ${waitingMax}: half of memory.maxChars), retry later`
      );
    }
  }

  private refuse(lines: number, message: string): never {
    this.rejectedSinceDrain = true;
    this.m.refused.inc(lines);
    throw new BackpressureError(this.retryAfterSeconds(), message);
  }

  /** Enqueue after checkCapacity (the manager checks every source of a batch before enqueueing any). */
  enqueue(entries: LogEntry[]): void {
    this.queue.push(entries);
    this.tellWaiting();
    this.linesIngested += entries.length;
    this.m.ingested.inc(entries.length);
    this.schedule();
  }

  get saturated(): boolean {
    return this.queue.size >= this.deps.config.queue.maxLines || this.queue.chars >= this.queueMaxChars || this.deps.budget?.waitingFull === true;
  }

  private get queueMaxChars(): number {
    return queueChars(this.deps.config.queue);
  }

  /** Tells the memory budget how the characters of this source's queue and training window changed. */
  private tellWaiting(): void {
    const queued = this.queue.chars;
    const window = this.collectedChars;
    this.deps.budget?.addWaiting(queued - this.toldQueued, window - this.toldWindow);
    this.toldQueued = queued;
    this.toldWindow = window;
  }

  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  get queueDepth(): number {
    return this.queue.size;
  }

  templateStats(): { templates: number; evicted: number } | undefined {
    return this.model?.templateStats();
  }

  /** The mined template of a line under this source's model; undefined before the first model. */
  templateOf(line: string): string | undefined {
    return this.model?.templateOf(line);
  }

  /** The review queue over the newest lines (backend/feedback/review-queue.ts); null before the first model. */
  /** What the rate model saw (observed and expected counts per template, surge and drop events) and its interval. */
  get rates(): { history: RateHistory; intervalMs: number | null } {
    return { history: this.rate.history, intervalMs: this.rate.intervalMs };
  }

  review(limit: number): ReviewItem[] | null {
    const model = this.model;
    if (model === null || !isWindowModel(model)) return null;
    const items = reviewQueue(model, scoreWindow(model, this.recent.lines().slice(-REVIEW_WINDOW_LINES)), this.feedback, limit);
    // Each item names its line's newest stored occurrence, so the panel can show the lines around it.
    for (const item of items) item.lineId = this.deps.results.recentLineId(this.name, item.line);
    return items;
  }

  /** Lines review(limit) examines now: the newest REVIEW_WINDOW_LINES, none before a model (QUERY_LIMITS.reviewLinesPerQuery). */
  reviewLines(): number {
    return this.model !== null && isWindowModel(this.model) ? Math.min(this.recent.size, REVIEW_WINDOW_LINES) : 0;
  }

  /** The next retraining's window as held now: lines and characters (bounded by retrainLines and retrainChars). */
  retrainWindow(): { lines: number; chars: number } {
    return { lines: this.recent.size, chars: this.recent.totalChars };
  }

  get modelState(): ModelState {
    return this.state;
  }

  stats(): PipelineStats {
    const info = this.model?.info;
    const created = info ? Date.parse(info.createdAt) : NaN;
    return {
      linesIngested: this.linesIngested,
      linesScored: this.linesScored,
      anomalies: this.anomalyCount,
      suppressed: this.suppressedCount,
      linesPerSecond: this.throughput.linesPerSecond,
      queueDepth: this.queue.size,
      modelState: this.state,
      modelAgeSeconds: Number.isFinite(created) ? Math.max(0, (Date.now() - created) / 1000) : null,
      lastTrainedAt: info?.createdAt ?? null,
      threshold: info?.threshold ?? null,
      lastError: this.lastError,
      retraining: this.retraining !== null,
    };
  }

  /** Trains now (from the recent lines, plus false positives as normal lines); resolves when swapped in. */
  retrain(reason: TrainReason): Promise<void> {
    if (this.retraining) {
      return this.retraining;
    }
    if (!this.policy.allowed(Date.now())) {
      return Promise.resolve();
    }
    if (!this.recent.holdsEnoughToRetrain(this.deps.config.training.minLines)) {
      return Promise.resolve();
    }
    const lines = this.recent.lines();
    this.retraining = this.train(lines, reason, this.recent.times())
      .then((model) => {
        if (model) {
          this.swap(model);
        } else {
          this.policy.failed(Date.now());
        }
      })
      .finally(() => {
        this.retraining = null;
      });
    return this.retraining;
  }

  /**
   * Stops taking lines, scores what was already accepted (when a model exists; up to drainTimeoutMs), then
   * stops. Lines that could not be scored are logged with their count, never dropped silently.
   */
  async stop(drainTimeoutMs = 10_000): Promise<void> {
    this.closing = true;
    await this.ready.catch(() => undefined);
    const deadline = Date.now() + drainTimeoutMs;
    while (this.state === 'ready' && this.queue.size > 0 && Date.now() < deadline) {
      this.schedule();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const left = this.queue.size + this.collected.length;
    if (left > 0) {
      this.deps.logger.warn({ source: this.name, lines: left, modelState: this.state }, 'stopping with accepted lines not scored');
    }
    this.stopped = true;
    this.feedback.close();
    clearInterval(this.ticker);
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
    }
    await this.ready.catch(() => undefined);
    await this.retraining?.catch(() => undefined);
    await this.rate.close();
  }

  private retryAfterSeconds(): number {
    const rate = Math.max(1000, this.stats().linesPerSecond);
    return Math.min(30, Math.max(1, Math.ceil(this.queue.size / rate)));
  }

  private async loadSavedModel(): Promise<void> {
    const model = await this.models.load(this.name);
    if (model === null) return;
    this.swap(model);
    this.deps.logger.info({ source: this.name, createdAt: model.info.createdAt }, 'loaded saved model');
  }

  /**
   * The results store keeps anomalies by their own time for retention.hours: those of a backfill older than
   * that are counted (health, lad_anomalies_total) but gone within a flush, so a panel shows none of them.
   * Said once per source in the log, counted always.
   */
  private reportExpired(n: number): void {
    this.m.anomaliesExpired.inc(n);
    if (this.expiredCount === 0) {
      this.deps.logger.warn(
        { source: this.name, retentionHours: this.deps.config.retention.hours },
        'anomalies of lines older than the results retention are counted but not kept (lad_anomalies_expired_total); push lines with current times, or raise LAD_RETENTION_HOURS'
      );
    }
    this.expiredCount += n;
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) {
      return;
    }
    this.scheduled = true;
    // setImmediate (not a microtask): queries and pushes get their turn between scoring chunks.
    void this.ready.then(() => setImmediate(() => this.process()));
  }

  private process(): void {
    this.scheduled = false;
    if (this.stopped) {
      return;
    }
    if (this.state === 'ready') {
      this.scoreChunk();
    } else if (this.state === 'collecting') {
      this.collectChunk();
    }
    this.tellWaiting();
    // state 'training' (initial), or a full window waiting for a retry: lines wait in the queue.
    if (this.queue.size > 0 && this.state !== 'training' && !(this.state === 'collecting' && this.windowFull)) {
      this.schedule();
    }
    this.notifyDrainIfNeeded();
  }

  private notifyDrainIfNeeded(): void {
    const budgetBelowHalf = this.deps.budget?.waitingBelowHalf ?? true;
    if (this.rejectedSinceDrain && this.queue.size <= this.deps.config.queue.maxLines / 2 && this.queue.chars <= this.queueMaxChars / 2 && budgetBelowHalf) {
      this.rejectedSinceDrain = false;
      // A copy: a listener that pushes again may unsubscribe and subscribe anew while we iterate.
      for (const listener of [...this.drainListeners]) {
        listener();
      }
    }
  }

  private collectChunk(): void {
    // Once the window is full, further lines stay in the (bounded) queue: backpressure, not unbounded memory,
    // also while a failed first training waits for its retry.
    if (!this.windowFull) {
      this.queue.drain(this.deps.config.queue.batchLines, (entry) => {
        if (this.collected.length === 0) {
          this.collectStartedAt = Date.now();
        }
        this.collected.push(entry);
        this.collectedChars += entry.line.length;
        this.recent.push(entry.line, entry.timestampMs);
        return !this.windowFull;
      });
    }
    this.maybeStartInitialTraining();
  }

  /**
   * windowLines lines, or windowChars characters (so 64 KB lines cannot make a window of 2,000 lines hold 131 MB),
   * or any lines at all while the memory budget's waiting half is full: the window then trains on what it holds
   * (the engine trains on a single line), so its lines are scored and leave, and a refusal never lasts.
   */
  private get windowFull(): boolean {
    const { training } = this.deps.config;
    const n = this.collected.length;
    return n >= training.windowLines || this.collectedChars >= windowChars(training) || (n > 0 && this.deps.budget?.waitingFull === true);
  }

  private maybeStartInitialTraining(): void {
    const { training } = this.deps.config;
    const n = this.collected.length;
    const windowTimeUp = n >= training.minLines && Date.now() - this.collectStartedAt >= training.windowSeconds * 1000;
    if (this.state !== 'collecting' || this.retryTimer || (!this.windowFull && !windowTimeUp)) {
      return;
    }
    this.state = 'training';
    const lines = this.collected.map((e) => e.line);
    void this.train(lines, 'initial', this.collected.map((e) => e.timestampMs)).then((model) => {
      if (this.stopped) {
        return;
      }
      if (!model) {
        // Keep the collected lines and try again later (they are never dropped); meanwhile keep collecting.
        this.state = 'collecting';
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.maybeStartInitialTraining();
        }, 30_000);
        this.retryTimer.unref();
        this.schedule();
        return;
      }
      this.swap(model);
      // The training window itself gets scored too, before anything that arrived since; scoring keeps each
      // line among the recent ones, so they start over here (else the window would be in them twice).
      this.recent.clear();
      this.queue.unshift(this.collected);
      this.collected = [];
      this.collectedChars = 0;
      this.tellWaiting();
      this.schedule();
    });
  }

  /** Trains a model; resolves null (and records the error) when training fails. */
  private async train(lines: string[], reason: TrainReason, arrivals: ArrayLike<number>): Promise<Model | null> {
    const { training } = this.deps.config;
    const normalLines = this.deps.facts.falsePositiveMessages(this.name);
    // Lines like a confirmed anomaly are not normal: keep them out of what the model learns as normal.
    if (this.model !== null) {
      const kept = this.feedback.withoutConfirmed(this.model, lines);
      if (kept.length !== lines.length) arrivals = keptArrivals(lines, kept, arrivals);
      lines = kept;
    }
    const started = process.hrtime.bigint();
    const log = this.deps.logger.child({ source: this.name, reason, lines: lines.length, normalLines: normalLines.length });
    log.info('training started');
    const metrics = this.deps.metrics;
    try {
      const trainFn = training.useWorker ? this.deps.engine.trainModelInWorker : this.deps.engine.trainModel;
      // continuing from the current templates keeps template identity (and so feedback) stable across retraining
      const model = await trainFn(lines, { config: training.engine, normalLines, templates: this.model?.minedTemplates() });
      this.rate.learn(model, lines, arrivals);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.trainingRuns.inc({ source: this.name, result: 'ok', reason });
      metrics.trainingDuration.observe({ source: this.name }, seconds);
      log.info({ seconds, threshold: model.info.threshold }, 'training finished');
      await this.models.save(this.name, model).catch((err: Error) => {
        log.error({ err: err.message }, 'saving the model failed (it is still used)');
      });
      this.lastError = null;
      return model;
    } catch (err) {
      metrics.trainingRuns.inc({ source: this.name, result: 'error', reason });
      this.lastError = `training failed: ${(err as Error).message}`;
      log.error({ err: (err as Error).message }, 'training failed');
      return null;
    }
  }

  private swap(model: Model): void {
    this.model = model;
    this.rate.use(model);
    this.state = 'ready';
    this.deps.metrics.threshold.set({ source: this.name }, model.info.threshold);
    this.drift.reset();
  }

  /** The hot path: score a chunk of queued lines with the current model and store the results. */
  private scoreChunk(): void {
    const model = this.model!;
    const { results } = this.deps;
    const threshold = model.info.threshold;
    const name = this.name;
    const scoreHist = this.m.score;
    const decider = this.decider;
    const drift = this.drift;
    const recent = this.recent;
    let scored = 0;
    let anomalies = 0;
    let suppressed = 0;
    const feedback = this.feedback;
    const changedBefore = feedback.changed;
    let last: LogEntry | null = null;
    const batch = this.batch.reset(name, threshold);
    // a turn ends at batchLines lines or batchLines × 512 characters: 500 lines of 64 KB (32 MB to tokenize,
    // copy and write) held the event loop for seconds, so health checks and pushes waited
    const { batchLines } = this.deps.config.queue;
    let charsLeft = batchLines * LINE_CHARS_BUDGET;
    this.queue.drain(batchLines, (entry) => {
      last = entry;
      // the recent lines and the results store keep the line: a copy of its own, not a slice that keeps its
      // whole request body alive while they count the line only (memory-budget.ts)
      entry.line = detached(entry.line);
      const d = decider.decide(model, entry.line, entry.timestampMs);
      const r = d.line;
      if (d.suppressed) suppressed++;
      else if (d.flagged) anomalies++;
      batch.add(entry, d.score, d.stored, d.suppressed, r.template, d.reason, r.level);
      scoreHist.observe(r.score);
      recent.push(entry.line, entry.timestampMs);
      drift.observe(d.flagged);
      scored++;
      charsLeft -= entry.line.length;
      return charsLeft > 0;
    });
    const written = results.writeBatch(batch);
    if (written.expired) this.reportExpired(written.expired);
    const spoolSeq = (last as LogEntry | null)?.spoolSeq;
    if (spoolSeq !== undefined) this.scoredSpoolSeq = spoolSeq;
    this.linesScored += scored;
    this.anomalyCount += anomalies;
    this.suppressedCount += suppressed;
    this.m.scored.inc(scored);
    if (anomalies) {
      this.m.anomalies.inc(anomalies);
    }
    if (suppressed) {
      this.m.suppressed.inc(suppressed);
    }
    this.m.feedbackChanged.inc(feedback.changed - changedBefore);
    if (this.drift.drifted) this.retrainIfDue();
  }

  /** Starts a retraining when the policy says one is due (drift or age); one at a time. */
  private retrainIfDue(): void {
    if (this.state !== 'ready' || this.retraining) return;
    const reason = this.policy.due(Date.now(), this.modelAge(), this.drift.drifted);
    if (reason === null) return;
    if (reason === 'drift') this.deps.logger.info({ source: this.name, ratio: this.drift.share }, 'anomaly ratio drifted up, retraining');
    void this.retrain(reason);
  }

  private modelAge(): number {
    return this.stats().modelAgeSeconds ?? Infinity;
  }

  private tick(): void {
    this.throughput.tick(this.linesScored);
    if (this.state === 'ready') this.rate.tick(Date.now());
    if (this.state === 'collecting') {
      this.maybeStartInitialTraining();
    } else {
      this.retrainIfDue();
    }
  }
}

/** The arrival times of `kept`, an in-order subsequence of `lines` (the lines a filter let through). */
function keptArrivals(lines: readonly string[], kept: readonly string[], arrivals: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0, j = 0; i < lines.length && j < kept.length; i++) {
    if (lines[i] === kept[j]) {
      out.push(arrivals[i]);
      j++;
    }
  }
  return out;
}
