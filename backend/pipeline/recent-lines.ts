import type { MemoryBudget, RetainedWindow } from '../server/memory-budget';

/**
 * The newest lines of a source, a fixed-size ring: the training set of the next retraining and the window the
 * review queue looks at. Bounded by construction, whatever the input rate: at most `capacity` lines
 * (retrainLines) and at most `maxChars` characters of line text (retrainChars), so lines of 64 KiB cannot make
 * a window of 20,000 lines hold 1.3 GB. The oldest lines go first, whichever bound a new line would pass, or
 * when the process-wide budget (memory-budget.ts), if given, shrinks it.
 */
/** The fewest lines a retraining takes when the window is full by characters (the schema's least minLines). */
const MIN_LINES_BY_CHARS = 10;

export class RecentLines implements RetainedWindow {
  readonly kind = 'retrain';
  private readonly ring: string[];
  /** Each kept line's arrival time (epoch ms; NaN when not given): the rate baseline's clock for untimed lines. */
  private readonly arrivals: Float64Array;
  private next = 0;
  private count = 0;
  /** Characters of the kept lines: a running total, updated on push and eviction. */
  private chars = 0;

  constructor(
    capacity: number,
    /** Most characters of line text kept; a longer single line is kept alone (the newest line is never dropped). */
    readonly maxChars = Infinity,
    private readonly budget?: MemoryBudget
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`RecentLines capacity must be a positive integer, got ${capacity}`);
    if (!(maxChars >= 1)) throw new RangeError(`RecentLines maxChars must be at least 1, got ${maxChars}`);
    this.ring = new Array<string>(capacity);
    this.arrivals = new Float64Array(capacity);
    budget?.register(this);
  }

  get size(): number {
    return this.count;
  }

  /** Characters of line text kept now (at most maxChars, unless the newest line alone is longer). */
  get totalChars(): number {
    return this.chars;
  }

  get heldChars(): number {
    return this.chars;
  }

  /**
   * Enough lines to retrain on: `minLines`, or what the character bound holds when that is fewer (another line as
   * long as the window's average would pass maxChars), at least MIN_LINES_BY_CHARS. 64 KiB lines fill the default
   * retrainChars (10 M) at about 160, and such a source never retrained.
   */
  holdsEnoughToRetrain(minLines: number): boolean {
    if (this.count >= minLines) return true;
    const fullByChars = this.count > 0 && this.chars + this.chars / this.count > this.maxChars;
    return fullByChars && this.count >= MIN_LINES_BY_CHARS;
  }

  push(line: string, arrivalMs = NaN): void {
    const before = this.chars;
    const cap = this.ring.length;
    // the slot about to be overwritten holds the oldest line once the ring is full
    if (this.count === cap) this.chars -= this.ring[this.next].length;
    else this.count++;
    this.ring[this.next] = line;
    this.arrivals[this.next] = arrivalMs;
    this.next = (this.next + 1) % cap;
    this.chars += line.length;
    while (this.chars > this.maxChars && this.count > 1) this.dropOldest();
    this.budget?.addRetained(this.chars - before);
  }

  /** Drops the oldest lines until at most `chars` are kept (the newest stays): the process-wide budget's eviction. */
  shrinkTo(chars: number): number {
    const before = this.chars;
    let dropped = 0;
    for (; this.chars > chars && this.count > 1; dropped++) this.dropOldest();
    this.budget?.addRetained(this.chars - before);
    return dropped;
  }

  private dropOldest(): void {
    const cap = this.ring.length;
    const oldest = (this.next - this.count + cap) % cap;
    this.chars -= this.ring[oldest].length;
    this.ring[oldest] = undefined as unknown as string;
    this.count--;
  }

  /** Forgets every line (the ring's memory is reused). */
  clear(): void {
    this.budget?.addRetained(-this.chars);
    this.next = this.count = this.chars = 0;
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

  /** The arrival value pushed with the newest kept line whose text is `line`, null when none is kept. */
  newestArrivalOf(line: string): number | null {
    const cap = this.ring.length;
    for (let k = 1; k <= this.count; k++) {
      const i = (this.next - k + cap) % cap;
      if (this.ring[i] === line) return this.arrivals[i];
    }
    return null;
  }
}
