// Event counts: where in the training window a template's lines fall, so that a burst counts as one event.
//
// Rarity counts lines. A failure that fires 60 times in one afternoon of the training window (BGL's
// `data TLB error interrupt`) then looks as ordinary as a heartbeat that fires 60 times spread over the whole
// window, and the model learns the failure as normal: the issue's "half of the alerts missed are lines whose
// template already occurs in the training window". Here a template's lines count by how far they spread:
// the window is cut into B = ceil(sqrt(N)) equal parts by line position, and a template with c lines found
// in s parts, where c lines placed at random would fill E[s] = B(1 - (1 - 1/B)^c) parts, weighs
// c * min(1, s / E[s]). A heartbeat or any line spread at least as evenly as chance keeps its full count;
// a burst confined to one part weighs about one line per part it touches.
//
// Positions need no timestamps (line order is time order in a stream) and memory stays bounded: a template
// keeps the first fine bucket it was seen in, and a 1024-bit set only once it shows up in a second one.
// Fine buckets double in size as the window grows, folding every set exactly (bucket i goes to i >> 1).

/** Fine buckets a template's positions are recorded in (bits of one `Spread.bits`). */
export const FINE_BUCKETS = 1024;
const WORDS = FINE_BUCKETS / 32;

/** Which fine buckets one template's lines fell in. */
export interface Spread {
  first: number;
  bits: Uint32Array | null;
}

export function newSpread(bucket: number): Spread {
  return { first: bucket, bits: null };
}

/** Records a line of the template in fine bucket `bucket`. */
export function markSpread(s: Spread, bucket: number): void {
  if (s.bits === null) {
    if (bucket === s.first) return;
    s.bits = new Uint32Array(WORDS);
    s.bits[s.first >>> 5] |= 1 << (s.first & 31);
  }
  s.bits[bucket >>> 5] |= 1 << (bucket & 31);
}

/** Halves the resolution: fine bucket i becomes i >> 1 (the buckets doubled in size). */
export function foldSpread(s: Spread, scratch: Uint32Array): void {
  s.first >>>= 1;
  const bits = s.bits;
  if (bits === null) return;
  scratch.fill(0);
  for (let w = 0; w < WORDS; w++) {
    let v = bits[w];
    while (v !== 0) {
      const b = 31 - Math.clz32(v);
      v &= ~(1 << b);
      const i = ((w << 5) | b) >>> 1;
      scratch[i >>> 5] |= 1 << (i & 31);
    }
  }
  bits.set(scratch);
}

/** Coarse buckets (`group` fine buckets each) holding at least one line of the template. */
export function spreadCount(s: Spread, group: number): number {
  if (s.bits === null) return 1;
  let count = 0;
  let last = -1;
  for (let w = 0; w < WORDS; w++) {
    let v = s.bits[w];
    while (v !== 0) {
      const b = 31 - Math.clz32(v & -v); // lowest set bit first, so coarse buckets come in order
      v &= v - 1;
      const coarse = Math.floor(((w << 5) | b) / group);
      if (coarse !== last) {
        count++;
        last = coarse;
      }
    }
  }
  return count;
}

/** Line positions of the training window, in fine buckets that double in size as lines come. */
export class PositionClock {
  /** Lines per fine bucket. */
  size = 1;
  lines = 0;

  /** Advances one line; returns its fine bucket, or -1 when the buckets must double first (call `doubled`). */
  tick(): number {
    const b = Math.floor(this.lines / this.size);
    if (b >= FINE_BUCKETS) return -1;
    this.lines++;
    return b;
  }

  doubled(): void {
    this.size *= 2;
  }

  /** Fine buckets per coarse bucket (ceil(sqrt(N)) lines each) and the number of coarse buckets. */
  coarse(): { group: number; buckets: number } {
    const fine = Math.max(1, Math.ceil(this.lines / this.size));
    const group = Math.max(1, Math.round(Math.ceil(Math.sqrt(this.lines)) / this.size));
    return { group, buckets: Math.ceil(fine / group) };
  }
}

/** Coarse buckets `lines` lines placed at random among `buckets` would fill, on average. */
export function expectedSpread(lines: number, buckets: number): number {
  return buckets <= 1 ? 1 : buckets * (1 - Math.pow(1 - 1 / buckets, lines));
}

/** The events `lines` lines found in `spread` of `buckets` coarse buckets count for (at most `lines`). */
export function eventCount(lines: number, spread: number, buckets: number): number {
  if (lines <= 1) return lines;
  return lines * Math.min(1, spread / expectedSpread(lines, buckets));
}
