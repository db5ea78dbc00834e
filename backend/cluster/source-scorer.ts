/**
 * One source scored by the worker holding its lease: a durable pull consumer on the source's subject, the
 * initial training window (as SourcePipeline collects it), then per fetched batch score → write the rows
 * (idempotent by stream sequence) → ack the batch. The ack comes after the write, so a worker dying between
 * the two leaves the batch unacknowledged: the next owner scores it again and the write keeps one row per
 * (source, seq). Models go to the model store after training; a new owner loads the last one.
 * What the query replicas read besides anomalies and counts goes through the same sink: the rate model's
 * per-template interval counts and its surges and drops (in each batch's transaction), and the review queue.
 */
import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { QUERY_LIMITS } from '../contract';
import { FeedbackIndex } from '../feedback/feedback-index';
import { REVIEW_WINDOW_LINES, reviewQueue, type ReviewItem } from '../feedback/review-queue';
import { isWindowModel, scoreWindow } from '../feedback/window';
import type { Metrics } from '../metrics/metrics';
import type { EngineApi, Model } from '../pipeline/engine-port';
import { LineDecider } from '../pipeline/line-decision';
import type { ModelCompanion } from '../pipeline/model-directory';
import { DriftWatch } from '../pipeline/drift-watch';
import { RateWatch } from '../pipeline/rate-watch';
import { RecentLines } from '../pipeline/recent-lines';
import { RetrainPolicy, type RetrainReason } from '../pipeline/retrain-policy';
import type { Config } from '../server/config';
import { retrainChars } from '../server/line-budgets';
import { ANY_SOURCE, type FactStore } from '../store/fact-store';
import { sourceKey } from '../store/results-store';
import { ScoredBatch, type RateEventRow, type ResultsWriter } from '../store/results-writer';
import type { ModelStore } from './model-store';
import { decodeJson, LINES_STREAM, linesSubject, sourceToken, streamLineSchema, type StreamLine } from './ports';

/**
 * Where scored lines go (PostgresResultsSink in cluster mode): idempotent by (source, seq). With writeReview,
 * the source's review queue is written too, so query replicas answer review targets.
 */
export type ScoredLineSink = ResultsWriter & { writeReview?(source: string, items: ReviewItem[] | null): Promise<void> };

/**
 * How often an owner recomputes its review queue for the query replicas while lines come (and within a second
 * of a feedback change). Rule: the queue is read by people deciding what to answer; ten seconds old is fresh for
 * that, and one window scoring (5,000 lines) per source every ten seconds is a small share of a worker.
 */
export const REVIEW_REFRESH_MS = 10_000;

export interface ScorerDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** The model store of one source, saving `companion`'s files (the rate baseline) with each model. */
  models: (companion: ModelCompanion) => ModelStore;
  sink: ScoredLineSink;
  /** The fact-store (PostgreSQL in cluster mode): answers, suppressions, false positives for training. */
  facts: FactStore;
  engine: EngineApi;
  training: Config['training'];
  batchLines: number;
  metrics: Metrics;
  logger: Logger;
}

interface Pending {
  msg: JsMsg;
  line: StreamLine;
}

export class SourceScorer {
  readonly token: string;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private model: Model | null = null;
  private collected: Pending[] = [];
  private collectStartedAt = 0;
  private feedback: FeedbackIndex | null = null;
  private decider: LineDecider | null = null;
  private readonly rate: RateWatch;
  private readonly models: ModelStore;
  private ticker: NodeJS.Timeout | null = null;
  /** Retraining as the embedded pipeline does it: the newest lines, drift of the flagged share, the policy. */
  private readonly recent: RecentLines;
  private readonly drift: DriftWatch;
  private readonly policy: RetrainPolicy;
  private retraining: Promise<void> | null = null;
  private readonly decoder = new TextDecoder();
  private readonly log: Logger;
  /** Consumers this ownership has made (each reset after a lost delivery makes a new one). */
  private consumers = 0;
  /** The batch handed to the sink, reused. */
  private readonly out = new ScoredBatch();
  /** The rate model's count of the line being decided (RateHistory's observer), copied into the batch. */
  private rateCounted = false;
  private rateId = 0;
  private rateStart = 0;
  private rateExpected = 0;
  /** Surges and drops not yet written (a drop comes from the clock's tick, between batches too). */
  private pendingEvents: RateEventRow[] = [];
  /** The newest lines with their stream sequence: a review item names its line's newest occurrence (its context). */
  private readonly window: RecentLines;
  /** When the review queue was last written, and whether lines or answers changed it since. */
  private reviewAt = 0;
  private reviewDirty = false;
  private reviewing: Promise<void> | null = null;
  private unsubscribeFacts: () => void = () => undefined;
  scored = 0;
  lastError: string | null = null;

  constructor(
    readonly source: string,
    /** Revision of the lease this ownership holds: names its consumer. */
    private readonly revision: number,
    private readonly deps: ScorerDeps,
    /** Whether this worker still holds the lease (asked before a new consumer replaces the others). */
    private readonly owns: () => Promise<boolean> = async () => true
  ) {
    this.token = sourceToken(source);
    this.log = deps.logger.child({ source });
    this.rate = new RateWatch(source, deps.metrics.rateAnomalies, deps.logger);
    // every series of the source from the start, at 0 (as the embedded pipeline does): rate() over a counter
    // that appears with its first anomaly misses that anomaly
    deps.metrics.linesScored.labels(source).inc(0);
    deps.metrics.anomalies.labels(source).inc(0);
    deps.metrics.suppressed.labels(source).inc(0);
    this.recent = new RecentLines(deps.training.retrainLines, retrainChars(deps.training));
    // the same character bound: the window holds the newest of `recent`'s lines (the same strings), never more text
    this.window = new RecentLines(REVIEW_WINDOW_LINES, retrainChars(deps.training));
    this.drift = new DriftWatch(deps.training.driftWindowLines, deps.training.driftRatio);
    this.policy = new RetrainPolicy(deps.training);
    this.models = deps.models(this.rate);
    this.rate.history.observer = {
      counted: (id, _template, start, expected) => {
        this.rateCounted = true;
        this.rateId = id;
        this.rateStart = start;
        this.rateExpected = expected;
      },
      evented: (event, templateId) => {
        this.pendingEvents.push({ templateId, event: { ...event } });
      },
    };
  }

  /** Set when the loop ended on an error: the worker gives the lease back so the source is taken again. */
  failed = false;

  start(): void {
    this.loop ??= this.run().catch((err: Error) => {
      this.lastError = err.message;
      this.failed = true;
      this.log.error({ err: err.message }, 'scorer stopped on an error');
    });
  }

  /** Stops fetching; the batch in hand is written and acknowledged first. Collected (unacked) lines stay in the stream. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    if (this.ticker) clearInterval(this.ticker);
    this.unsubscribeFacts();
    await this.retraining;
    await this.reviewing;
    this.feedback?.close();
  }

  private async run(): Promise<void> {
    let consumerName = '';
    // NATS busy or away at take-over: keep trying (the lease decides whether this owner goes on)
    for (;;) {
      try {
        consumerName = await this.resumeConsumer();
        break;
      } catch (err) {
        this.lastError = `starting the consumer failed: ${(err as Error).message}`;
        if (this.stopping) return;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const stored = await this.models.load(this.source).catch((err: Error) => {
      this.log.warn({ err: err.message }, 'stored model unusable, will train');
      return null;
    });
    if (stored) {
      this.use(stored);
      this.log.info({ createdAt: stored.info.createdAt }, 'loaded the stored model');
    }
    this.feedback = new FeedbackIndex(this.deps.facts, this.source);
    this.decider = new LineDecider(this.source, this.feedback, this.deps.facts, this.rate);
    // an answer given on any replica changes the queue: rewritten within a second (the next tick)
    this.unsubscribeFacts = this.deps.facts.onChange((record) => {
      if (record.source !== this.source && record.source !== ANY_SOURCE) return;
      this.reviewDirty = true;
      this.reviewAt = 0;
    });
    // the rate model's clock moves on while the source is silent, so a drop is still reported
    this.ticker = setInterval(() => {
      if (!this.model) return;
      this.rate.tick(Date.now());
      this.retrainIfDue();
      this.reviewIfDue();
    }, 1000);
    let consumer = await this.deps.js.consumers.get(LINES_STREAM, consumerName).catch(() => null);
    /** The consumer's next delivery number: a gap means a delivered message never reached us. */
    let nextDelivery = 1;
    while (!this.stopping) {
      let batch: Pending[] = [];
      let broken: string | null = null;
      try {
        if (consumer === null) throw new Error('no consumer');
        const msgs = await consumer.fetch({ max_messages: this.deps.batchLines, expires: 2000 });
        for await (const msg of msgs) {
          if (msg.info.deliverySequence !== nextDelivery || msg.info.redelivered) {
            broken = `delivery ${msg.info.deliverySequence} after ${nextDelivery - 1}`;
            break;
          }
          nextDelivery++;
          batch.push({ msg, line: this.parse(msg) });
        }
      } catch (err) {
        broken = (err as Error).message;
      }
      if (broken !== null) {
        // Lines must be written in stream order (the sink's high-water mark): after a failed fetch or a lost
        // delivery, start again after the last acknowledged line on a new consumer, dropping what is in hand
        // (unacknowledged, so it comes again). NATS away or the consumer deleted by a new owner land here too:
        // wait and retry; the lease decides whether to go on.
        this.lastError = broken;
        this.collected = [];
        await new Promise((r) => setTimeout(r, 500));
        if (this.stopping) break;
        // an owner that lost its lease must not delete the new owner's consumer: it waits to be stopped
        if (!(await this.owns().catch(() => false))) continue;
        try {
          consumerName = await this.resumeConsumer();
          consumer = await this.deps.js.consumers.get(LINES_STREAM, consumerName);
          nextDelivery = 1;
        } catch (err) {
          this.lastError = (err as Error).message;
        }
        continue;
      }
      // a drop found by the clock while no lines come: written without a batch
      if (batch.length === 0 && this.pendingEvents.length > 0 && this.model !== null) await this.writeEvents();
      if (this.model === null) batch = await this.collect(batch);
      // the same batch again until it is written: going on past it would leave a hole below what is written next
      while (batch.length > 0 && !this.stopping) {
        try {
          await this.scoreAndAck(batch);
          break;
        } catch (err) {
          this.lastError = (err as Error).message;
          this.log.error({ err: (err as Error).message }, 'scoring a batch failed, retrying');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }
  }

  /**
   * Each ownership gets its own durable consumer (`<sourceToken>-r<lease revision>-<n>`), started after the
   * highest ack floor of the source's earlier consumers, which are then deleted. Two owners never share one
   * consumer, so a worker that lost its lease and has not noticed yet cannot take lines out of the new
   * owner's sequence: each owner reads the source's lines contiguously and in order, which the sink's
   * per-source high-water mark relies on. What the last owner fetched but never acknowledged is read again
   * at once (not after ack_wait); rows already written for it are not written twice (the sink is idempotent).
   */
  private async resumeConsumer(): Promise<string> {
    const { jsm } = this.deps;
    const subject = linesSubject(this.source);
    const earlier: string[] = [];
    let floor = 0;
    for await (const c of jsm.consumers.list(LINES_STREAM)) {
      // (an entry can be empty when a consumer is deleted while the list is read)
      if (c?.config?.filter_subject !== subject) continue;
      earlier.push(c.name);
      floor = Math.max(floor, c.ack_floor.stream_seq);
    }
    const name = `${this.token}-r${this.revision}-${++this.consumers}`;
    await jsm.consumers.add(LINES_STREAM, {
      durable_name: name,
      filter_subject: subject,
      ack_policy: AckPolicy.All,
      ...(floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.All }),
      // lines of the training window stay unacknowledged while it fills (up to windowSeconds)
      ack_wait: (this.deps.training.windowSeconds + 120) * 1e9,
      max_ack_pending: Math.max(20_000, this.deps.training.windowLines * 2),
    });
    // the old owner's fetches fail from now on
    await Promise.all(earlier.filter((n) => n !== name).map((n) => jsm.consumers.delete(LINES_STREAM, n).catch(() => false)));
    return name;
  }

  private parse(msg: JsMsg): StreamLine {
    const text = this.decoder.decode(msg.data);
    // a line that is not ours (or corrupt) is scored as its raw text rather than blocking the source
    return decodeJson(streamLineSchema, text) ?? { source: this.source, t: Date.now(), line: text, labels: {} };
  }

  /** Holds lines until the training window is full (or its time is up with minLines), then trains. */
  private async collect(batch: Pending[]): Promise<Pending[]> {
    const { training } = this.deps;
    if (this.collected.length === 0 && batch.length > 0) this.collectStartedAt = Date.now();
    this.collected.push(...batch);
    const n = this.collected.length;
    const timeUp = n >= training.minLines && Date.now() - this.collectStartedAt >= training.windowSeconds * 1000;
    if (n < training.windowLines && !timeUp) return [];
    const window = this.collected;
    const model = await this.train(window.map((p) => p.line.line), 'initial', window.map((p) => p.line.t));
    if (model === null) return [];
    this.use(model);
    this.collected = [];
    return window;
  }

  /** Retrains in the background (periodic, or the flagged share drifted up) while scoring goes on with the old model. */
  private retrainIfDue(): void {
    const model = this.model;
    if (!model || this.retraining || this.stopping) return;
    const created = Date.parse(model.info.createdAt);
    const ageSeconds = Number.isFinite(created) ? (Date.now() - created) / 1000 : Infinity;
    const reason = this.policy.due(Date.now(), ageSeconds, this.drift.drifted);
    if (reason === null || !this.recent.holdsEnoughToRetrain(this.deps.training.minLines)) return;
    // lines like a confirmed anomaly are not normal (their arrival times then no longer line up: untimed)
    const lines = this.recent.lines();
    const kept = this.feedback ? this.feedback.withoutConfirmed(model, lines) : lines;
    const arrivals = kept.length === lines.length ? this.recent.times() : undefined;
    this.retraining = this.train(kept, reason, arrivals, model)
      .then((next) => {
        if (next === null) this.policy.failed(Date.now());
        else if (!this.stopping) this.use(next);
      })
      .finally(() => {
        this.retraining = null;
      });
  }

  private async train(lines: string[], reason: 'initial' | RetrainReason, arrivals?: ArrayLike<number>, current?: Model): Promise<Model | null> {
    const { training, engine, facts } = this.deps;
    const started = Date.now();
    try {
      const model = await (training.useWorker ? engine.trainModelInWorker : engine.trainModel)(lines, {
        config: training.engine,
        normalLines: facts.falsePositiveMessages(this.source),
        // continuing from the current templates keeps template identity (and so feedback) across retraining
        templates: current?.minedTemplates(),
      });
      this.rate.learn(model, lines, arrivals);
      this.log.info({ reason, lines: lines.length, seconds: (Date.now() - started) / 1000 }, 'trained');
      await this.models.save(this.source, model).catch((err: Error) => this.log.error({ err: err.message }, 'saving the model to the object store failed (it is still used)'));
      return model;
    } catch (err) {
      this.lastError = `training failed: ${(err as Error).message}`;
      this.log.error({ reason, err: (err as Error).message }, 'training failed');
      if (reason === 'initial') await new Promise((r) => setTimeout(r, 5000));
      return null;
    }
  }

  private use(model: Model): void {
    this.model = model;
    this.rate.use(model);
    this.drift.reset();
  }

  /** Scores a batch with the embedded pipeline's LineDecider (model, answers, suppression, rate), writes, acks. */
  private async scoreAndAck(batch: Pending[]): Promise<void> {
    const model = this.model!;
    const decider = this.decider!;
    let anomalies = 0;
    let suppressed = 0;
    const scoreHist = this.deps.metrics.score.labels(this.source);
    const out = this.out.reset(this.source, model.info.threshold);
    for (const { msg, line } of batch) {
      this.rateCounted = false;
      const d = decider.decide(model, line.line, line.t);
      this.recent.push(line.line, line.t);
      this.drift.observe(d.flagged);
      if (d.suppressed) suppressed++;
      else if (d.flagged) anomalies++;
      scoreHist.observe(d.line.score);
      const i = out.add({ timestampMs: line.t, line: line.line, labels: line.labels }, d.score, d.stored, d.suppressed, d.line.template, d.reason, d.line.level, msg.seq);
      if (this.rateCounted) out.setRate(i, this.rateId, this.rateStart, this.rateExpected);
      this.window.push(line.line, msg.seq);
    }
    this.reviewDirty = true;
    out.rateIntervalMs = this.rate.intervalMs;
    out.rateEvents.push(...this.pendingEvents);
    this.pendingEvents = [];
    // the write must hold before the ack: retry until it does or the lease is gone
    if (!(await this.write(out))) return;
    // AckPolicy.All: acknowledging the newest acknowledges the batch
    const newest = batch.reduce((a, b) => (b.msg.seq > a.msg.seq ? b : a));
    await newest.msg.ackAck().catch((err: Error) => {
      this.lastError = `ack failed: ${err.message}`;
    });
    this.scored += batch.length;
    // the same series as the embedded pipeline's, so the provisioned rules and dashboard work for a cluster
    const m = this.deps.metrics;
    m.linesScored.labels(this.source).inc(batch.length);
    if (anomalies > 0) m.anomalies.labels(this.source).inc(anomalies);
    if (suppressed > 0) m.suppressed.labels(this.source).inc(suppressed);
    if (this.drift.drifted) this.retrainIfDue();
  }

  /** Writes `out` until it holds; false when the scorer stopped first. */
  private async write(out: ScoredBatch): Promise<boolean> {
    for (;;) {
      try {
        await this.deps.sink.writeBatch(out);
        return true;
      } catch (err) {
        this.lastError = `writing scored lines failed: ${(err as Error).message}`;
        this.log.warn({ err: (err as Error).message }, 'writing scored lines failed, retrying');
        if (this.stopping) return false;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Surges and drops raised since the last batch, written alone (no lines came since). */
  private async writeEvents(): Promise<void> {
    const out = this.out.reset(this.source, this.model?.info.threshold ?? 0);
    out.rateIntervalMs = this.rate.intervalMs;
    out.rateEvents.push(...this.pendingEvents);
    this.pendingEvents = [];
    await this.write(out);
  }

  /** Recomputes and writes the review queue when lines or answers changed it and it is due (the ticker). */
  private reviewIfDue(): void {
    const write = this.deps.sink.writeReview?.bind(this.deps.sink);
    if (!write || this.reviewing || this.stopping || !this.reviewDirty || Date.now() - this.reviewAt < REVIEW_REFRESH_MS) return;
    this.reviewDirty = false;
    this.reviewAt = Date.now();
    let items: ReviewItem[] | null;
    try {
      items = this.review(QUERY_LIMITS.reviewItemsPerSource);
    } catch (err) {
      // on the ticker: a throw here would end the process, not just this queue
      this.log.warn({ err: (err as Error).message }, 'computing the review queue failed');
      return;
    }
    this.reviewing = write(this.source, items)
      .catch((err: Error) => {
        this.reviewDirty = true;
        this.log.warn({ err: err.message }, 'writing the review queue failed');
      })
      .finally(() => (this.reviewing = null));
  }

  /** The review queue over the newest lines, as the embedded pipeline's (SourcePipeline.review); null before a model. */
  review(limit: number): ReviewItem[] | null {
    const model = this.model;
    if (model === null || !isWindowModel(model) || this.feedback === null) return null;
    const items = reviewQueue(model, scoreWindow(model, this.recent.lines().slice(-REVIEW_WINDOW_LINES)), this.feedback, limit);
    for (const item of items) item.lineId = this.lineIdOf(item.line);
    return items;
  }

  /** The id (`<stream seq>-<source key>`) of the newest line with this text among the newest lines, null when none. */
  private lineIdOf(line: string): string | null {
    const seq = this.window.newestArrivalOf(line);
    return seq === null ? null : `${seq}-${sourceKey(this.source)}`;
  }
}
