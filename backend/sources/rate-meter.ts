/**
 * Events per second over a sliding window of whole seconds (default 10 s): cheap enough to call on every
 * batch, and smooth enough for a status page. Sources use it for SourceStatus.linesPerSecond.
 */
export class RateMeter {
  private readonly counts: Float64Array;
  private readonly seconds: Float64Array;

  constructor(
    private readonly windowSeconds = 10,
    private readonly now: () => number = Date.now
  ) {
    this.counts = new Float64Array(windowSeconds);
    this.seconds = new Float64Array(windowSeconds).fill(-1);
  }

  add(count: number): void {
    const second = Math.floor(this.now() / 1000);
    const slot = second % this.windowSeconds;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot] += count;
  }

  /** Average over the window's completed seconds plus the current one. */
  perSecond(): number {
    const nowMs = this.now();
    const second = Math.floor(nowMs / 1000);
    let total = 0;
    for (let i = 0; i < this.windowSeconds; i++) {
      if (this.seconds[i] > second - this.windowSeconds) {
        total += this.counts[i];
      }
    }
    const elapsed = this.windowSeconds - 1 + (nowMs % 1000) / 1000;
    return total / elapsed;
  }
}
