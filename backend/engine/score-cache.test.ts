import { ScoreCache } from './score-cache';

describe('ScoreCache', () => {
  it('finds every entry by both halves of its key, through growth, and nothing else', () => {
    const c = new ScoreCache<string>();
    // keys that differ only in one half, so slots collide often
    for (let i = 0; i < 5000; i++) c.add(i % 7, i, `v${i}`);
    for (let i = 0; i < 5000; i++) c.add(-1 - i, 3, `w${i}`);
    expect(c.size).toBe(10_000);
    for (let i = 0; i < 5000; i++) {
      expect(c.get(i % 7, i)).toBe(`v${i}`);
      expect(c.get(-1 - i, 3)).toBe(`w${i}`);
    }
    expect(c.get(7, 0)).toBeUndefined();
    expect(c.get(0, 1)).toBeUndefined();
    expect(c.get(-5001, 3)).toBeUndefined();
  });

  it('clear forgets everything', () => {
    const c = new ScoreCache<number>();
    for (let i = 0; i < 3000; i++) c.add(i, i, i);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.get(5, 5)).toBeUndefined();
    c.add(5, 5, 55);
    expect(c.get(5, 5)).toBe(55);
  });
});
