import { carryTemplates, RateBaselineBuilder, rateBaselineSchema } from './baseline';
import type { RateBaseline } from './baseline';
import { rateConfigSchema } from './config';
import type { RateConfig } from './config';
import { RateModel } from './model';
import { poissonSurgeLevel, surgeLevel } from './poisson';

const MIN = 60_000;
const config = (over: Partial<RateConfig> = {}): RateConfig => rateConfigSchema.parse(over);

/** A baseline from `intervals` training minutes where template id has counts[id](interval) lines. */
function baselineOf(intervals: number, counts: Record<number, (i: number) => number>, c = config()): RateBaseline {
  const b = new RateBaselineBuilder(c);
  for (let i = 0; i < intervals; i++) for (const [id, f] of Object.entries(counts)) for (let k = 0; k < f(i); k++) b.add(Number(id), i * MIN + k);
  return b.build();
}

/** Feeds `n` lines of `id` in minute `minute`; returns how many were flagged as surge lines. */
function feed(m: RateModel, id: number, minute: number, n: number): number {
  let flagged = 0;
  for (let k = 0; k < n; k++) if (m.observe(id, minute * MIN + k) > 0) flagged++;
  return flagged;
}

describe('poissonSurgeLevel', () => {
  it('is the least count with an upper tail at most p', () => {
    // P(X >= 7 | 1) = 8.3e-5, P(X >= 8 | 1) = 1.0e-5
    expect(poissonSurgeLevel(1, 1e-4)).toBe(7);
    expect(poissonSurgeLevel(1, 2e-5)).toBe(8);
    expect(poissonSurgeLevel(0, 1e-6)).toBe(1);
    // large means: normal approximation, close to mean + 4.75 sd at 1e-6
    const big = poissonSurgeLevel(10_000, 1e-6);
    expect(big).toBeGreaterThan(10_000 + 4.6 * 100);
    expect(big).toBeLessThan(10_000 + 5.0 * 100);
  });
});

describe('surgeLevel', () => {
  it('is Poisson at dispersion 1 and higher for a bursty count of the same mean', () => {
    expect(surgeLevel(1, 1, 1e-6)).toBe(poissonSurgeLevel(1, 1e-6));
    // NB(r = 1, q = 1/2) is geometric: P(X ≥ x) = 2^−x, so the least x with 2^−x ≤ 1e-6 is 20
    expect(surgeLevel(1, 2, 1e-6)).toBe(20);
    expect(surgeLevel(1, 10, 1e-6)).toBeGreaterThan(surgeLevel(1, 2, 1e-6));
  });
});

describe('RateBaselineBuilder', () => {
  it('learns mean, peak and presence per template over the intervals spanned', () => {
    const b = baselineOf(10, { 1: () => 3, 2: (i) => (i === 4 ? 12 : 0) }, config({ minTrainingIntervals: 2 }));
    expect(b.unit).toBe('ms');
    expect(b.intervals).toBe(10);
    // template 2: one interval of 12 in 10, variance 14.4 − 1.2² = 12.96, dispersion 12.96 / 1.2 = 10.8
    expect(b.templates).toEqual([
      [1, 3, 3, 10, 1],
      [2, 1.2, 12, 1, 10.8],
    ]);
  });

  it('falls back to line order when most lines carry no time; a line without a time takes the previous one', () => {
    const b = new RateBaselineBuilder(config({ intervalLines: 10 }));
    for (let i = 0; i < 30; i++) b.add(i % 2, NaN);
    expect(b.build()).toMatchObject({ unit: 'lines', width: 10, intervals: 3, templates: [[0, 5, 5, 3, 1], [1, 5, 5, 3, 1]] });
    const timed = new RateBaselineBuilder(config({ minTrainingIntervals: 2 }));
    timed.add(1, 0);
    timed.add(1, NaN);
    timed.add(1, 2 * MIN);
    // a short window (3 intervals): the mean is over the time covered (2 min 1 s), and the last interval,
    // covered for 1 s of its 60, counts as a full one scaled by the least coverage (a tenth): 1 / 0.1
    expect(timed.build()).toMatchObject({ unit: 'ms', intervals: 3, templates: [[1, 3 / (121 / 60), 10, 2, 1]] });
  });

  it('narrows the interval for a window shorter than minTrainingIntervals intervals', () => {
    // lines over 5 minutes and a second: 60 s would give 5 intervals; 30 s gives 10
    expect(baselineOf(6, { 1: () => 1 }).width).toBe(30_000);
    expect(baselineOf(20, { 1: () => 1 }).width).toBe(60_000);
    // 20 seconds: the narrowest candidate at or above 1 s (60 s / 2^5 = 1.875 s) spans it 10 times
    const b = new RateBaselineBuilder(config());
    for (let i = 0; i < 30; i++) b.add(1, i * 700);
    expect(b.build()).toMatchObject({ unit: 'ms', width: 1875 });
    // 3 seconds: too short even for that: one burst in time, counted in line order
    const burst = new RateBaselineBuilder(config({ intervalLines: 10 }));
    for (let i = 0; i < 30; i++) burst.add(1, i * 100);
    expect(burst.build()).toMatchObject({ unit: 'lines', width: 10, intervals: 3 });
  });

  it('restarts its count where the clock goes back more than an hour (a concatenated file), not before', () => {
    const b = new RateBaselineBuilder(config());
    for (let i = 0; i < 20; i++) b.add(1, (1000 + i) * MIN);
    for (let i = 0; i < 20; i++) b.add(1, i * MIN); // the file starts again, 1,000 minutes earlier
    // 40 intervals of one line each; without the restart the second 20 would count in minute 1019
    expect(b.build()).toMatchObject({ intervals: 40, templates: [[1, 1, 1, 40, 1]] });
    const late = new RateBaselineBuilder(config());
    for (let i = 0; i < 20; i++) late.add(1, (100 + i) * MIN);
    late.add(1, 90 * MIN); // ten minutes late: counted in the current minute
    expect(late.build()).toMatchObject({ intervals: 20, templates: [[1, 21 / 20, 2, 20, 1]] });
  });

  it('carryTemplates: confirmed templates keep the previous rate, presence rescaled; other units untouched', () => {
    const prev = baselineOf(60, { 1: () => 1, 2: () => 2 });
    const next = baselineOf(30, { 1: (i) => (i === 3 ? 150 : 0), 2: () => 2 });
    const carried = carryTemplates(next, prev, [1, 7]);
    expect(carried.templates).toEqual([
      [1, 1, 1, 30, 1],
      [2, 2, 2, 30, 1],
    ]);
    expect(carryTemplates({ ...next, width: 30_000 }, prev, [1])).toEqual({ ...next, width: 30_000 });
  });

  it('reads a version 1 baseline (no dispersion) as Poisson', () => {
    const v1 = rateBaselineSchema.parse({ version: 1, unit: 'ms', width: MIN, intervals: 3, templates: [[1, 2, 3, 3]] });
    expect(v1.templates).toEqual([[1, 2, 3, 3, 1]]);
  });
});

describe('RateModel', () => {
  it('flags the lines of a known template beyond its surge level, not its normal traffic', () => {
    const m = new RateModel(config(), baselineOf(60, { 1: () => 2, 2: () => 5 }));
    for (let t = 60; t < 120; t++) {
      expect(feed(m, 1, t, 2)).toBe(0);
      expect(feed(m, 2, t, 5)).toBe(0);
    }
    // 150 lines of template 1 in one minute: the 20th and later are surge lines
    expect(feed(m, 1, 120, 150)).toBe(131);
    expect(m.expectedOfLast).toBeCloseTo(2, 1);
    expect(m.surgeLevelOfLast).toBe(20);
    // the surge did not become normal: the next minute's burst is a surge again
    expect(feed(m, 1, 121, 150)).toBe(131);
  });

  it('"not an anomaly" on a surge makes its rate normal at once', () => {
    const m = new RateModel(config(), baselineOf(60, { 1: () => 2 }));
    expect(feed(m, 1, 100, 30)).toBe(11); // lines 20 to 30
    m.acceptLast(); // the 30th line was answered "not an anomaly"
    expect(feed(m, 1, 100, 10)).toBe(0); // the rest of the minute: 40 lines, under 1.5 × 30
    expect(feed(m, 1, 101, 45)).toBe(0); // the same rate later: normal (up to 1.5 × the new peak)
  });

  it('tolerates the bursts training saw (peak), and needs a material count', () => {
    // template 1: one line in most training minutes, 30 in one
    // (template 2 in every minute: the training window spans 60 intervals)
    const base = baselineOf(60, { 1: (i) => (i === 7 ? 30 : i % 2), 2: () => 1 });
    expect(feed(new RateModel(config(), base), 1, 100, 45)).toBe(0); // up to 1.5 × 30
    const m = new RateModel(config(), base);
    const level = m.observe(1, 100 * MIN) === 0 ? m.surgeLevelOfLast : NaN;
    expect(level).toBeGreaterThanOrEqual(46);
    expect(feed(m, 1, 100, level - 1)).toBe(1); // the line reaching the level
    // a busy interval below the surge level is normal traffic: it raises the peak
    expect(feed(m, 1, 101, 40)).toBe(0);
    expect(feed(m, 1, 102, 60)).toBe(0); // peak 40: up to 60
    // a rare template: 19 lines are fewer than minSurgeCount
    const rare = new RateModel(config(), baselineOf(60, { 3: (i) => (i === 0 ? 1 : 0), 2: () => 1 }));
    expect(feed(rare, 3, 100, 19)).toBe(0);
  });

  it('needs a higher bar for a template that arrived in bursts in training than for a steady one of the same mean', () => {
    // both average 1 a minute over 120 training minutes: one line every minute, or 12 every twelfth minute
    const base = baselineOf(120, { 1: () => 1, 2: (i) => (i % 12 === 0 ? 12 : 0) });
    expect(base.templates.map((t) => t[4])).toEqual([1, 11]);
    const steady = new RateModel(config(), base);
    const bursty = new RateModel(config(), base);
    steady.observe(1, 100 * MIN);
    bursty.observe(2, 100 * MIN);
    expect(steady.surgeLevelOfLast).toBe(20); // Poisson(1) at 1e-6 is 10: minSurgeCount
    expect(bursty.surgeLevelOfLast).toBe(surgeLevel(1, 11, 1e-6));
    expect(bursty.surgeLevelOfLast).toBeGreaterThan(Math.floor(1.5 * 12) + 1);
    // 60 lines in a minute: a surge of the steady template, within the bursty one's own shape
    expect(feed(steady, 1, 101, 60)).toBe(41);
    expect(feed(bursty, 2, 101, 60)).toBe(0);
  });

  it('trusts a burst shape only from at least minTrainingIntervals intervals with the template', () => {
    // 12 lines every twelfth minute: 5 bursts in 60 minutes, fewer than 10
    const m = new RateModel(config(), baselineOf(60, { 1: () => 1, 2: (i) => (i % 12 === 0 ? 12 : 0) }));
    m.observe(2, 100 * MIN);
    expect(m.surgeLevelOfLast).toBe(20); // Poisson(1) and 1.5 × 12 + 1 are below minSurgeCount
    const trusted = new RateModel(config({ minTrainingIntervals: 5 }), baselineOf(60, { 1: () => 1, 2: (i) => (i % 12 === 0 ? 12 : 0) }));
    trusted.observe(2, 100 * MIN);
    expect(trusted.surgeLevelOfLast).toBe(surgeLevel(1, 11, 1e-6));
  });

  it('restarts the count when the clock goes back more than an hour', () => {
    const m = new RateModel(config(), baselineOf(60, { 1: () => 5 }));
    feed(m, 1, 1000, 15);
    // the same file again from minute 0: each minute's 15 lines are normal, not 15 × 20 in minute 1000
    let flagged = 0;
    for (let t = 0; t < 20; t++) flagged += feed(m, 1, t, 15);
    expect(flagged).toBe(0);
  });

  it('a pinned template (confirmed surge) keeps its expectation and peak while a surge goes on', () => {
    const base = baselineOf(60, { 1: () => 2 });
    const free = new RateModel(config({ updateIntervals: 10 }), base);
    const pinned = new RateModel(config({ updateIntervals: 10 }), base);
    expect(pinned.pin(1, true)).toBe(true);
    expect(pinned.pin(99, true)).toBe(false); // not tracked
    for (let t = 100; t < 120; t++) {
      feed(free, 1, t, 19); // just under the surge level: normal traffic that raises the expectation
      feed(pinned, 1, t, 19);
    }
    free.observe(1, 120 * MIN);
    pinned.observe(1, 120 * MIN);
    expect(free.expectedOfLast).toBeGreaterThan(15);
    expect(pinned.expectedOfLast).toBeCloseTo(2, 5);
    expect(pinned.surgeLevelOfLast).toBe(20);
  });

  it('acceptCount: a surge answered "not an anomaly" by its count becomes the peak', () => {
    const m = new RateModel(config(), baselineOf(60, { 1: () => 2 }));
    expect(m.acceptCount(1, 100)).toBe(true);
    expect(feed(m, 1, 100, 150)).toBe(0); // up to 1.5 × 100
  });

  it('counts an out-of-order line in the current interval', () => {
    const m = new RateModel(config(), baselineOf(60, { 1: () => 1 }));
    feed(m, 1, 100, 15);
    let flagged = 0;
    for (let k = 0; k < 10; k++) if (m.observe(1, 90 * MIN) > 0) flagged++; // stamped ten minutes ago
    expect(flagged).toBe(6); // lines 20 to 25 of minute 100
  });

  it('judges a template first seen while scoring only after its warm-up', () => {
    const m = new RateModel(config({ warmupIntervals: 10 }), baselineOf(60, { 1: () => 1 }));
    expect(feed(m, 9, 100, 100)).toBe(0);
    for (let t = 101; t < 110; t++) feed(m, 9, t, 1);
    expect(feed(m, 9, 110, 200)).toBeGreaterThan(0);
  });

  it('reports a regular template that stops, within 2 intervals, once, and again after it came back', () => {
    const m = new RateModel(config(), baselineOf(60, { 1: () => 1, 2: (i) => (i % 7 === 0 ? 1 : 0) }));
    for (let t = 60; t < 100; t++) feed(m, 1, t, 1);
    // template 1 stops after minute 99; template 2 (occasional) is never watched
    m.advanceTo(101 * MIN);
    expect(m.takeDrops()).toEqual([]);
    m.advanceTo(102 * MIN);
    const d = m.takeDrops();
    expect(d).toEqual([{ kind: 'drop', id: 1, emptyIntervals: 2, expected: expect.closeTo(1, 1), lastSeen: 99 * MIN }]);
    m.advanceTo(110 * MIN);
    expect(m.takeDrops()).toEqual([]);
    feed(m, 1, 110, 1);
    m.advanceTo(113 * MIN);
    expect(m.takeDrops().map((e) => e.id)).toEqual([1]);
  });

  it('needs more empty intervals for a template that was missing now and then in training', () => {
    // present in 10 of 11 training intervals → q = 2/13, q^k ≤ 1e-3 at k = 4
    const m = new RateModel(config(), baselineOf(11, { 1: (i) => (i === 3 ? 0 : 1) }));
    feed(m, 1, 20, 1);
    m.advanceTo(24 * MIN);
    expect(m.takeDrops()).toEqual([]);
    m.advanceTo(25 * MIN);
    expect(m.takeDrops().map((e) => e.emptyIntervals)).toEqual([4]);
  });

  it('keeps at most maxTemplates, forgetting the least recently seen', () => {
    const m = new RateModel(config({ maxTemplates: 4 }), baselineOf(1, { 1: () => 1 }));
    for (let id = 10; id < 20; id++) feed(m, id, 5 + id, 1);
    expect(m.size).toBe(4);
    expect(m.evicted).toBe(7);
  });
});
