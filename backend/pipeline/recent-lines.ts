/**
 * The newest lines of a source, a fixed-size ring: the training set of the next retraining and the window the
 * review queue looks at. Bounded by construction (retrainLines), whatever the input rate.
 */
export class RecentLines {
  private readonly ring: string[];
  /** Each kept line's arrival time (epoch ms; NaN when not given): the rate baseline's clock for untimed lines. */
  private readonly arrivals: Float64Array;
  private next = 0;
  private count = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`RecentLines capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<string>(capacity);
    this.arrivals = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(line: string, arrivalMs = NaN): void {
    this.ring[this.next] = line;
    this.arrivals[this.next] = arrivalMs;
    this.next = (this.next + 1) % this.ring.length;
    if (this.count < this.ring.length) this.count++;
  }

  /** Forgets every line (the ring's memory is reused). */
  clear(): void {
    this.next = this.count = 0;
    this.ring.fill(undefined as unknown as string);
  }

  /** The kept lines, oldest first (a copy: the ring keeps moving while a training reads it). */
  lines(): string[] {
    const cap = this.ring.length;
    const out = new Array<string>(this.count);
    const start = (this.next - this.count + cap) % cap;
    for (let i = 0; i < this.count; i++) out[i] = this.ring[(start + i) % cap];
    return out;
  }

  /** The kept lines' arrival times, in the order of `lines()`. */
  times(): Float64Array {
    const cap = this.ring.length;
    const out = new Float64Array(this.count);
    const start = (this.next - this.count + cap) % cap;
    for (let i = 0; i < this.count; i++) out[i] = this.arrivals[(start + i) % cap];
    return out;
  }
}
