// Rate anomalies per template, as lines stream: a known template that surges (far more lines in one interval
// than its expectation and its training peak allow, and a material count), and a regular template that stops
// (no line for several intervals). State is per source, in typed arrays indexed by a slot per template id, so
// the per-line work is a Map lookup and a few array updates: no allocation on the scoring path.
//
// Time is cut into intervals (the baseline's unit and width). The interval being counted is the latest one a
// line has reached; a line stamped earlier (out of order) counts in it. Expectations move at interval close,
// lazily per template (a template untouched for k intervals decays by (1 − w)^k when next seen).

import type { RateBaseline } from './baseline';
import type { RateConfig } from './config';
import { CLOCK_BACK_MS } from './baseline';
import { surgeLevel } from './poisson';

export interface DropEvent {
  kind: 'drop';
  id: number;
  /** Empty intervals in a row when reported. */
  emptyIntervals: number;
  /** Expected count per interval. */
  expected: number;
  /** Start (in the baseline's unit) of the interval the template was last seen in. */
  lastSeen: number;
}

export class RateModel {
  private readonly slotOf = new Map<number, number>();
  private readonly ids: Float64Array;
  private readonly mean: Float64Array;
  private readonly peak: Float64Array;
  /** Index of dispersion of the count per interval in training (1 = Poisson, more = arrives in bursts). */
  private readonly disp: Float64Array;
  /** Count at which a line of this template is part of a surge (recomputed when mean or peak changes). */
  private readonly level: Float64Array;
  private readonly count: Int32Array;
  /** Interval the count belongs to. */
  private readonly countBucket: Float64Array;
  /** The last interval whose count is in `mean`. */
  private readonly updated: Float64Array;
  private readonly firstSeen: Float64Array;
  /** Drop watch: 0 = not watched, else the empty intervals in a row that report a drop. */
  private readonly dropAfter: Int32Array;
  private readonly dropped: Uint8Array;
  /** 1: people confirmed a surge of it; its expectation and peak stay as they were (pin). */
  private readonly pinned: Uint8Array;
  private readonly watched: number[] = [];
  private used = 0;
  private hand = 0;
  private bucket = -Infinity;
  private readonly w: number;
  /** Intervals back a line may be stamped and still count as late (CLOCK_BACK_MS), else the clock restarts. */
  private readonly backIntervals: number;
  /** Drops found since the caller last took them (`takeDrops`). */
  private drops: DropEvent[] = [];
  /** Slot of the last observed line (for `expectedOfLast`). */
  private last = -1;
  /** Templates forgotten to stay within maxTemplates. */
  evicted = 0;

  constructor(
    private readonly config: RateConfig,
    readonly baseline: RateBaseline,
  ) {
    const n = config.maxTemplates;
    this.ids = new Float64Array(n);
    this.mean = new Float64Array(n);
    this.peak = new Float64Array(n);
    this.disp = new Float64Array(n).fill(1);
    this.level = new Float64Array(n);
    this.count = new Int32Array(n);
    this.countBucket = new Float64Array(n).fill(-Infinity);
    this.updated = new Float64Array(n);
    this.firstSeen = new Float64Array(n);
    this.dropAfter = new Int32Array(n);
    this.dropped = new Uint8Array(n);
    this.pinned = new Uint8Array(n);
    this.w = 1 / config.updateIntervals;
    this.backIntervals = baseline.unit === 'ms' ? Math.max(1, Math.ceil(CLOCK_BACK_MS / baseline.width)) : Infinity;
    // the most frequent templates first, so a baseline larger than the bound keeps the ones that matter
    const templates = [...baseline.templates].sort((a, b) => b[1] - a[1]).slice(0, n);
    const T = baseline.intervals;
    for (const [id, mean, peak, present, dispersion] of templates) {
      const s = this.used++;
      this.slotOf.set(id, s);
      this.ids[s] = id;
      this.mean[s] = mean;
      this.peak[s] = peak;
      // a burst shape needs bursts to learn from: from fewer intervals with the template than a drop watch
      // needs, its dispersion is not trusted (the peak rule still covers the one or few bursts seen)
      this.disp[s] = present >= config.minTrainingIntervals ? dispersion : 1;
      this.firstSeen[s] = -Infinity;
      this.updated[s] = NaN; // set at the first line scored
      this.setLevel(s);
      if (T >= config.minTrainingIntervals && present >= config.regularShare * T) {
        // share of training intervals without it, Laplace-smoothed, so "always there" is not probability 0
        const q = (T - present + 1) / (T + 2);
        this.dropAfter[s] = Math.max(config.minDropIntervals, Math.ceil(Math.log(config.dropProbability) / Math.log(q)));
        this.watched.push(s);
      }
    }
  }

  get unit(): RateBaseline['unit'] {
    return this.baseline.unit;
  }

  get width(): number {
    return this.baseline.width;
  }

  /** Templates tracked now. */
  get size(): number {
    return this.used;
  }

  private setLevel(s: number): void {
    const c = this.config;
    this.level[s] = Math.max(c.minSurgeCount, Math.floor(c.peakFactor * this.peak[s]) + 1, surgeLevel(this.mean[s], this.disp[s], c.surgeProbability));
  }

  /**
   * Counts a line of template `id` at `time` (the baseline's unit). Returns 0 for a line within expectation,
   * else the count of its template in the interval so far: the line is part of a surge (the first such line
   * is the one where the count equals `surgeLevelOfLast`).
   */
  observe(id: number, time: number): number {
    const b = Math.floor(time / this.baseline.width);
    if (b > this.bucket) this.advance(b);
    else if (b < this.bucket - this.backIntervals) this.restart(b);
    const bucket = this.bucket;
    let s = this.slotOf.get(id);
    if (s === undefined) s = this.admit(id, bucket);
    this.last = s;
    if (this.countBucket[s] !== bucket) this.close(s, bucket);
    const n = ++this.count[s];
    if (this.dropped[s] === 1) this.dropped[s] = 0;
    if (bucket - this.firstSeen[s] < this.config.warmupIntervals) return 0;
    return n >= this.level[s] ? n : 0;
  }

  /** Expected count per interval of the last observed line's template. */
  get expectedOfLast(): number {
    return this.last < 0 ? 0 : this.mean[this.last];
  }

  /** Count at which the last observed line's template surges in this interval. */
  get surgeLevelOfLast(): number {
    return this.last < 0 ? 0 : this.level[this.last];
  }

  /**
   * People said the last observed line's surge is not an anomaly: its count in this interval becomes normal
   * traffic (the template's peak), so it is not a surge again at this rate, without waiting for retraining.
   */
  acceptLast(): void {
    const s = this.last;
    if (s < 0) return;
    if (this.count[s] > this.peak[s]) this.peak[s] = this.count[s];
    this.setLevel(s);
  }

  /**
   * People confirmed a surge of template `id` as an anomaly (`on`; false when the answer is withdrawn): its
   * expected count and peak no longer move with what arrives, so a surge that goes on does not become its
   * normal rate. False when the template is not tracked.
   */
  pin(id: number, on: boolean): boolean {
    const s = this.slotOf.get(id);
    if (s === undefined) return false;
    this.pinned[s] = on ? 1 : 0;
    return true;
  }

  /** People said a surge of `id` with `observed` lines is not an anomaly: that count becomes normal (its peak). */
  acceptCount(id: number, observed: number): boolean {
    const s = this.slotOf.get(id);
    if (s === undefined) return false;
    if (observed > this.peak[s]) this.peak[s] = observed;
    this.setLevel(s);
    return true;
  }

  /**
   * Moves the current interval to the one holding `time` (a timer in the service, when no line comes):
   * drops become visible even on a silent source.
   */
  advanceTo(time: number): void {
    const b = Math.floor(time / this.baseline.width);
    if (b > this.bucket) this.advance(b);
  }

  /** Drop events found since the last call. */
  takeDrops(): DropEvent[] {
    if (this.drops.length === 0) return NO_DROPS;
    const d = this.drops;
    this.drops = [];
    return d;
  }

  /**
   * The clock went back further than a late line can be (CLOCK_BACK_MS: a concatenated or replayed file): the
   * count restarts at `b`. Expectations stay; each template's interval starts afresh, its drop watch from `b`.
   */
  private restart(b: number): void {
    this.bucket = b;
    for (let s = 0; s < this.used; s++) {
      if (this.countBucket[s] > b) this.countBucket[s] = -Infinity;
      this.updated[s] = Math.min(this.updated[s], b - 1);
      if (this.firstSeen[s] > b) this.firstSeen[s] = b; // warm-up starts again
    }
  }

  private advance(b: number): void {
    const first = this.bucket === -Infinity;
    this.bucket = b;
    if (first) {
      // scoring starts here: the baseline's expectations hold from this interval on
      for (let s = 0; s < this.used; s++) if (Number.isNaN(this.updated[s])) this.updated[s] = b - 1;
      return;
    }
    for (const s of this.watched) {
      if (this.dropped[s] === 1 || this.slotOf.get(this.ids[s]) !== s) continue;
      const seen = this.countBucket[s] === -Infinity ? this.updated[s] : this.countBucket[s];
      const empty = b - seen - 1; // closed intervals since the last one with a line
      if (empty >= this.dropAfter[s]) {
        this.dropped[s] = 1;
        this.drops.push({ kind: 'drop', id: this.ids[s], emptyIntervals: empty, expected: this.mean[s], lastSeen: seen * this.baseline.width });
      }
    }
  }

  /** Folds the slot's finished interval (and the empty ones since) into its expectation, and starts `bucket`. */
  private close(s: number, bucket: number): void {
    const done = this.countBucket[s];
    const keep = 1 - this.w;
    let mean = this.mean[s];
    if (this.pinned[s] === 1) {
      // a confirmed surge: the expectation stays where it was
    } else if (done !== -Infinity) {
      const c = this.count[s];
      mean *= Math.pow(keep, Math.max(0, done - this.updated[s] - 1));
      // a surge does not teach the model that surges are normal: capped at the surge level
      mean = mean * keep + this.w * Math.min(c, this.level[s]);
      if (c < this.level[s] && c > this.peak[s]) this.peak[s] = c;
      mean *= Math.pow(keep, Math.max(0, bucket - done - 1));
    } else {
      mean *= Math.pow(keep, Math.max(0, bucket - this.updated[s] - 1));
    }
    this.mean[s] = mean;
    this.updated[s] = bucket - 1;
    this.countBucket[s] = bucket;
    this.count[s] = 0;
    this.setLevel(s);
  }

  /** A slot for a template first seen now: a free one, or the least recently seen (second-chance clock). */
  private admit(id: number, bucket: number): number {
    let s: number;
    if (this.used < this.ids.length) s = this.used++;
    else {
      // the first slot from the hand not counted in this interval; after a full turn, the one at the hand
      const n = this.ids.length;
      s = this.hand;
      for (let k = 0; k < n; k++) {
        const c = (this.hand + k) % n;
        if (this.countBucket[c] !== bucket) {
          s = c;
          break;
        }
      }
      this.hand = (s + 1) % n;
      this.slotOf.delete(this.ids[s]);
      this.evicted++;
      if (this.dropAfter[s] !== 0) this.watched.splice(this.watched.indexOf(s), 1);
    }
    this.slotOf.set(id, s);
    this.ids[s] = id;
    this.mean[s] = 0;
    this.peak[s] = 0;
    this.disp[s] = 1;
    this.count[s] = 0;
    this.countBucket[s] = -Infinity;
    this.updated[s] = bucket - 1;
    this.firstSeen[s] = bucket;
    this.dropAfter[s] = 0;
    this.dropped[s] = 0;
    this.pinned[s] = 0;
    this.setLevel(s);
    return s;
  }
}

const NO_DROPS: DropEvent[] = [];
