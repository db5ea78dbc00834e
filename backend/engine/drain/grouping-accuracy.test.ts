import { groupingAccuracy } from './grouping-accuracy';

describe('groupingAccuracy (Loghub definition)', () => {
  it('counts a line only when its template groups exactly the lines of its event', () => {
    expect(groupingAccuracy(['a', 'a', 'b'], ['x', 'x', 'y'])).toBe(1);
    // over-merged: the three lines of template a hold two events, so none of them counts
    expect(groupingAccuracy(['a', 'a', 'a'], ['x', 'x', 'y'])).toBe(0);
    // over-split: event x spread over a and b; only y's line counts
    expect(groupingAccuracy(['a', 'b', 'c'], ['x', 'x', 'y'])).toBeCloseTo(1 / 3);
  });
  it('refuses lists of different lengths', () => {
    expect(() => groupingAccuracy(['a'], [])).toThrow(/1 templates for 0 events/);
  });
});
