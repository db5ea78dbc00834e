/** Lines per second over the last `ticks` one-second ticks (a ring of per-tick counts). */
export class Throughput {
  private readonly perTick: Float64Array;
  private tickIndex = 0;
  private atLastTick = 0;

  constructor(ticks = 10) {
    this.perTick = new Float64Array(ticks);
  }

  /** Called once a second with the running total of lines. */
  tick(total: number): void {
    this.perTick[this.tickIndex] = total - this.atLastTick;
    this.tickIndex = (this.tickIndex + 1) % this.perTick.length;
    this.atLastTick = total;
  }

  get linesPerSecond(): number {
    let sum = 0;
    for (const n of this.perTick) sum += n;
    return sum / this.perTick.length;
  }
}
