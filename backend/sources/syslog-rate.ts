/**
 * Lines per second over the last few seconds, for SourceStatus.linesPerSecond. One counter per second in
 * a fixed ring (no allocation per line). Used by the syslog and pull sources; it would sit better in a
 * shared sources module (named syslog-* only because of file ownership).
 */
const WINDOW_SECONDS = 10;

export class RateMeter {
  private readonly counts = new Float64Array(WINDOW_SECONDS);
  private readonly seconds = new Float64Array(WINDOW_SECONDS).fill(-1);

  constructor(private readonly now: () => number = Date.now) {}

  add(n: number): void {
    const second = Math.floor(this.now() / 1000);
    const slot = second % WINDOW_SECONDS;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot] += n;
  }

  /** Average over the completed seconds of the window (the current, partial second is left out). */
  perSecond(): number {
    const current = Math.floor(this.now() / 1000);
    let total = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      const s = this.seconds[i];
      if (s < current && s >= current - (WINDOW_SECONDS - 1)) total += this.counts[i];
    }
    return total / (WINDOW_SECONDS - 1);
  }
}
