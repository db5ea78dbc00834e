/**
 * A self-organizing map (Kohonen) trained in batch mode: every epoch assigns each vector to its best matching
 * unit (BMU), then sets every unit to the Gaussian-neighbourhood-weighted mean of the vectors of the units
 * around it. Batch training has no learning rate and no visiting order, so it is deterministic; the seed only
 * matters for the initial weights.
 *
 * Initialisation is either PCA (the grid spans the plane of the data's first two principal components, found
 * by power iteration; the original LAD did the same) or random data vectors.
 *
 * The weights are one flat Float32Array, unit u = y·width + x at [u·dim, (u+1)·dim). The BMU search is exact
 * (a full scan) but cuts each unit's distance short once it exceeds the best so far, and starts from a hint
 * (the previous epoch's BMU in training, the last BMU when scoring), which makes most units cost a few
 * dimensions instead of all of them.
 */
import { z } from 'zod';
import { DEFAULT_CONFIG } from './config';
import type { NeuralConfig } from './config';
import { SeededRandom } from './random';

export interface SomOptions {
  width: number;
  height: number;
  epochs: number;
  radiusStart: number;
  radiusEnd: number;
  seed: number;
  init: 'pca' | 'random';
}

/**
 * Size, epochs and seed come from the engine's config (config.ts, `neural`), the one place they are written;
 * the radius 3→1 (LAD's) and the PCA initialisation are this module's own.
 */
export const DEFAULT_SOM_OPTIONS: Readonly<SomOptions> = {
  ...somOptionsOf(DEFAULT_CONFIG.neural),
  radiusStart: 3,
  radiusEnd: 1,
  init: 'pca',
};

/** The SOM options an engine config sets (the rest keep this module's defaults). */
export function somOptionsOf(n: NeuralConfig): Pick<SomOptions, 'width' | 'height' | 'epochs' | 'seed'> {
  return { width: n.somWidth, height: n.somHeight, epochs: n.somEpochs, seed: n.seed };
}

const optionsSchema = z
  .object({
    width: z.number().int().min(1).max(1000),
    height: z.number().int().min(1).max(1000),
    epochs: z.number().int().min(1).max(10_000),
    radiusStart: z.number().positive(),
    radiusEnd: z.number().positive(),
    seed: z.number().int(),
    init: z.enum(['pca', 'random']),
  })
  .refine((o) => o.radiusEnd <= o.radiusStart, { message: 'must not exceed radiusStart', path: ['radiusEnd'] });

export function resolveSomOptions(options: Partial<SomOptions> = {}): SomOptions {
  const merged = { ...DEFAULT_SOM_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  const parsed = optionsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid SOM option ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** Power-iteration limits for the PCA initialisation. */
const PCA_MAX_ITERATIONS = 100;
const PCA_TOLERANCE = 1e-9;
/** PCA on more vectors than this uses an evenly spaced subset: the plane barely moves, the cost stays bounded. */
const PCA_MAX_SAMPLES = 50_000;
/** The PCA grid spans ±this many standard deviations along each component. */
const PCA_SPAN_STD = 2;

export class SelfOrganizingMap {
  readonly width: number;
  readonly height: number;
  readonly dim: number;
  readonly weights: Float32Array;
  private readonly units: number;
  /** Where the next BMU search starts: consecutive log lines are usually alike, so their BMUs are too. */
  private hint = 0;

  constructor(width: number, height: number, dim: number, weights: Float32Array) {
    if (
      !Number.isInteger(width) ||
      !Number.isInteger(height) ||
      !Number.isInteger(dim) ||
      width < 1 ||
      height < 1 ||
      dim < 1
    ) {
      throw new Error(`invalid SOM shape ${width}×${height}×${dim}`);
    }
    if (weights.length !== width * height * dim) {
      throw new Error(
        `SOM weights: expected ${width}×${height}×${dim} = ${width * height * dim} values, got ${weights.length}`
      );
    }
    this.width = width;
    this.height = height;
    this.dim = dim;
    this.weights = weights;
    this.units = width * height;
  }

  /**
   * Trains a map on `count` vectors of `dim` values laid end to end in `data`.
   * onProgress(epoch, epochs, quantizationError) is called with epoch 0 for the initial map and then after
   * every epoch, with the mean distance of the training vectors to their BMU at that point.
   */
  static train(
    data: Float32Array,
    count: number,
    dim: number,
    options?: Partial<SomOptions>,
    onProgress?: (epoch: number, epochs: number, quantizationError: number) => void
  ): SelfOrganizingMap {
    const opts = resolveSomOptions(options);
    checkData(data, count, dim);
    if (count === 0) {
      throw new Error('cannot train a SOM on no vectors');
    }
    // One NaN would spread through the batch means into every unit: refuse it up front.
    for (let i = 0; i < count * dim; i++) {
      if (!Number.isFinite(data[i])) {
        throw new Error(
          `SOM data: vector ${Math.floor(i / dim)} has a non-finite value (${data[i]}) at dimension ${i % dim}`
        );
      }
    }
    const { width, height, epochs } = opts;
    const rng = new SeededRandom(opts.seed);
    const weights =
      opts.init === 'pca'
        ? pcaInitialWeights(data, count, dim, width, height, rng)
        : randomInitialWeights(data, count, dim, width * height, rng);
    const som = new SelfOrganizingMap(width, height, dim, weights);
    const units = width * height;
    const bmus = new Int32Array(count);
    // Per-unit sums of assigned vectors (dim values) followed by their count: one smoothing pass covers both.
    const stride = dim + 1;
    const sums = new Float64Array(units * stride);
    const scratch = new Float64Array(units * stride);
    const kernelX = new Float64Array(width);
    const kernelY = new Float64Array(height);

    let error = som.assign(data, count, bmus);
    onProgress?.(0, epochs, error);
    for (let epoch = 0; epoch < epochs; epoch++) {
      const radius =
        epochs === 1 ? opts.radiusEnd : opts.radiusStart + ((opts.radiusEnd - opts.radiusStart) * epoch) / (epochs - 1);
      sums.fill(0);
      for (let i = 0; i < count; i++) {
        const base = bmus[i] * stride;
        const offset = i * dim;
        for (let k = 0; k < dim; k++) sums[base + k] += data[offset + k];
        sums[base + dim] += 1;
      }
      // The Gaussian exp(-(dx²+dy²)/2r²) is separable, so smoothing along x then along y costs
      // units·(width+height) instead of units² per channel.
      for (let d = 0; d < width; d++) kernelX[d] = Math.exp(-(d * d) / (2 * radius * radius));
      for (let d = 0; d < height; d++) kernelY[d] = Math.exp(-(d * d) / (2 * radius * radius));
      smoothAxis(sums, scratch, height, width, width, 1, stride, kernelX);
      smoothAxis(scratch, sums, width, height, 1, width, stride, kernelY);
      for (let u = 0; u < units; u++) {
        const base = u * stride;
        const mass = sums[base + dim];
        // A unit no vector reaches (only possible when the Gaussian underflows) keeps its weights.
        if (mass <= 0) continue;
        for (let k = 0; k < dim; k++) weights[u * dim + k] = sums[base + k] / mass;
      }
      som.invalidateIndex();
      error = som.assign(data, count, bmus);
      onProgress?.(epoch + 1, epochs, error);
    }
    return som;
  }

  /** Index (y·width + x) of the unit nearest to data[offset .. offset+dim). */
  bestMatchingUnit(vector: Float32Array, offset = 0): number {
    this.search(vector, offset, this.hint);
    return this.hint;
  }

  /** Euclidean distance to the best matching unit. */
  bmuDistance(vector: Float32Array, offset = 0): number {
    return Math.sqrt(this.search(vector, offset, this.hint));
  }

  /** Mean distance of `count` vectors to their best matching units. */
  quantizationError(data: Float32Array, count: number): number {
    checkData(data, count, this.dim);
    if (count === 0) return 0;
    let total = 0;
    for (let i = 0; i < count; i++) total += this.bmuDistance(data, i * this.dim);
    return total / count;
  }

  /** Writes each vector's BMU into bmus (using the old value as the hint); returns the quantisation error. */
  private assign(data: Float32Array, count: number, bmus: Int32Array): number {
    // The weights change every epoch, so the neighbour table would be rebuilt every epoch (units² distances
    // and sorts): worth it only when there are many more vectors than units to search for.
    const indexed = count >= INDEXED_TRAINING_VECTORS_PER_UNIT * this.units;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const offset = i * this.dim;
      total += Math.sqrt(indexed ? this.search(data, offset, bmus[i]) : this.scan(data, offset, bmus[i]));
      bmus[i] = this.hint;
    }
    return total / count;
  }

  /** Exact nearest unit by a plain scan from `start`, each distance cut short once past the best. */
  private scan(x: Float32Array, offset: number, start: number): number {
    const { dim, weights, units } = this;
    let best = Infinity;
    let bestUnit = start;
    for (let n = 0; n < units; n++) {
      const u = n === 0 ? start : n === start ? 0 : n;
      const d = distanceBelow(x, offset, weights, u * dim, dim, best);
      if (d < best) {
        best = d;
        bestUnit = u;
      }
    }
    this.hint = bestUnit;
    return best;
  }

  /**
   * Exact nearest unit by squared distance, starting from unit `start`. Leaves the winner in this.hint and
   * returns its squared distance.
   *
   * With r = |x − start| and D = |u − start|, the triangle inequality gives |x − u| ≥ |D − r|. Units are
   * visited in order of D (a table built once per set of weights), so the scan skips units with
   * |D − r| ≥ best and stops at the first with D − r ≥ best: for a vector near its hint only the hint's
   * neighbourhood on the map is examined. The remaining units still stop summing once past the best.
   */
  private search(x: Float32Array, offset: number, start: number): number {
    const { dim, weights, units } = this;
    if (offset < 0 || offset + dim > x.length) {
      throw new RangeError(`SOM: vector at offset ${offset} needs ${dim} values, the array has ${x.length}`);
    }
    let best = 0;
    const startBase = start * dim;
    for (let k = 0; k < dim; k++) {
      const diff = x[offset + k] - weights[startBase + k];
      best += diff * diff;
    }
    const index = this.neighbourIndex();
    // A vector unlike the hint would leave the triangle bound little to prune: try a coarse grid of pivot
    // units first and start from the nearest of them when it beats the hint.
    for (let p = 0; p < index.pivots.length; p++) {
      const u = index.pivots[p];
      const d = distanceBelow(x, offset, weights, u * dim, dim, best);
      if (d < best) {
        best = d;
        start = u;
      }
    }
    let bestUnit = start;
    const r = Math.sqrt(best);
    let bestDistance = r;
    const row = start * units;
    for (let j = 1; j < units; j++) {
      const unitDistance = index.distance[row + j];
      if (unitDistance - r >= bestDistance) break;
      if (r - unitDistance >= bestDistance) continue;
      const u = index.order[row + j];
      const d = distanceBelow(x, offset, weights, u * dim, dim, best);
      if (d < best) {
        best = d;
        bestDistance = Math.sqrt(d);
        bestUnit = u;
      }
    }
    this.hint = bestUnit;
    return best;
  }

  private index: NeighbourIndex | null = null;

  /** The weights changed (training): the unit-to-unit distance table must be rebuilt before the next search. */
  private invalidateIndex(): void {
    this.index = null;
  }

  private neighbourIndex(): NeighbourIndex {
    if (this.index === null) {
      this.index = buildNeighbourIndex(this.weights, this.width, this.height, this.dim);
    }
    return this.index;
  }
}

/**
 * Squared distance from x[offset ..+dim) to the unit at weights[base ..+dim), given up once it reaches `best`
 * (the result is then some value ≥ best). Checked every four dimensions: most candidates are far and stop early.
 * Small and monomorphic (two Float32Arrays), so V8 inlines it into the scans.
 */
function distanceBelow(x: Float32Array, offset: number, weights: Float32Array, base: number, dim: number, best: number): number {
  let d = 0;
  let k = 0;
  while (k < dim) {
    const stop = Math.min(k + 4, dim);
    for (; k < stop; k++) {
      const diff = x[offset + k] - weights[base + k];
      d += diff * diff;
    }
    if (d >= best) break;
  }
  return d;
}

/** For every unit, all units ordered by their distance to it (itself first), and those distances. */
interface NeighbourIndex {
  order: Int32Array;
  distance: Float64Array;
  /** a coarse sub-grid of units, tried before the full search */
  pivots: Int32Array;
}

/** Training uses the neighbour table only with at least this many vectors per unit (see assign). */
const INDEXED_TRAINING_VECTORS_PER_UNIT = 16;

/** Pivot spacing on the map: every 4th unit in x and y (36 of a 24×24 map). */
const PIVOT_SPACING = 4;

function buildNeighbourIndex(weights: Float32Array, width: number, height: number, dim: number): NeighbourIndex {
  const units = width * height;
  const pivotList: number[] = [];
  for (let y = PIVOT_SPACING >> 1; y < height; y += PIVOT_SPACING) {
    for (let x = PIVOT_SPACING >> 1; x < width; x += PIVOT_SPACING) pivotList.push(y * width + x);
  }
  const pivots = Int32Array.from(pivotList);
  const order = new Int32Array(units * units);
  const distance = new Float64Array(units * units);
  const all = new Float64Array(units * units);
  for (let a = 0; a < units; a++) {
    for (let b = a + 1; b < units; b++) {
      let d = 0;
      for (let k = 0; k < dim; k++) {
        const diff = weights[a * dim + k] - weights[b * dim + k];
        d += diff * diff;
      }
      all[a * units + b] = all[b * units + a] = Math.sqrt(d);
    }
  }
  const ids = new Int32Array(units);
  for (let a = 0; a < units; a++) {
    const row = a * units;
    for (let b = 0; b < units; b++) ids[b] = b;
    // Ties by index, and the unit itself (distance 0, lowest among its equals after the swap below) first.
    ids.sort((p, q) => all[row + p] - all[row + q] || p - q);
    const self = ids.indexOf(a);
    ids.copyWithin(1, 0, self);
    ids[0] = a;
    for (let j = 0; j < units; j++) {
      order[row + j] = ids[j];
      distance[row + j] = all[row + ids[j]];
    }
  }
  return { order, distance, pivots };
}

function checkData(data: Float32Array, count: number, dim: number): void {
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(dim) || dim < 1) {
    throw new Error(`invalid SOM data shape: count ${count}, dim ${dim}`);
  }
  if (data.length < count * dim) {
    throw new Error(`SOM data: ${count} vectors of ${dim} need ${count * dim} values, got ${data.length}`);
  }
}

/**
 * Smooths along one axis of the map, for every channel: out[line, p] = Σ_p' kernel[|p − p'|] · input[line, p'],
 * where cell (line, p) starts at (line·lineStep + p·posStep)·stride. Rows: lines = height, length = width,
 * lineStep = width, posStep = 1; columns: lines = width, length = height, lineStep = 1, posStep = width.
 * A cell with no mass (last channel 0) holds only zeros, so it contributes nothing and is skipped.
 */
function smoothAxis(
  input: Float64Array,
  out: Float64Array,
  lines: number,
  length: number,
  lineStep: number,
  posStep: number,
  stride: number,
  kernel: Float64Array
): void {
  out.fill(0);
  for (let line = 0; line < lines; line++) {
    for (let p = 0; p < length; p++) {
      const target = (line * lineStep + p * posStep) * stride;
      for (let p2 = 0; p2 < length; p2++) {
        const source = (line * lineStep + p2 * posStep) * stride;
        if (input[source + stride - 1] === 0) continue;
        const h = kernel[p > p2 ? p - p2 : p2 - p];
        for (let c = 0; c < stride; c++) out[target + c] += h * input[source + c];
      }
    }
  }
}

/** Units start at randomly chosen training vectors (so none starts in empty space). */
function randomInitialWeights(
  data: Float32Array,
  count: number,
  dim: number,
  units: number,
  rng: SeededRandom
): Float32Array {
  const weights = new Float32Array(units * dim);
  for (let u = 0; u < units; u++) {
    const i = rng.nextInt(count);
    weights.set(data.subarray(i * dim, (i + 1) * dim), u * dim);
  }
  return weights;
}

/**
 * Lays the grid on the plane of the first two principal components through the mean: x runs along the
 * first, y along the second, each spanning ±PCA_SPAN_STD standard deviations.
 */
function pcaInitialWeights(
  data: Float32Array,
  count: number,
  dim: number,
  width: number,
  height: number,
  rng: SeededRandom
): Float32Array {
  const { mean, components, variances } = principalComponents(data, count, dim, 2, rng);
  const weights = new Float32Array(width * height * dim);
  const spanX = PCA_SPAN_STD * Math.sqrt(variances[0]);
  const spanY = PCA_SPAN_STD * Math.sqrt(variances[1]);
  for (let y = 0; y < height; y++) {
    const b = height === 1 ? 0 : (2 * y) / (height - 1) - 1;
    for (let x = 0; x < width; x++) {
      const a = width === 1 ? 0 : (2 * x) / (width - 1) - 1;
      const base = (y * width + x) * dim;
      for (let k = 0; k < dim; k++) {
        weights[base + k] = mean[k] + a * spanX * components[0][k] + b * spanY * components[1][k];
      }
    }
  }
  return weights;
}

interface Pca {
  mean: Float64Array;
  /** unit vectors, orthogonal; a zero vector where the data has no further variance */
  components: Float64Array[];
  variances: number[];
}

/** The leading principal components by power iteration with deflation (no covariance matrix is formed). */
export function principalComponents(
  data: Float32Array,
  count: number,
  dim: number,
  howMany: number,
  rng: SeededRandom
): Pca {
  const step = Math.max(1, Math.floor(count / PCA_MAX_SAMPLES));
  const mean = new Float64Array(dim);
  let n = 0;
  for (let i = 0; i < count; i += step, n++) {
    for (let k = 0; k < dim; k++) mean[k] += data[i * dim + k];
  }
  for (let k = 0; k < dim; k++) mean[k] /= n;

  const components: Float64Array[] = [];
  const variances: number[] = [];
  const centred = new Float64Array(dim);
  for (let c = 0; c < howMany; c++) {
    let v = new Float64Array(dim);
    for (let k = 0; k < dim; k++) v[k] = rng.nextFloat() - 0.5;
    orthogonalise(v, components);
    let norm = normalise(v);
    let variance = 0;
    for (let iteration = 0; iteration < PCA_MAX_ITERATIONS && norm > 0; iteration++) {
      // next = Σ (xᵢ − μ)((xᵢ − μ)·v): the covariance matrix times v, up to the factor 1/n.
      const next = new Float64Array(dim);
      for (let i = 0; i < count; i += step) {
        let projection = 0;
        for (let k = 0; k < dim; k++) {
          centred[k] = data[i * dim + k] - mean[k];
          projection += centred[k] * v[k];
        }
        for (let k = 0; k < dim; k++) next[k] += projection * centred[k];
      }
      orthogonalise(next, components);
      norm = normalise(next);
      variance = norm / n;
      let change = 0;
      for (let k = 0; k < dim; k++) change += Math.abs(next[k] - v[k]);
      v = next;
      if (change < PCA_TOLERANCE) break;
    }
    if (norm === 0) {
      v.fill(0);
      variance = 0;
    }
    components.push(v);
    variances.push(variance);
  }
  return { mean, components, variances };
}

function orthogonalise(v: Float64Array, basis: readonly Float64Array[]): void {
  for (const b of basis) {
    let projection = 0;
    for (let k = 0; k < v.length; k++) projection += v[k] * b[k];
    for (let k = 0; k < v.length; k++) v[k] -= projection * b[k];
  }
}

/** Scales v to unit length in place and returns its former length. */
function normalise(v: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < v.length; k++) sum += v[k] * v[k];
  const length = Math.sqrt(sum);
  if (length > 0) for (let k = 0; k < v.length; k++) v[k] /= length;
  return length;
}
