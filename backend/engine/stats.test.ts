import { estimableQuantile, summarize } from './stats';

describe('estimableQuantile', () => {
  // 1,000 lines: 990 score 1, a burst of 10 scores 20 (a training window that held one failure burst)
  const values = [1, 20];
  const weights = [990, 10];

  it('is the plain percentile when minAbove is 0: the p99.9 of 1,000 lines lands in the burst', () => {
    expect(estimableQuantile(values, weights, 0.999, 0)).toBe(20);
    expect(estimableQuantile(values, weights, 0.999, 0)).toBe(summarize(values, weights).quantiles[5]);
  });

  it('keeps at least minAbove of the weight above it', () => {
    // at least 20 lines above: q = 1 - 20/1000 = 0.98, below the burst
    expect(estimableQuantile(values, weights, 0.999, 20)).toBe(1);
  });

  it('leaves the percentile alone when the training has enough lines for it', () => {
    const many = [1, 5, 20];
    const w = [98_000, 1_900, 100]; // p99.9 = 5 and 100 lines lie above it
    expect(estimableQuantile(many, w, 0.999, 10)).toBe(5);
  });
});
