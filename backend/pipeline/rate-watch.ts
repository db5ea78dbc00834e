// Rate anomalies of one source in the service (engine/rate): the baseline of each trained model (from its
// training lines, computed on the main thread after training since the worker cannot call back per line),
// saved as rate.json in the model directory and loaded with it; per scored line, the surge verdict; on the
// pipeline's one-second tick, the clock moves on so a silent source's drops are reported.
//
// The clock follows the lines' own times (or their arrival times): between lines it moves at wall-clock pace
// from the newest line's time, so a replay of old logs does not jump to today and drop everything.

import { promises as fs } from 'fs';
import * as path from 'path';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { LadModel } from '../engine/model';
import { loadBaseline, saveBaseline } from '../engine/rate/persist';
import { carryTemplates } from '../engine/rate/baseline';
import type { RateBaseline } from '../engine/rate/baseline';
import { rateAnswerMessage, rateAnswerOf } from '../contract';
import { ANY_SOURCE } from '../store/fact-store';
import type { FactStore, FeedbackRecord } from '../store/fact-store';
import { baselineOf } from '../engine/rate/template-ids';
import { RateTracker, roundExpected, surgeReason } from '../engine/rate/tracker';
import { TimestampParser } from '../engine/timestamps';
import type { LineScore, Model } from './engine-port';
import { RateHistory, rateHistoryFileSchema } from './rate-history';

// An answer about a rate event (the panel's surge and drop rows) is a feedback record whose message is
// rateAnswerMessage(kind, template) (the contract's convention, shared with the panel and the line-level index).
export { rateAnswerMessage };

/** The rate history's file, beside the baseline (rate.json) in the model directory. */
export const RATE_HISTORY_FILE = 'rate-history.json';

/**
 * The history is written at most this often while lines come, and at stop. Rule: one default interval (a
 * minute): a crash loses at most the last minute of series and events.
 */
export const HISTORY_SAVE_MS = 60_000;

export interface Surge {
  observed: number;
  expected: number;
  reason: string;
  /** The line where the count reached the surge level (the surge's onset in this interval). */
  first: boolean;
  /** Template id and start of the interval (epoch ms; absent when intervals are counted in lines). */
  id?: number;
  start?: number;
}

export class RateWatch {
  private readonly baselines = new WeakMap<Model, RateBaseline>();
  private tracker: RateTracker | null = null;
  private model: LadModel | null = null;
  private readonly parser = new TimestampParser();
  /**
   * Where the clock stood at the last tick that saw lines: the newest line's time (its own, or its entry's) and
   * the wall-clock time of that tick. Between lines the clock moves on from there at wall-clock pace. An
   * entry's time is not the wall clock: a shipper stamps it (Loki push, NDJSON `time`), and a backfill or a
   * late batch is minutes or days behind, so moving the clock to "now" would restart every count at the next line.
   */
  private anchorLine = NaN;
  private anchorWall = NaN;
  /** Lines observed since the last tick (no clock call per line). */
  private observedSinceTick = 0;
  /** Observed and expected counts per template and the surge and drop events, for queries (rate-history.ts). */
  readonly history = new RateHistory();

  /** Templates whose surge or drop people confirmed: their rate before it is kept (pin, carried at retraining). */
  private readonly confirmed = new Map<number, Set<string>>();
  private facts: Pick<FactStore, 'list' | 'onChange'> | null = null;
  private unsubscribe: () => void = () => undefined;
  private savedVersion = 0;
  private lastSave = 0;
  private saving: Promise<void> | null = null;

  constructor(
    private readonly source: string,
    private readonly counter: Counter<'source' | 'kind'>,
    private readonly logger: Logger,
    /** The model directory, where the history is saved while the service runs (none: kept in memory only). */
    private readonly historyDir?: string,
  ) {
    counter.inc({ source, kind: 'surge' }, 0);
    counter.inc({ source, kind: 'drop' }, 0);
  }

  /**
   * The baseline of a model just trained on `lines` (in arrival order; `arrivals` their arrival times, the clock
   * of lines without a time of their own); kept until the model is used.
   */
  learn(model: Model, lines: readonly string[], arrivals?: ArrayLike<number>): void {
    if (!(model instanceof LadModel) || !model.config.rate.enabled) return;
    const b = baselineOf(model, lines, this.parser, arrivals);
    const prev = this.tracker?.model.baseline;
    // confirmed surges and drops keep the rate from before them (the window holds the surge, or lacks the line)
    this.baselines.set(model, prev !== undefined && this.confirmed.size > 0 ? carryTemplates(b, prev, this.confirmed.keys()) : b);
  }

  /**
   * Follows the answers about rate events in the fact-store (rateAnswerMessage). "Anomaly" on a surge pins its
   * template's expectation (the surge does not become its normal rate, now or at the next retraining); on a
   * drop, the next retraining keeps watching the template even when its window lacks the line. "Not an anomaly"
   * on a surge makes that surge's count the template's normal peak at once.
   */
  attach(facts: Pick<FactStore, 'list' | 'onChange'>): void {
    this.facts = facts;
    this.unsubscribe = facts.onChange((record, change) => this.answer(record, change === 'added'));
  }

  private answer(record: FeedbackRecord, added: boolean): void {
    if (record.source !== this.source && record.source !== ANY_SOURCE) return;
    const rate = rateAnswerOf(record.message);
    if (rate === null) return;
    const kind = rate.kind;
    const id = this.history.idOf(record.template) ?? this.history.idOf(rate.template);
    if (id === undefined) return;
    const model = this.tracker?.model;
    if (record.kind === 'confirmed') {
      const kinds = this.confirmed.get(id) ?? new Set<string>();
      if (added) kinds.add(kind);
      else kinds.delete(kind);
      if (kinds.size > 0) this.confirmed.set(id, kinds);
      else this.confirmed.delete(id);
      if (kind === 'surge') model?.pin(id, added);
    } else if (kind === 'surge' && added) {
      const e = this.history.lastEvent(id, 'surge');
      if (e !== undefined) model?.acceptCount(id, e.observed);
    }
    this.logger.info({ source: this.source, template: record.template, kind, answer: record.kind, added }, 'rate answer');
  }

  /** Templates with a confirmed surge or drop (a copy). */
  get confirmedTemplates(): Map<number, string[]> {
    return new Map([...this.confirmed].map(([id, kinds]) => [id, [...kinds].sort()]));
  }

  /** Saves the model's baseline and the history so far into its directory (after the model's own files). */
  async save(model: Model, dir: string): Promise<void> {
    const b = this.baselines.get(model);
    if (b !== undefined) await saveBaseline(dir, b);
    await this.writeHistory(dir);
  }

  /** Width of the counting interval in ms; null while there is no rate model or it counts in lines. */
  get intervalMs(): number | null {
    const t = this.tracker;
    return t !== null && t.model.unit === 'ms' ? t.model.width : null;
  }

  /** Reads the baseline saved beside a loaded model (none: no rate anomalies until the next training). */
  async load(model: Model, dir: string): Promise<void> {
    if (!(model instanceof LadModel) || !model.config.rate.enabled) return;
    const b = await loadBaseline(dir).catch((err: Error) => {
      this.logger.warn({ source: this.source, err: err.message }, 'rate baseline unusable, rate anomalies off until retraining');
      return null;
    });
    if (b !== null) this.baselines.set(model, b);
    if (this.history.version === 0) await this.readHistory(dir);
  }

  private async readHistory(dir: string): Promise<void> {
    const file = path.join(dir, RATE_HISTORY_FILE);
    try {
      const parsed = rateHistoryFileSchema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
      if (!parsed.success) throw new Error(parsed.error.issues[0].message);
      this.history.restore(parsed.data);
      this.savedVersion = this.history.version;
    } catch (err) {
      // no history yet, or one that cannot be read: series start afresh (the baseline is what detects)
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ source: this.source, file, err: (err as Error).message }, 'rate history unreadable, starting empty');
    }
  }

  /** Writes the history into `dir` (a temporary file renamed over the old one: a crash leaves one whole file). */
  private async writeHistory(dir: string): Promise<void> {
    const version = this.history.version;
    if (version === 0) return;
    const file = path.join(dir, RATE_HISTORY_FILE);
    await fs.writeFile(`${file}.tmp`, JSON.stringify(this.history.toFile()));
    await fs.rename(`${file}.tmp`, file);
    this.savedVersion = version;
  }

  /** Saves the history now when it changed since the last save (when the source stops). */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.saving;
    if (this.historyDir !== undefined && this.history.version !== this.savedVersion) await this.saveHistory(this.historyDir);
  }

  private saveHistory(dir: string): Promise<void> {
    this.lastSave = Date.now();
    // the directory is absent until the first model is saved, and replaced by a retraining (which saves it too)
    this.saving = this.writeHistory(dir)
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') this.logger.warn({ source: this.source, err: err.message }, 'saving the rate history failed');
      })
      .finally(() => (this.saving = null));
    return this.saving;
  }

  /** The model now scoring: its baseline starts a fresh count (a retraining's baseline replaces the old). */
  use(model: Model): void {
    const b = this.baselines.get(model);
    this.model = model instanceof LadModel ? model : null;
    this.tracker = b !== undefined && this.model !== null ? new RateTracker(this.model.config.rate, b) : null;
    this.anchorLine = NaN;
    this.anchorWall = NaN;
    this.observedSinceTick = 0;
    // the answers given so far (at start, once the history that names their templates is read)
    if (this.facts !== null && this.confirmed.size === 0) for (const r of this.facts.list()) this.answer(r, true);
    for (const [id, kinds] of this.confirmed) if (kinds.has('surge')) this.tracker?.model.pin(id, true);
  }

  /** A scored line: null, or its surge (the line is then anomalous with the surge's reason). */
  observe(r: LineScore, line: string, arrivalMs: number): Surge | null {
    const tracker = this.tracker;
    const id = (r as { cluster?: { id: number } }).cluster?.id;
    if (tracker === null || id === undefined) return null;
    const parsed = tracker.model.unit === 'ms' ? this.parser.parse(line) : NaN;
    // the entry's time is when it arrived (or its own, from sources that read it): no clock call per line
    this.observedSinceTick++;
    const observed = tracker.observe(id, parsed, arrivalMs);
    const expected = tracker.expected;
    let start: number | undefined;
    if (tracker.model.unit === 'ms' && !Number.isNaN(tracker.time)) {
      // the interval the tracker counted the line in (its own time, the previous line's, or its arrival)
      const width = tracker.model.width;
      start = Math.floor(tracker.time / width) * width;
      this.history.count(id, r.template, start, roundExpected(expected));
    }
    this.reportDrops();
    if (observed === 0) return null;
    return {
      observed,
      expected: roundExpected(expected),
      reason: surgeReason(r.template, observed, expected, tracker.intervalText),
      first: observed === tracker.model.surgeLevelOfLast,
      id,
      start,
    };
  }

  /** A surge that stands (not answered "not an anomaly"): its first line counts it and logs it. */
  flagged(surge: Surge, template: string): void {
    if (!surge.first) return;
    this.counter.inc({ source: this.source, kind: 'surge' });
    const tracker = this.tracker;
    if (tracker !== null && tracker.model.unit === 'ms' && surge.start !== undefined) {
      this.history.event({ time: surge.start, template, kind: 'surge', observed: surge.observed, expected: surge.expected, interval: tracker.intervalText }, surge.id!);
    }
    this.logger.warn({ source: this.source, template, observed: surge.observed, expected: surge.expected, interval: this.tracker?.intervalText }, 'rate surge');
  }

  /** "Not an anomaly" on the surge `observe` just reported: that template's current rate becomes normal. */
  accept(): void {
    this.tracker?.accept();
  }

  /** The one-second tick: time moves on at wall-clock pace from the newest line's (see anchorLine). */
  tick(nowMs: number): void {
    if (this.historyDir !== undefined && this.saving === null && this.history.version !== this.savedVersion && Date.now() - this.lastSave >= HISTORY_SAVE_MS) {
      void this.saveHistory(this.historyDir);
    }
    const tracker = this.tracker;
    if (tracker === null) return;
    if (this.observedSinceTick > 0) {
      // lines are coming: their times move the clock
      this.observedSinceTick = 0;
      this.anchorLine = tracker.time;
      this.anchorWall = nowMs;
    } else if (!Number.isNaN(this.anchorLine)) {
      tracker.advanceTo(this.anchorLine + (nowMs - this.anchorWall));
    }
    this.reportDrops();
  }

  private reportDrops(): void {
    const drops = this.tracker!.takeDrops();
    for (const d of drops) {
      this.counter.inc({ source: this.source, kind: 'drop' });
      const template = this.model?.miner.get(d.id)?.text ?? `template #${d.id}`;
      const t = this.tracker!;
      if (t.model.unit === 'ms') {
        const time = d.lastSeen + t.model.width; // the first interval without it
        this.history.event({ time, template, kind: 'drop', observed: 0, expected: roundExpected(d.expected), interval: t.intervalText }, d.id);
      }
      this.logger.warn(
        { source: this.source, template, emptyIntervals: d.emptyIntervals, expected: roundExpected(d.expected), interval: this.tracker!.intervalText },
        'rate drop: a regular line stopped',
      );
    }
  }
}
