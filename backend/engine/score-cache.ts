// The per-template result cache of a model, keyed by the scanner's 53-bit template hash given as two
// integers (its high 32 and low 21 bits). An open-addressing table over typed arrays: a lookup allocates
// nothing, where a Map keyed by the 53-bit number boxes the key on every line (scoring's hottest lookup).

const MIN_CAPACITY = 1024;

export class ScoreCache<T> {
  private his = new Int32Array(MIN_CAPACITY);
  private los = new Int32Array(MIN_CAPACITY);
  private values: (T | undefined)[] = new Array<T | undefined>(MIN_CAPACITY).fill(undefined);
  private mask = MIN_CAPACITY - 1;
  size = 0;

  private static slot(hi: number, lo: number, mask: number): number {
    return (Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) >>> 7) & mask;
  }

  get(hi: number, lo: number): T | undefined {
    const mask = this.mask;
    for (let i = ScoreCache.slot(hi, lo, mask); ; i = (i + 1) & mask) {
      const v = this.values[i];
      if (v === undefined || (this.his[i] === hi && this.los[i] === lo)) return v;
    }
  }

  /** Adds an entry whose key is not in the cache yet. */
  add(hi: number, lo: number, value: T): void {
    if ((this.size + 1) * 2 > this.values.length) this.grow();
    const mask = this.mask;
    let i = ScoreCache.slot(hi, lo, mask);
    while (this.values[i] !== undefined) i = (i + 1) & mask;
    this.his[i] = hi;
    this.los[i] = lo;
    this.values[i] = value;
    this.size++;
  }

  clear(): void {
    this.his = new Int32Array(MIN_CAPACITY);
    this.los = new Int32Array(MIN_CAPACITY);
    this.values = new Array<T | undefined>(MIN_CAPACITY).fill(undefined);
    this.mask = MIN_CAPACITY - 1;
    this.size = 0;
  }

  /** Doubles the table (kept at most half full, so probe runs stay short). */
  private grow(): void {
    const { his, los, values } = this;
    const capacity = values.length * 2;
    this.his = new Int32Array(capacity);
    this.los = new Int32Array(capacity);
    this.values = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.size = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== undefined) this.add(his[i], los[i], v);
    }
  }
}
