// The rate baseline: what the training window says about each template's count per interval. Built from the
// training lines (template id, time) in one pass, saved beside the model (rate.json), and the start of a
// RateModel's state when scoring begins.

import { z } from 'zod';
import type { RateConfig } from './config';

/** 'ms': intervals of time (the lines carry timestamps); 'lines': intervals of line order. */
export type RateUnit = 'ms' | 'lines';

const templateV1 = z.tuple([z.number().int(), z.number().min(0), z.number().min(0), z.number().int().min(0)]);
const templateV2 = z.tuple([z.number().int(), z.number().min(0), z.number().min(0), z.number().int().min(0), z.number().min(1)]);

export const rateBaselineSchema = z
  .object({
    version: z.union([z.literal(1), z.literal(2)]),
    unit: z.enum(['ms', 'lines']),
    /** Interval width in the unit. */
    width: z.number().positive(),
    /** Intervals the training window spans (first to last, empty ones included). */
    intervals: z.number().int().min(0),
    /**
     * Per template id: mean count per interval, largest count in one interval, intervals it was present in, and
     * (version 2) the index of dispersion of its count per interval (variance / mean, at least 1: 1 is Poisson,
     * more is bursty). A version 1 baseline reads as Poisson.
     */
    templates: z.array(z.union([templateV2, templateV1]).transform((t): [number, number, number, number, number] => (t.length === 5 ? t : [...t, 1]))),
  })
  .strict();

export type RateBaseline = z.output<typeof rateBaselineSchema>;

interface Acc {
  total: number;
  /** Sum of the squared counts of the intervals it had lines in (for its dispersion). */
  sq: number;
  /** Largest count in an interval the window covers fully. */
  peak: number;
  /** Largest count in a partial interval (the window's first or last): as counted, and scaled to a full one. */
  partial: number;
  partialScaled: number;
  present: number;
  bucket: number;
  count: number;
}

/**
 * Peaks come from the intervals the training window covers fully. A window with fewer than two of them (a
 * short sample) takes its partial intervals' counts scaled to a full interval by the share covered, at least
 * this share (a few seconds of lines are not multiplied without bound). Rule: a tenth.
 */
export const MIN_COVERAGE = 0.1;

/**
 * A line stamped further back than this before the interval being counted is not a late line: the clock went
 * back (a concatenated, rotated or replayed file), and counting restarts at its interval. Rule: Loki's
 * out-of-order window (max_chunk_age / 2 = 1 h by default); a late line within it counts in the current interval.
 */
export const CLOCK_BACK_MS = 3_600_000;

/** Counts per template and interval for one way of cutting time into intervals, in O(templates) memory. */
class IntervalCounts {
  readonly acc = new Map<number, Acc>();
  private watermark = -Infinity;
  private first = Infinity;
  private firstTime = Infinity;
  private lastTime = -Infinity;
  /** Intervals counted: the span of each stretch between clock jumps back, summed. */
  private spanned = 0;
  private readonly backIntervals: number;

  /** `step`: the span one line's time stands for (its whole second; one position in line order). */
  constructor(
    readonly width: number,
    private readonly step: number,
    /** The clock never goes back (line order). */
    monotonic = false,
  ) {
    this.backIntervals = monotonic ? Infinity : Math.max(1, Math.ceil(CLOCK_BACK_MS / width));
  }

  add(id: number, t: number): void {
    // a late line (earlier interval) counts in the current one, as it will while scoring; a clock gone back
    // by more than CLOCK_BACK_MS starts a new stretch at the line's interval
    let b = Math.floor(t / this.width);
    if (b > this.watermark) this.spanned += this.watermark === -Infinity ? 1 : b - this.watermark;
    else if (b < this.watermark - this.backIntervals) this.spanned++;
    else b = this.watermark;
    this.watermark = b;
    if (b < this.first) this.first = b;
    if (t < this.firstTime) this.firstTime = t;
    if (t + this.step > this.lastTime) this.lastTime = t + this.step;
    let a = this.acc.get(id);
    if (a === undefined) {
      a = { total: 0, sq: 0, peak: 0, partial: 0, partialScaled: 0, present: 0, bucket: b, count: 0 };
      this.acc.set(id, a);
    }
    if (a.bucket !== b) {
      if (a.count > 0) a.present++;
      this.closePeak(a);
      a.bucket = b;
      a.count = 0;
    }
    a.count++;
    a.total++;
  }

  private closePeak(a: Acc): void {
    a.sq += a.count * a.count;
    if (a.bucket > this.first && a.bucket < this.watermark) a.peak = Math.max(a.peak, a.count);
    else {
      a.partial = Math.max(a.partial, a.count);
      a.partialScaled = Math.max(a.partialScaled, a.count / this.coverage(a.bucket));
    }
  }

  /** Share of interval b the training window covers (1 inside it; less for its first and last intervals). */
  private coverage(b: number): number {
    const start = b * this.width;
    const lo = Math.max(start, this.firstTime);
    const hi = b < this.watermark ? start + this.width : Math.min(start + this.width, this.lastTime);
    return Math.min(1, Math.max(MIN_COVERAGE, (hi - lo) / this.width));
  }

  build(unit: RateUnit): RateBaseline {
    const intervals = this.spanned;
    const short = intervals < 4; // fewer than two full intervals between the partial first and last
    // a short window's mean is over the time it covers (a few seconds of lines are not a whole interval)
    const covered = short ? Math.max(MIN_COVERAGE, (this.lastTime - this.firstTime) / this.width) : intervals;
    const templates: RateBaseline['templates'] = [];
    for (const [id, a] of this.acc) {
      const present = a.present + (a.count > 0 ? 1 : 0);
      this.closePeak(a);
      const peak = Math.max(a.peak, short ? a.partialScaled : a.partial);
      const mean = a.total / covered;
      // variance / mean of the count per interval over the window (empty intervals are counts of 0)
      const dispersion = Math.max(1, (a.sq / covered - mean * mean) / mean);
      templates.push([id, mean, Math.round(peak * 100) / 100, present, Math.round(dispersion * 1000) / 1000]);
    }
    templates.sort((x, y) => x[0] - y[0]);
    return { version: 2, unit, width: this.width, intervals, templates };
  }
}

/** The narrowest interval a short training window may adapt to: timestamps are often whole seconds. */
export const MIN_ADAPTED_MS = 1000;

/**
 * Accumulates training lines in order. A line is (template id, its own time or NaN); the unit is decided at
 * the end: time when at least half the lines carry one (a line without takes the previous line's time),
 * else line order. Both are counted as lines come (memory grows with templates, not lines).
 *
 * Rates cannot be learned from a window of one or two intervals, so a window spanning fewer than
 * minTrainingIntervals intervals takes a narrower one: the widest of intervalSeconds / 2^k (k = 0, 1, …, not
 * below MIN_ADAPTED_MS) that it spans minTrainingIntervals times, else the narrowest. Each candidate is
 * counted as lines come; the baseline keeps its width and scoring uses it. A window too short even for the
 * narrowest is counted in line order.
 */
export class RateBaselineBuilder {
  private readonly byTime: IntervalCounts[] = [];
  private readonly byOrder: IntervalCounts;
  private n = 0;
  private timed = 0;
  private last = NaN;
  private firstTime = Infinity;
  private lastTime = -Infinity;

  constructor(private readonly config: RateConfig) {
    for (let w = config.intervalSeconds * 1000; ; w /= 2) {
      this.byTime.push(new IntervalCounts(w, 1000));
      if (w / 2 < MIN_ADAPTED_MS) break;
    }
    this.byOrder = new IntervalCounts(config.intervalLines, 1, true);
  }

  add(id: number, time: number): void {
    this.byOrder.add(id, this.n++);
    if (!Number.isNaN(time)) {
      this.timed++;
      this.last = time;
      if (time < this.firstTime) this.firstTime = time;
      if (time > this.lastTime) this.lastTime = time;
    }
    if (Number.isNaN(this.last)) return; // lines before the first timestamp: no time
    const t = this.byTime;
    for (let i = 0; i < t.length; i++) t[i].add(id, this.last);
    // once the window spans enough of the widest interval it always will (spans only grow): drop the rest
    if (t.length > 1 && (this.lastTime - this.firstTime + 1000) / t[0].width >= this.config.minTrainingIntervals) t.length = 1;
  }

  get lines(): number {
    return this.n;
  }

  build(): RateBaseline {
    if (this.n === 0 || this.timed < this.n / 2) return this.byOrder.build('lines');
    const span = this.lastTime - this.firstTime + 1000;
    const fit = this.byTime.find((c) => span / c.width >= this.config.minTrainingIntervals);
    // a window shorter than minTrainingIntervals of the narrowest interval is one burst in time: no rate can
    // be learned from its clock, so its lines are counted by position (a template's share of the lines)
    return fit === undefined ? this.byOrder.build('lines') : fit.build('ms');
  }
}

/**
 * `next` (a retraining's baseline) with the templates `ids` as `prev` had them: rate anomalies people confirmed
 * keep the rate from before them (the window a retraining learns from holds the surge, or lacks the line that
 * stopped). Presence is rescaled to `next`'s span, so a regular line's drop watch carries over. Only between
 * baselines of the same unit and width; otherwise `next` as it is.
 */
export function carryTemplates(next: RateBaseline, prev: RateBaseline, ids: Iterable<number>): RateBaseline {
  if (next.unit !== prev.unit || next.width !== prev.width) return next;
  const old = new Map(prev.templates.map((t) => [t[0], t]));
  const byId = new Map(next.templates.map((t) => [t[0], t]));
  for (const id of ids) {
    const t = old.get(id);
    if (t === undefined) continue;
    const present = Math.min(next.intervals, Math.round((t[3] / Math.max(1, prev.intervals)) * next.intervals));
    byId.set(id, [id, t[1], t[2], present, t[4]]);
  }
  return { ...next, templates: [...byId.values()].sort((a, b) => a[0] - b[0]) };
}
