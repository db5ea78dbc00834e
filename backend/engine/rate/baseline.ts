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

/**
 * Accumulates training lines in order. A line is (template id, its own time or NaN); the unit is decided at
 * the end: time when at least half the lines carry one (a line without takes the previous line's time),
 * else line order. Late lines (a time before the interval being counted) count in the current interval, as
 * they will while scoring.
 */
export class RateBaselineBuilder {
  private readonly ids: number[] = [];
  private readonly times: number[] = [];
  private timed = 0;

  constructor(private readonly config: RateConfig) {}

  add(id: number, time: number): void {
    this.ids.push(id);
    this.times.push(time);
    if (!Number.isNaN(time)) this.timed++;
  }

  get lines(): number {
    return this.ids.length;
  }

  build(): RateBaseline {
    const n = this.ids.length;
    const unit: RateUnit = n > 0 && this.timed >= n / 2 ? 'ms' : 'lines';
    const width = unit === 'ms' ? this.config.intervalSeconds * 1000 : this.config.intervalLines;
    const acc = new Map<number, Acc>();
    let watermark = -Infinity;
    let first = Infinity;
    let last = NaN;
    for (let i = 0; i < n; i++) {
      let t = unit === 'ms' ? this.times[i] : i;
      if (Number.isNaN(t)) t = last;
      if (Number.isNaN(t)) continue; // before the first timestamp
      last = t;
      const b = Math.max(Math.floor(t / width), watermark);
      watermark = b;
      if (b < first) first = b;
      const id = this.ids[i];
      let a = acc.get(id);
      if (a === undefined) {
        a = { total: 0, peak: 0, present: 0, bucket: b, count: 0 };
        acc.set(id, a);
      }
      if (a.bucket !== b) {
        if (a.count > 0) a.present++;
        a.peak = Math.max(a.peak, a.count);
        a.bucket = b;
        a.count = 0;
      }
      a.count++;
      a.total++;
    }
    const intervals = Number.isFinite(first) ? watermark - first + 1 : 0;
    const templates: RateBaseline['templates'] = [];
    for (const [id, a] of acc) {
      if (a.count > 0) a.present++;
      a.peak = Math.max(a.peak, a.count);
      templates.push([id, a.total / Math.max(1, intervals), a.peak, a.present]);
    }
    templates.sort((x, y) => x[0] - y[0]);
    return { version: 1, unit, width, intervals, templates };
  }
}
