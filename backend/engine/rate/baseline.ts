// The rate baseline: what the training window says about each template's count per interval. Built from the
// training lines (template id, time) in one pass, saved beside the model (rate.json), and the start of a
// RateModel's state when scoring begins.

import { z } from 'zod';
import type { RateConfig } from './config';

/** 'ms': intervals of time (the lines carry timestamps); 'lines': intervals of line order. */
export type RateUnit = 'ms' | 'lines';

export const rateBaselineSchema = z
  .object({
    version: z.literal(1),
    unit: z.enum(['ms', 'lines']),
    /** Interval width in the unit. */
    width: z.number().positive(),
    /** Intervals the training window spans (first to last, empty ones included). */
    intervals: z.number().int().min(0),
    /** Per template id: mean count per interval, largest count in one interval, intervals it was present in. */
    templates: z.array(z.tuple([z.number().int(), z.number().min(0), z.number().min(0), z.number().int().min(0)])),
  })
  .strict();

export type RateBaseline = z.output<typeof rateBaselineSchema>;

interface Acc {
  total: number;
  peak: number;
  present: number;
  bucket: number;
  count: number;
}

/** Counts per template and interval for one way of cutting time into intervals, in O(templates) memory. */
class IntervalCounts {
  readonly acc = new Map<number, Acc>();
  private watermark = -Infinity;
  private first = Infinity;

  constructor(readonly width: number) {}

  add(id: number, t: number): void {
    // a late line (earlier interval) counts in the current one, as it will while scoring
    const b = Math.max(Math.floor(t / this.width), this.watermark);
    this.watermark = b;
    if (b < this.first) this.first = b;
    let a = this.acc.get(id);
    if (a === undefined) {
      a = { total: 0, peak: 0, present: 0, bucket: b, count: 0 };
      this.acc.set(id, a);
    }
    if (a.bucket !== b) {
      if (a.count > 0) a.present++;
      if (a.count > a.peak) a.peak = a.count;
      a.bucket = b;
      a.count = 0;
    }
    a.count++;
    a.total++;
  }

  build(unit: RateUnit): RateBaseline {
    const intervals = Number.isFinite(this.first) ? this.watermark - this.first + 1 : 0;
    const templates: RateBaseline['templates'] = [];
    for (const [id, a] of this.acc) {
      const present = a.present + (a.count > 0 ? 1 : 0);
      templates.push([id, a.total / Math.max(1, intervals), Math.max(a.peak, a.count), present]);
    }
    templates.sort((x, y) => x[0] - y[0]);
    return { version: 1, unit, width: this.width, intervals, templates };
  }
}

/**
 * Accumulates training lines in order. A line is (template id, its own time or NaN); the unit is decided at
 * the end: time when at least half the lines carry one (a line without takes the previous line's time),
 * else line order. Both are counted as lines come (memory grows with templates, not lines).
 */
export class RateBaselineBuilder {
  private readonly byTime: IntervalCounts;
  private readonly byOrder: IntervalCounts;
  private n = 0;
  private timed = 0;
  private last = NaN;

  constructor(config: RateConfig) {
    this.byTime = new IntervalCounts(config.intervalSeconds * 1000);
    this.byOrder = new IntervalCounts(config.intervalLines);
  }

  add(id: number, time: number): void {
    this.byOrder.add(id, this.n++);
    if (!Number.isNaN(time)) {
      this.timed++;
      this.last = time;
    }
    if (!Number.isNaN(this.last)) this.byTime.add(id, this.last); // lines before the first timestamp: no time
  }

  get lines(): number {
    return this.n;
  }

  build(): RateBaseline {
    return this.n > 0 && this.timed >= this.n / 2 ? this.byTime.build('ms') : this.byOrder.build('lines');
  }
}
