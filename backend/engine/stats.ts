// Summary statistics of a weighted sample (training scores are computed once per unique template and
// weighted by how many lines had it), and the threshold rules built on them.

export interface Summary {
  count: number;
  mean: number;
  std: number;
  max: number;
  /** Quantiles at QUANTILE_POINTS, for percentile thresholds and for reports. */
  quantiles: number[];
}

export const QUANTILE_POINTS: readonly number[] = [0.5, 0.9, 0.95, 0.99, 0.995, 0.999];

/** Weighted summary of values[i] occurring weights[i] times. */
export function summarize(values: ArrayLike<number>, weights: ArrayLike<number>): Summary {
  const n = values.length;
  let total = 0;
  let sum = 0;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    total += weights[i];
    sum += values[i] * weights[i];
    if (values[i] > max) max = values[i];
  }
  if (total === 0) return { count: 0, mean: 0, std: 0, max: 0, quantiles: QUANTILE_POINTS.map(() => 0) };
  const mean = sum / total;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i] - mean) * (values[i] - mean) * weights[i];
  const order = sortedOrder(values);
  const quantiles = QUANTILE_POINTS.map((q) => quantileOf(values, weights, order, q, total));
  return { count: total, mean, std: Math.sqrt(sq / total), max, quantiles };
}

function sortedOrder(values: ArrayLike<number>): number[] {
  return Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
}

function quantileOf(values: ArrayLike<number>, weights: ArrayLike<number>, order: readonly number[], q: number, total: number): number {
  const target = q * total;
  let acc = 0;
  for (const i of order) {
    acc += weights[i];
    if (acc >= target) return values[i];
  }
  return order.length > 0 ? values[order[order.length - 1]] : 0;
}

/**
 * The weighted q-quantile, with q lowered so that at least `minAbove` of the total weight lies above it: an
 * extreme percentile of few training lines is their single highest score, i.e. whatever burst the training
 * window happened to hold, not an estimate of the percentile (see docs/engine.md, "Threshold").
 */
export function estimableQuantile(values: ArrayLike<number>, weights: ArrayLike<number>, q: number, minAbove: number): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  if (total === 0) return 0;
  const capped = minAbove > 0 ? Math.min(q, Math.max(0, 1 - minAbove / total)) : q;
  return quantileOf(values, weights, sortedOrder(values), capped, total);
}

export type ThresholdMethod = 'sigma' | 'percentile';

/**
 * Threshold from the training score distribution: mean + k·std (the original LAD's rule, k = 3 by default), or a
 * percentile (one of QUANTILE_POINTS). Never below the largest score a line with an everyday template gets
 * (`floor`), so a model trained on a perfectly regular log does not flag every tiny deviation.
 */
export function chooseThreshold(s: Summary, method: ThresholdMethod, k: number, percentile: number, floor = 0): number {
  let t: number;
  if (method === 'percentile') {
    const idx = QUANTILE_POINTS.findIndex((q) => Math.abs(q * 100 - percentile) < 1e-9);
    if (idx < 0) throw new Error(`percentile must be one of ${QUANTILE_POINTS.map((q) => q * 100).join(', ')}`);
    t = s.quantiles[idx];
  } else {
    t = s.mean + k * s.std;
  }
  return Math.max(t, floor);
}
