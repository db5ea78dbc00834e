import { SeededRandom } from './random';
import { DEFAULT_CONFIG } from './config';
import { principalComponents, resolveSomOptions, SelfOrganizingMap } from './som';

/** `perCluster` points around each centre, with uniform noise of ±spread in every dimension. */
function clusters(
  centres: number[][],
  perCluster: number,
  spread: number,
  seed: number
): { data: Float32Array; labels: number[] } {
  const rng = new SeededRandom(seed);
  const dim = centres[0].length;
  const data = new Float32Array(centres.length * perCluster * dim);
  const labels: number[] = [];
  let i = 0;
  for (let n = 0; n < perCluster; n++) {
    centres.forEach((centre, c) => {
      for (let k = 0; k < dim; k++) data[i * dim + k] = centre[k] + (rng.nextFloat() * 2 - 1) * spread;
      labels.push(c);
      i++;
    });
  }
  return { data, labels };
}

/** The plain definition: the smallest Euclidean distance to any unit. */
function bruteForceDistance(som: SelfOrganizingMap, x: Float32Array, offset = 0): number {
  let best = Infinity;
  for (let u = 0; u < som.width * som.height; u++) {
    let d = 0;
    for (let k = 0; k < som.dim; k++) d += (x[offset + k] - som.weights[u * som.dim + k]) ** 2;
    best = Math.min(best, d);
  }
  return Math.sqrt(best);
}

const CENTRES = [
  [0, 0, 0, 0],
  [5, 5, 0, 0],
  [0, 5, 5, 5],
  [5, 0, 5, 0],
];

describe('SelfOrganizingMap.train', () => {
  const { data, labels } = clusters(CENTRES, 150, 0.5, 11);
  const count = labels.length;
  const dim = 4;

  it.each(['pca', 'random'] as const)(
    'lowers the quantisation error during training (%s init) and reports it per epoch',
    (init) => {
      const reports: Array<[number, number, number]> = [];
      const som = SelfOrganizingMap.train(data, count, dim, { width: 8, height: 8, epochs: 8, init }, (e, total, q) =>
        reports.push([e, total, q])
      );
      expect(reports.map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(reports.every((r) => r[1] === 8)).toBe(true);
      const first = reports[1][2];
      const last = reports[reports.length - 1][2];
      expect(last).toBeLessThan(first * 0.8);
      // As the radius shrinks the batch update can only fit tighter: each epoch is no worse than the one before.
      for (let e = 2; e < reports.length; e++) {
        expect(reports[e][2]).toBeLessThanOrEqual(reports[e - 1][2] * 1.001);
      }
      expect(som.quantizationError(data, count)).toBeCloseTo(last, 5);
    }
  );

  it('finds a distance of 0 for each unit’s own weight vector', () => {
    const som = SelfOrganizingMap.train(data, count, dim, { width: 6, height: 5, epochs: 3 });
    for (let u = 0; u < som.width * som.height; u++) {
      expect(som.bmuDistance(som.weights, u * dim)).toBe(0);
      expect(som.bestMatchingUnit(som.weights.slice(u * dim, (u + 1) * dim))).toBe(u);
    }
  });

  it('gives the exact nearest-unit distance, whatever order vectors come in', () => {
    const som = SelfOrganizingMap.train(data, count, dim, { width: 10, height: 10, epochs: 5 });
    const rng = new SeededRandom(99);
    const probe = new Float32Array(dim);
    for (let n = 0; n < 500; n++) {
      // Alternate training vectors in random order with arbitrary vectors near and far from the data.
      if (n % 2 === 0) {
        const i = rng.nextInt(count);
        expect(som.bmuDistance(data, i * dim)).toBeCloseTo(bruteForceDistance(som, data, i * dim), 10);
      } else {
        const scale = n % 3 === 0 ? 50 : 6;
        for (let k = 0; k < dim; k++) probe[k] = rng.nextFloat() * scale - scale / 4;
        expect(som.bmuDistance(probe)).toBeCloseTo(bruteForceDistance(som, probe), 10);
      }
    }
    let total = 0;
    for (let i = 0; i < count; i++) total += bruteForceDistance(som, data, i * dim);
    expect(som.quantizationError(data, count)).toBeCloseTo(total / count, 10);
  });

  it('is deterministic for a seed, for both initialisations', () => {
    for (const init of ['pca', 'random'] as const) {
      const a = SelfOrganizingMap.train(data, count, dim, { width: 7, height: 7, epochs: 4, seed: 5, init });
      const b = SelfOrganizingMap.train(data, count, dim, { width: 7, height: 7, epochs: 4, seed: 5, init });
      expect(Buffer.from(a.weights.buffer).equals(Buffer.from(b.weights.buffer))).toBe(true);
    }
    const r1 = SelfOrganizingMap.train(data, count, dim, { width: 7, height: 7, epochs: 4, seed: 5, init: 'random' });
    const r2 = SelfOrganizingMap.train(data, count, dim, { width: 7, height: 7, epochs: 4, seed: 6, init: 'random' });
    expect(Buffer.from(r1.weights.buffer).equals(Buffer.from(r2.weights.buffer))).toBe(false);
  });

  it('separates clusters onto different units and keeps outliers far from every unit', () => {
    const som = SelfOrganizingMap.train(data, count, dim, { width: 12, height: 12, epochs: 10 });
    const unitsOf = CENTRES.map(() => new Set<number>());
    let maxTrainingDistance = 0;
    for (let i = 0; i < count; i++) {
      unitsOf[labels[i]].add(som.bestMatchingUnit(data, i * dim));
      maxTrainingDistance = Math.max(maxTrainingDistance, som.bmuDistance(data, i * dim));
    }
    for (let a = 0; a < CENTRES.length; a++) {
      for (let b = a + 1; b < CENTRES.length; b++) {
        const shared = [...unitsOf[a]].filter((u) => unitsOf[b].has(u));
        expect(shared).toEqual([]);
      }
    }
    const outlier = Float32Array.from([20, -20, 20, -20]);
    expect(som.bmuDistance(outlier)).toBeGreaterThan(5 * maxTrainingDistance);
  });

  it('trains on a single vector and on a 1×1 map', () => {
    const one = Float32Array.from([1, 2, 3, 4]);
    const som = SelfOrganizingMap.train(one, 1, dim, { width: 3, height: 3, epochs: 2 });
    expect(som.bmuDistance(one)).toBeCloseTo(0, 6);
    const tiny = SelfOrganizingMap.train(data, count, dim, { width: 1, height: 1, epochs: 2 });
    expect(tiny.weights.length).toBe(dim);
  });

  it('rejects bad input with a readable error', () => {
    expect(() => SelfOrganizingMap.train(data, count, dim, { width: 0 })).toThrow(/width/);
    expect(() => SelfOrganizingMap.train(data, count, dim, { radiusStart: 1, radiusEnd: 2 })).toThrow(/radiusEnd/);
    expect(() => SelfOrganizingMap.train(data, count + 1, dim)).toThrow(/need/);
    expect(() => SelfOrganizingMap.train(new Float32Array(0), 0, dim)).toThrow(/no vectors/);
    const withNaN = data.slice();
    withNaN[5 * dim + 2] = NaN;
    expect(() => SelfOrganizingMap.train(withNaN, count, dim)).toThrow(/vector 5 .*dimension 2/);
    expect(() => new SelfOrganizingMap(2, 2, 3, new Float32Array(11))).toThrow(/12/);
    const som = new SelfOrganizingMap(1, 1, 2, new Float32Array(2));
    expect(() => som.bmuDistance(new Float32Array(3), 2)).toThrow(RangeError);
  });

  it("defaults to the engine config's map size, radius 3→1 and PCA initialisation", () => {
    const { somWidth: width, somHeight: height } = DEFAULT_CONFIG.neural;
    expect(resolveSomOptions()).toMatchObject({ width, height, radiusStart: 3, radiusEnd: 1, init: 'pca' });
  });
});

describe('principalComponents', () => {
  it('finds the directions of largest variance in order, orthogonal to each other', () => {
    // Variance 9 along (1,1,0)/√2, 1 along (1,−1,0)/√2, none along z.
    const rng = new SeededRandom(4);
    const n = 4000;
    const data = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const a = (rng.nextFloat() * 2 - 1) * 3 * Math.sqrt(3);
      const b = (rng.nextFloat() * 2 - 1) * Math.sqrt(3);
      data[i * 3] = (a + b) / Math.SQRT2 + 10;
      data[i * 3 + 1] = (a - b) / Math.SQRT2 - 10;
      data[i * 3 + 2] = 7;
    }
    const { mean, components, variances } = principalComponents(data, n, 3, 2, new SeededRandom(1));
    expect(mean[0]).toBeCloseTo(10, 0);
    expect(mean[2]).toBeCloseTo(7, 4);
    expect(Math.abs(components[0][0] + components[0][1]) / Math.SQRT2).toBeCloseTo(1, 2);
    expect(Math.abs(components[1][0] - components[1][1]) / Math.SQRT2).toBeCloseTo(1, 2);
    expect(variances[0]).toBeGreaterThan(8);
    expect(variances[0]).toBeLessThan(10);
    expect(variances[1]).toBeGreaterThan(0.8);
    expect(variances[1]).toBeLessThan(1.2);
    const dot = components[0].reduce((s, v, k) => s + v * components[1][k], 0);
    expect(Math.abs(dot)).toBeLessThan(1e-9);
  });
});
