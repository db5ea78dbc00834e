// The surge level of an expected count: the least count a Poisson variable with that mean reaches with at
// most a given probability. Computed once per template when its expected count changes, never per line.

/** Least x with P(X ≥ x) ≤ p for X ~ Poisson(mean). */
export function poissonSurgeLevel(mean: number, p: number): number {
  if (!(mean > 0)) return 1;
  if (mean > 500) {
    // normal approximation with the skew correction of the Cornish-Fisher expansion
    const z = normalQuantile(1 - p);
    const sd = Math.sqrt(mean);
    return Math.ceil(mean + z * sd + (z * z - 1) / 6 + 0.5);
  }
  // upper tail summed from the top: P(X ≥ x) = 1 − CDF(x − 1)
  let pmf = Math.exp(-mean);
  let cdf = pmf;
  let x = 0;
  while (1 - cdf > p && x < 100_000) {
    x++;
    pmf *= mean / x;
    cdf += pmf;
    if (cdf >= 1 - 1e-16) break; // float limit: beyond this the tail is below anything we test
  }
  return x + 1;
}

/**
 * Least x with P(X ≥ x) ≤ p for X of mean `mean` and variance `dispersion` × mean: Poisson when the dispersion
 * is 1, else the negative binomial with those two moments (a Poisson whose rate varies as a gamma variable: a
 * template that arrives in bursts). Large means use the normal approximation with that variance.
 */
export function surgeLevel(mean: number, dispersion: number, p: number): number {
  if (!(mean > 0)) return 1;
  if (!(dispersion > 1 + 1e-9)) return poissonSurgeLevel(mean, p);
  if (mean > 500) {
    const z = normalQuantile(1 - p);
    return Math.ceil(mean + z * Math.sqrt(mean * dispersion) + 0.5);
  }
  // NB(r, q): r = mean / (dispersion − 1), success ratio q = 1 − 1/dispersion; P(0) = dispersion^−r
  const r = mean / (dispersion - 1);
  const q = 1 - 1 / dispersion;
  let pmf = Math.exp(-r * Math.log(dispersion));
  let cdf = pmf;
  let x = 0;
  while (1 - cdf > p && x < 1_000_000) {
    pmf *= ((x + r) / (x + 1)) * q;
    x++;
    cdf += pmf;
    if (cdf >= 1 - 1e-16) break;
  }
  return x + 1;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(q: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (q < lo) {
    const t = Math.sqrt(-2 * Math.log(q));
    return (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) / ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1);
  }
  if (q > 1 - lo) return -normalQuantile(1 - q);
  const r = q - 0.5;
  const s = r * r;
  return ((((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r) / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
}
