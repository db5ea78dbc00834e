import { eventCount, expectedSpread, FINE_BUCKETS, foldSpread, markSpread, newSpread, PositionClock, spreadCount } from './events';
import { trainModelSync } from './train';

/** Positions of `lines` lines through a clock, marking each in `spread` (doubling and folding as training does). */
function place(positions: readonly number[], total: number): { spread: ReturnType<typeof newSpread>; clock: PositionClock } {
  const clock = new PositionClock();
  const scratch = new Uint32Array(FINE_BUCKETS / 32);
  let spread: ReturnType<typeof newSpread> | null = null;
  const at = new Set(positions);
  for (let i = 0; i < total; i++) {
    let b = clock.tick();
    while (b < 0) {
      clock.doubled();
      if (spread !== null) foldSpread(spread, scratch);
      b = clock.tick();
    }
    if (!at.has(i)) continue;
    if (spread === null) spread = newSpread(b);
    else markSpread(spread, b);
  }
  return { spread: spread!, clock };
}

describe('event counts', () => {
  it('a burst confined to one stretch of the window counts as about one event per bucket it touches', () => {
    const total = 10_000; // about sqrt(10,000) = 100 coarse buckets (whole fine buckets of 16 lines: 105 of 96)
    const burst = Array.from({ length: 60 }, (_, i) => 5_000 + i);
    const { spread, clock } = place(burst, total);
    const { group, buckets } = clock.coarse();
    expect(Math.abs(buckets - 100)).toBeLessThanOrEqual(10);
    expect(spreadCount(spread, group)).toBe(1);
    const events = eventCount(60, spreadCount(spread, group), buckets);
    expect(events).toBeGreaterThan(1);
    expect(events).toBeLessThan(3);
  });

  it('lines spread over the whole window keep their count', () => {
    const total = 10_000;
    const even = Array.from({ length: 60 }, (_, i) => i * 166);
    const { spread, clock } = place(even, total);
    const { group, buckets } = clock.coarse();
    expect(spreadCount(spread, group)).toBe(60);
    expect(eventCount(60, spreadCount(spread, group), buckets)).toBe(60);
  });

  it('folding is exact: the coarse spread is the same as counting positions directly', () => {
    const total = 50_000;
    const positions = [3, 900, 901, 17_000, 17_050, 33_333, 49_999];
    const { spread, clock } = place(positions, total);
    const { group, buckets } = clock.coarse();
    const linesPerBucket = group * clock.size;
    expect(buckets).toBe(Math.ceil(Math.ceil(total / clock.size) / group));
    expect(spreadCount(spread, group)).toBe(new Set(positions.map((p) => Math.floor(p / linesPerBucket))).size);
  });

  it('expects c lines at random to fill about c buckets when c is small and every bucket when c is large', () => {
    expect(expectedSpread(1, 100)).toBeCloseTo(1, 9);
    expect(expectedSpread(3, 1000)).toBeCloseTo(3, 1);
    expect(expectedSpread(10_000, 100)).toBeCloseTo(100, 6);
  });

  it('a failure burst in the training window scores higher with event counts than without', () => {
    const normal = (i: number): string => `INFO worker ${i % 7} finished job ${i} in ${i % 50} ms`;
    const lines: string[] = [];
    for (let i = 0; i < 4_000; i++) lines.push(i >= 2_000 && i < 2_040 ? `ERROR disk controller reset on bus ${i % 3}` : normal(i));
    const failure = 'ERROR disk controller reset on bus 9';
    const off = trainModelSync(lines, { config: { eventCounts: false, neural: { enabled: false } } });
    const on = trainModelSync(lines, { config: { eventCounts: true, neural: { enabled: false } } });
    expect(on.components(failure).combined).toBeGreaterThan(off.components(failure).combined + 2);
    // the everyday line is unchanged (within float noise): it is spread over the whole window
    expect(on.components(normal(123)).combined).toBeCloseTo(off.components(normal(123)).combined, 1);
  });
});
