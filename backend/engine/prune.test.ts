import { pruneSmallest, pruneTarget } from './prune';

describe('pruneSmallest: a count table kept under a bound', () => {
  it('deletes the smallest counts, the oldest first among equals, down to `keep`', () => {
    const m = new Map<string, number>([['a', 5], ['b', 1], ['c', 2], ['d', 1], ['e', 9], ['f', 2]]);
    const gone: string[] = [];
    expect(pruneSmallest(m, 3, (c) => c, (k) => gone.push(k))).toBe(3);
    expect(gone).toEqual(['b', 'c', 'd']); // both 1s, then the older of the two 2s
    expect([...m.keys()]).toEqual(['a', 'e', 'f']);
  });

  it('does nothing within the bound, and prunes to three quarters of it', () => {
    const m = new Map([['a', 1]]);
    expect(pruneSmallest(m, 1, (c) => c)).toBe(0);
    expect(m.size).toBe(1);
    expect(pruneTarget(100_000)).toBe(75_000);
  });
});
