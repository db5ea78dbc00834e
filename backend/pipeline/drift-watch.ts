/**
 * Drift: the share of flagged lines over the newest `window` scored lines, kept as a ring of flags and a
 * running sum (O(1) per line, no allocation), so the pipeline can retrain early when it climbs past `ratio`.
 */
export class DriftWatch {
  private readonly flags: Uint8Array;
  private next = 0;
  private count = 0;
  private sum = 0;

  constructor(
    window: number,
    private readonly ratio: number,
  ) {
    this.flags = new Uint8Array(window);
  }

  observe(flagged: boolean): void {
    const v = flagged ? 1 : 0;
    this.sum += v - this.flags[this.next];
    this.flags[this.next] = v;
    this.next = (this.next + 1) % this.flags.length;
    if (this.count < this.flags.length) this.count++;
  }

  /** The flagged share over the window; null until the window is full (a few early lines prove nothing). */
  get share(): number | null {
    return this.count < this.flags.length ? null : this.sum / this.count;
  }

  /** True once the window is full and its flagged share exceeds the ratio (ratio 0 turns drift off). */
  get drifted(): boolean {
    const share = this.share;
    return this.ratio > 0 && share !== null && share > this.ratio;
  }

  /** A new model starts a new window: the old model's flags say nothing about it. */
  reset(): void {
    this.flags.fill(0);
    this.next = this.count = this.sum = 0;
  }
}
