// A source's rate anomalies as its lines are scored: the line's time (its own timestamp; else the previous
// line's, or the arrival time the caller gives; in line-order mode its position), its template id (from the
// score), the rate model's verdict, and the words of a surge. One per source; the CLI, the service and the
// evaluation use it the same way.

import type { RateBaseline } from './baseline';
import type { RateConfig } from './config';
import { RateModel } from './model';
import type { DropEvent } from './model';

export interface SurgeInfo {
  observed: number;
  expected: number;
}

export class RateTracker {
  readonly model: RateModel;
  private lastTime = NaN;
  /** The newest time read from a line itself. */
  private lastOwn = NaN;
  private position = 0;

  constructor(config: RateConfig, baseline: RateBaseline) {
    this.model = new RateModel(config, baseline);
  }

  /**
   * Counts one scored line: `id` its template id, `parsed` the time read from it (NaN if none), `arrival` the
   * time it arrived (NaN when unknown, as in the CLI). Returns 0, or the template's count in the interval
   * when the line is part of a surge. A timed model skips lines before any time is known. The clock is the
   * same as the baseline's (template-ids.ts baselineOf).
   */
  observe(id: number, parsed: number, arrival = NaN): number {
    let t: number;
    if (this.model.unit === 'lines') t = this.position++;
    else {
      // a line without a time of its own goes with the line before it when the source's lines carry times
      // (a stack trace's lines; a replay keeps its own clock), else with when it arrived
      if (!Number.isNaN(parsed)) t = this.lastOwn = parsed;
      else if (!Number.isNaN(this.lastOwn)) t = this.lastOwn;
      else t = Number.isNaN(arrival) ? this.lastTime : arrival;
      if (Number.isNaN(t)) return 0;
      this.lastTime = t;
    }
    return this.model.observe(id, t);
  }

  /** The time the last observed line was counted at (NaN in line order or before any time). */
  get time(): number {
    return this.model.unit === 'lines' ? NaN : this.lastTime;
  }

  /** Expected count per interval of the last observed line's template. */
  get expected(): number {
    return this.model.expectedOfLast;
  }

  /** "Not an anomaly" on the last line's surge: its template's current rate becomes normal (RateModel.acceptLast). */
  accept(): void {
    this.model.acceptLast();
  }

  /** Moves time on without a line (the service's timer): drops of a silent source. No-op in line order. */
  advanceTo(time: number): void {
    if (this.model.unit === 'ms') this.model.advanceTo(time);
  }

  takeDrops(): DropEvent[] {
    return this.model.takeDrops();
  }

  /** The interval as people read it: "1 min", "30 s", "100 lines". */
  get intervalText(): string {
    return intervalText(this.model.unit, this.model.width);
  }
}

export function intervalText(unit: RateBaseline['unit'], width: number): string {
  if (unit === 'lines') return `${width} lines`;
  const s = width / 1000;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** Rounded for reading: one decimal below 10, whole numbers above. */
export function roundExpected(x: number): number {
  return x < 10 ? Math.round(x * 10) / 10 : Math.round(x);
}

/** The reason of a surge line: "surge: <template> N in <interval>, expected M". */
export function surgeReason(template: string, observed: number, expected: number, interval: string): string {
  return `surge: ${template} ${observed} in ${interval}, expected ${roundExpected(expected)}`;
}
