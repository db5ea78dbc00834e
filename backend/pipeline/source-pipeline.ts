import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../server/config';
import type { Metrics } from '../metrics/metrics';
import { FeedbackIndex } from '../feedback/feedback-index';
import { REVIEW_WINDOW_LINES, reviewQueue, type ReviewItem } from '../feedback/review-queue';
import { isWindowModel, scoreWindow } from '../feedback/window';
import type { FactStore } from '../store/fact-store';
import type { ResultsStore } from '../store/results-store';
import { BackpressureError, type LogEntry } from '../sources/source';
import type { EngineApi, Model } from './engine-port';
import { LineQueue } from './line-queue';
import { RateWatch } from './rate-watch';
import type { RateHistory } from './rate-history';

/** Wait after a failed retraining before the next attempt. */
const RETRAIN_BACKOFF_MS = 60_000;

export type ModelState = 'collecting' | 'training' | 'ready';
export type TrainReason = 'initial' | 'periodic' | 'drift';

export interface PipelineDeps {
  engine: EngineApi;
  results: ResultsStore;
  facts: FactStore;
  metrics: Metrics;
  logger: Logger;
  config: Config;
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

/** Directory of a source's persisted model (names are already free of path separators; encode the rest). */
export function modelDir(dataDir: string, source: string): string {
  return path.join(dataDir, 'models', encodeURIComponent(source));
}

/**
 * Continuous detection for one source: a bounded queue of accepted lines, the initial training window, scoring
 * of every line, and retraining (periodic, or when the anomaly ratio drifts up) that runs beside scoring and
 * swaps the model when done. Models are saved under <dataDir>/models/<source> and loaded at start.
 */
export class SourcePipeline {
  private readonly queue = new LineQueue();
  private model: Model | null = null;
  private state: ModelState = 'collecting';
  private ready: Promise<void>;
  private scheduled = false;
  private stopped = false;
  /** Set by stop(): no new lines are accepted, the queue is still scored. */
  private closing = false;
  /** After a failed retraining, no new attempt before this time (a failing training must not loop). */
  private retrainNotBefore = 0;
  private retraining: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private rejectedSinceDrain = false;
  private readonly drainListeners = new Set<() => void>();

  /** Lines waiting for the initial model. */
  private collected: LogEntry[] = [];
  private collectStartedAt = 0;
  /** Newest lines (a ring), the training set of the next retraining. */
  private readonly recent: string[];
  private recentNext = 0;
  private recentSize = 0;
  /** Anomaly flags of the newest scored lines (drift detection), and their running sum. */
  private readonly driftFlags: Uint8Array;
  private driftNext = 0;
  private driftSize = 0;
  private driftSum = 0;

  private linesIngested = 0;
  private linesScored = 0;
  /** Spool number of the newest scored line (backend/spool checkpoints it), null before one. */
  scoredSpoolSeq: number | null = null;
  private anomalyCount = 0;
  private suppressedCount = 0;
  /** Lines scored per second over the last 10 one-second ticks. */
  private readonly rateWindow = new Float64Array(10);
  private rateTick = 0;
  private scoredAtLastTick = 0;
  private readonly ticker: NodeJS.Timeout;

  private readonly m;
  /** The answers of this source, applied after model.score (backend/feedback). */
  private readonly feedback: FeedbackIndex;
  /** Rate anomalies per template (surges flag lines, drops are logged and counted): rate-watch.ts. */
  private readonly rate: RateWatch;

  constructor(
    readonly name: string,
    readonly kind: string,
    private readonly deps: PipelineDeps
  ) {
    const { training } = deps.config;
    this.recent = new Array(training.retrainLines);
    this.driftFlags = new Uint8Array(training.driftWindowLines);
    const metrics = deps.metrics;
    // Label-bound children once, so the per-line path does no label hashing.
    this.m = {
      ingested: metrics.linesIngested.labels(name),
      scored: metrics.linesScored.labels(name),
      anomalies: metrics.anomalies.labels(name),
      suppressed: metrics.suppressed.labels(name),
      score: metrics.score.labels(name),
      // Refusals, not losses: the sender retries (push clients on 429, syslog TCP and file tail resume, pulls wait).
      refused: metrics.refused.labels(name),
      feedbackChanged: metrics.feedbackChanged.labels(name),
    };
    const answers = metrics.feedbackAnswers.labels(name);
    this.feedback = new FeedbackIndex(deps.facts, name, undefined, (n) => answers.set(n));
    this.rate = new RateWatch(name, metrics.rateAnomalies, deps.logger);
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

  /** Accepts the whole batch or throws BackpressureError; never drops accepted lines. */
  checkCapacity(lines: number): void {
    if (this.queue.size + lines > this.deps.config.queue.maxLines || this.closing) {
      this.rejectedSinceDrain = true;
      this.m.refused.inc(lines);
      throw new BackpressureError(this.retryAfterSeconds(), `source ${this.name}: queue full (${this.queue.size} lines waiting), retry later`);
    }
  }

  /** Enqueue after checkCapacity (the manager checks every source of a batch before enqueueing any). */
  enqueue(entries: LogEntry[]): void {
    this.queue.push(entries);
    this.linesIngested += entries.length;
    this.m.ingested.inc(entries.length);
    this.schedule();
  }

  get saturated(): boolean {
    return this.queue.size >= this.deps.config.queue.maxLines;
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
    return reviewQueue(model, scoreWindow(model, this.recentLines().slice(-REVIEW_WINDOW_LINES)), this.feedback, limit);
  }

  get modelState(): ModelState {
    return this.state;
  }

  stats(): PipelineStats {
    const info = this.model?.info;
    const created = info ? Date.parse(info.createdAt) : NaN;
    let rate = 0;
    for (const r of this.rateWindow) {
      rate += r;
    }
    return {
      linesIngested: this.linesIngested,
      linesScored: this.linesScored,
      anomalies: this.anomalyCount,
      suppressed: this.suppressedCount,
      linesPerSecond: rate / this.rateWindow.length,
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
    if (Date.now() < this.retrainNotBefore) {
      return Promise.resolve();
    }
    const lines = this.recentLines();
    if (lines.length < this.deps.config.training.minLines) {
      return Promise.resolve();
    }
    this.retraining = this.train(lines, reason)
      .then((model) => {
        if (model) {
          this.swap(model);
        } else {
          this.retrainNotBefore = Date.now() + RETRAIN_BACKOFF_MS;
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
  }

  private retryAfterSeconds(): number {
    const rate = Math.max(1000, this.stats().linesPerSecond);
    return Math.min(30, Math.max(1, Math.ceil(this.queue.size / rate)));
  }

  private async loadSavedModel(): Promise<void> {
    const dir = modelDir(this.deps.config.dataDir, this.name);
    for (const candidate of [dir, `${dir}.old`]) {
      try {
        await fs.access(candidate);
      } catch {
        continue;
      }
      try {
        const model = await this.deps.engine.loadModel(candidate);
        await this.rate.load(model, candidate);
        this.swap(model);
        this.deps.logger.info({ source: this.name, createdAt: model.info.createdAt }, 'loaded saved model');
        return;
      } catch (err) {
        // The next training would overwrite it: keep it aside for a post-mortem (or a manual restore).
        const keptAs = `${candidate}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        const kept = await fs.rename(candidate, keptAs).then(
          () => keptAs,
          () => null
        );
        this.lastError = `saved model at ${candidate} unusable: ${(err as Error).message}${kept ? `; kept as ${kept}` : ''}`;
        this.deps.logger.warn({ source: this.name, err: (err as Error).message, path: candidate, keptAs: kept }, 'saved model unusable, kept aside, will train');
      }
    }
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
    // state 'training' (initial), or a full window waiting for a retry: lines wait in the queue.
    if (this.queue.size > 0 && this.state !== 'training' && !(this.state === 'collecting' && this.windowFull)) {
      this.schedule();
    }
    this.notifyDrainIfNeeded();
  }

  private notifyDrainIfNeeded(): void {
    if (this.rejectedSinceDrain && this.queue.size <= this.deps.config.queue.maxLines / 2) {
      this.rejectedSinceDrain = false;
      // A copy: a listener that pushes again may unsubscribe and subscribe anew while we iterate.
      for (const listener of [...this.drainListeners]) {
        listener();
      }
    }
  }

  private collectChunk(): void {
    const { training } = this.deps.config;
    // Once the window is full, further lines stay in the (bounded) queue: backpressure, not unbounded memory,
    // also while a failed first training waits for its retry.
    if (this.collected.length < training.windowLines) {
      this.queue.drain(this.deps.config.queue.batchLines, (entry) => {
        if (this.collected.length === 0) {
          this.collectStartedAt = Date.now();
        }
        this.collected.push(entry);
        this.remember(entry.line);
        return this.collected.length < training.windowLines;
      });
    }
    this.maybeStartInitialTraining();
  }

  private get windowFull(): boolean {
    return this.collected.length >= this.deps.config.training.windowLines;
  }

  private maybeStartInitialTraining(): void {
    const { training } = this.deps.config;
    const n = this.collected.length;
    const windowTimeUp = n >= training.minLines && Date.now() - this.collectStartedAt >= training.windowSeconds * 1000;
    if (this.state !== 'collecting' || this.retryTimer || (n < training.windowLines && !windowTimeUp)) {
      return;
    }
    this.state = 'training';
    const lines = this.collected.map((e) => e.line);
    void this.train(lines, 'initial').then((model) => {
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
      // The training window itself gets scored too, before anything that arrived since.
      this.queue.unshift(this.collected);
      this.collected = [];
      this.schedule();
    });
  }

  /** Trains a model; resolves null (and records the error) when training fails. */
  private async train(lines: string[], reason: TrainReason): Promise<Model | null> {
    const { training } = this.deps.config;
    const normalLines = this.deps.facts.falsePositiveMessages(this.name);
    // Lines like a confirmed anomaly are not normal: keep them out of what the model learns as normal.
    if (this.model !== null) lines = this.feedback.withoutConfirmed(this.model, lines);
    const started = process.hrtime.bigint();
    const log = this.deps.logger.child({ source: this.name, reason, lines: lines.length, normalLines: normalLines.length });
    log.info('training started');
    const metrics = this.deps.metrics;
    try {
      const trainFn = training.useWorker ? this.deps.engine.trainModelInWorker : this.deps.engine.trainModel;
      // continuing from the current templates keeps template identity (and so feedback) stable across retraining
      const model = await trainFn(lines, { config: training.engine, normalLines, templates: this.model?.minedTemplates() });
      this.rate.learn(model, lines);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.trainingRuns.inc({ source: this.name, result: 'ok', reason });
      metrics.trainingDuration.observe({ source: this.name }, seconds);
      log.info({ seconds, threshold: model.info.threshold }, 'training finished');
      await this.persist(model).catch((err: Error) => {
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

  /** Saves into a temp dir, then swaps directories, so a crash leaves either the old or the new model. */
  private async persist(model: Model): Promise<void> {
    const dir = modelDir(this.deps.config.dataDir, this.name);
    const tmp = `${dir}.tmp`;
    const old = `${dir}.old`;
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true });
    await this.deps.engine.saveModel(model, tmp);
    await this.rate.save(model, tmp);
    await fs.rm(old, { recursive: true, force: true });
    await fs.rename(dir, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') {
        throw err;
      }
    });
    await fs.rename(tmp, dir);
    await fs.rm(old, { recursive: true, force: true });
  }

  private swap(model: Model): void {
    this.model = model;
    this.rate.use(model);
    this.state = 'ready';
    this.deps.metrics.threshold.set({ source: this.name }, model.info.threshold);
    this.driftNext = this.driftSize = this.driftSum = 0;
    this.driftFlags.fill(0);
  }

  private remember(line: string): void {
    this.recent[this.recentNext] = line;
    this.recentNext = (this.recentNext + 1) % this.recent.length;
    this.recentSize = Math.min(this.recentSize + 1, this.recent.length);
  }

  private recentLines(): string[] {
    const out: string[] = new Array(this.recentSize);
    const start = (this.recentNext - this.recentSize + this.recent.length) % this.recent.length;
    for (let i = 0; i < this.recentSize; i++) {
      out[i] = this.recent[(start + i) % this.recent.length];
    }
    return out;
  }

  /** The hot path: score a chunk of queued lines with the current model and store the results. */
  private scoreChunk(): void {
    const model = this.model!;
    const { facts, results } = this.deps;
    const threshold = model.info.threshold;
    const name = this.name;
    const scoreHist = this.m.score;
    let scored = 0;
    let anomalies = 0;
    let suppressed = 0;
    const flags = this.driftFlags;
    const feedback = this.feedback;
    const changedBefore = feedback.changed;
    let last: LogEntry | null = null;
    this.queue.drain(this.deps.config.queue.batchLines, (entry) => {
      last = entry;
      const r = model.score(entry.line);
      // Answers decide the lines near them; a template marked false positive stays quiet unless confirmed nearer.
      const j = feedback.apply(model, entry.line, r);
      let flagged = j.anomaly;
      let isSuppressed = false;
      if (r.anomaly && !flagged) {
        isSuppressed = true;
      } else if (flagged && j.verdict?.kind !== 'confirmed' && facts.isSuppressed(name, r.template)) {
        isSuppressed = true;
        flagged = false;
      }
      // a surge (engine/rate) flags the line whatever its own score: its template arrives far too often;
      // unless people said lines like it are not anomalies: then this rate becomes the template's normal
      let surge = this.rate.observe(r, entry.line, entry.timestampMs);
      if (surge !== null && ((j.verdict !== null && j.verdict.kind !== 'confirmed') || facts.isSuppressed(name, r.template))) {
        this.rate.accept();
        surge = null;
      }
      if (surge !== null) {
        this.rate.flagged(surge, r.template);
        flagged = true;
        isSuppressed = false;
      }
      if (isSuppressed) suppressed++;
      else if (flagged) anomalies++;
      const reason = surge === null ? j.reason : r.anomaly ? `${surge.reason}; ${j.reason}` : surge.reason;
      results.addScored(name, entry, j.score, threshold, r.anomaly || flagged, isSuppressed, r.template, reason, r.level);
      scoreHist.observe(r.score);
      this.remember(entry.line);
      this.driftSum += (flagged ? 1 : 0) - flags[this.driftNext];
      flags[this.driftNext] = flagged ? 1 : 0;
      this.driftNext = (this.driftNext + 1) % flags.length;
      this.driftSize = Math.min(this.driftSize + 1, flags.length);
      scored++;
      return true;
    });
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
    this.checkDrift();
  }

  private checkDrift(): void {
    const { training } = this.deps.config;
    if (this.retraining || this.driftSize < this.driftFlags.length || training.driftRatio <= 0) {
      return;
    }
    if (this.driftSum / this.driftSize > training.driftRatio && this.modelAge() >= training.minRetrainGapSeconds) {
      this.deps.logger.info({ source: this.name, ratio: this.driftSum / this.driftSize }, 'anomaly ratio drifted up, retraining');
      void this.retrain('drift');
    }
  }

  private modelAge(): number {
    return this.stats().modelAgeSeconds ?? Infinity;
  }

  private tick(): void {
    this.rateWindow[this.rateTick] = this.linesScored - this.scoredAtLastTick;
    this.rateTick = (this.rateTick + 1) % this.rateWindow.length;
    this.scoredAtLastTick = this.linesScored;
    const { training } = this.deps.config;
    if (this.state === 'ready') this.rate.tick(Date.now());
    if (this.state === 'collecting') {
      this.maybeStartInitialTraining();
    } else if (
      this.state === 'ready' &&
      training.retrainIntervalSeconds > 0 &&
      !this.retraining &&
      this.modelAge() >= training.retrainIntervalSeconds
    ) {
      void this.retrain('periodic');
    }
  }
}
