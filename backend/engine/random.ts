/**
 * A small seeded pseudo-random generator (mulberry32) for everything in the engine that must be reproducible:
 * the same seed gives the same sequence on every machine, because it uses only 32-bit integer arithmetic
 * (Math.imul and shifts), never Math.random or floating-point state.
 *
 * mulberry32 has a period of 2^32 and passes gjrand/PractRand well enough for weight initialisation and
 * negative sampling; it is not for cryptography.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Fold any number (including negatives and fractions) into a 32-bit state; 0 is a valid state.
    this.state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n) for 0 < n <= 2^32. */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }
}
