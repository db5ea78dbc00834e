import { DEFAULT_CONFIG } from './config';
import { SeededRandom } from './random';
import {
  deserializeWord2Vec,
  resolveWord2VecOptions,
  serializeWord2Vec,
  trainWord2Vec,
  wordSimilarity,
  Word2VecModel,
} from './word2vec';

/**
 * Log-like sentences in two families that never share context words: storage faults, where "error" and
 * "failure" are interchangeable, and sessions, where "login" and "logout" are.
 */
function twoFamilyCorpus(lines: number, seed: number): string[][] {
  const rng = new SeededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)];
  const sentences: string[][] = [];
  for (let i = 0; i < lines; i++) {
    if (rng.nextFloat() < 0.5) {
      sentences.push(['disk', pick(['sda', 'sdb', 'nvme0']), 'write', pick(['error', 'failure']), 'sector', 'retry']);
    } else {
      sentences.push(['session', 'user', pick(['alice', 'bob', 'carol']), pick(['login', 'logout']), 'from', 'web']);
    }
  }
  return sentences;
}

function sim(model: Word2VecModel, a: string, b: string): number {
  const s = wordSimilarity(model, a, b);
  if (s === null) throw new Error(`missing word ${a} or ${b}`);
  return s;
}

describe('trainWord2Vec', () => {
  const corpus = twoFamilyCorpus(3000, 7);

  it.each(['cbow', 'skipgram'] as const)('%s puts words that share contexts closer than words that do not', (mode) => {
    const model = trainWord2Vec(corpus, { mode, dim: 16, epochs: 5, seed: 3 });
    const within = Math.min(sim(model, 'error', 'failure'), sim(model, 'login', 'logout'));
    const across = Math.max(
      sim(model, 'error', 'login'),
      sim(model, 'error', 'logout'),
      sim(model, 'failure', 'login'),
      sim(model, 'failure', 'logout')
    );
    expect(within).toBeGreaterThan(across + 0.2);
  });

  it('gives bit-identical vectors for the same seed and input, and different ones for another seed', () => {
    const a = trainWord2Vec(corpus, { mode: 'skipgram', dim: 8, epochs: 2, seed: 42 });
    const b = trainWord2Vec(corpus, { mode: 'skipgram', dim: 8, epochs: 2, seed: 42 });
    const c = trainWord2Vec(corpus, { mode: 'skipgram', dim: 8, epochs: 2, seed: 43 });
    expect(Buffer.from(a.vectors.buffer).equals(Buffer.from(b.vectors.buffer))).toBe(true);
    expect([...a.vocab]).toEqual([...b.vocab]);
    expect(Buffer.from(a.vectors.buffer).equals(Buffer.from(c.vectors.buffer))).toBe(false);
  });

  it('orders the vocabulary by count and drops words seen fewer than minCount times', () => {
    const sentences = [
      ['a', 'b', 'c'],
      ['a', 'b'],
      ['a', 'd', 'd'],
    ];
    const all = trainWord2Vec(sentences, { minCount: 1, dim: 4 });
    expect([...all.vocab.keys()]).toEqual(['a', 'b', 'd', 'c']);
    expect(Array.from(all.counts)).toEqual([3, 2, 2, 1]);
    expect(all.vectors.length).toBe(4 * 4);

    const frequent = trainWord2Vec(sentences, { minCount: 2, dim: 4 });
    expect([...frequent.vocab.keys()]).toEqual(['a', 'b', 'd']);
    expect(frequent.vocab.has('c')).toBe(false);
    expect(frequent.vectors.length).toBe(3 * 4);
  });

  it('raises the minimum count until the vocabulary fits maxVocab, keeping words of one count together', () => {
    // counts: a 3, b 2, c 2, d 1, e 1
    const sentences = [['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'e'], ['a']];
    expect([...trainWord2Vec(sentences, { dim: 2, maxVocab: 5 }).vocab.keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([...trainWord2Vec(sentences, { dim: 2, maxVocab: 4 }).vocab.keys()]).toEqual(['a', 'b', 'c']);
    expect([...trainWord2Vec(sentences, { dim: 2, maxVocab: 3 }).vocab.keys()]).toEqual(['a', 'b', 'c']);
    expect([...trainWord2Vec(sentences, { dim: 2, maxVocab: 2 }).vocab.keys()]).toEqual(['a']);
    expect([...trainWord2Vec(sentences, { dim: 2, minCount: 3, maxVocab: 2 }).vocab.keys()]).toEqual(['a']);
    expect(resolveWord2VecOptions().maxVocab).toBe(100_000);
    expect(() => trainWord2Vec(sentences, { maxVocab: 0 })).toThrow(/maxVocab/);
  });

  it('copes with empty sentences, one-word sentences and a one-word vocabulary', () => {
    const model = trainWord2Vec([[], ['only'], ['only', 'only', 'only'], []], { dim: 4, epochs: 3 });
    expect([...model.vocab.keys()]).toEqual(['only']);
    expect(Array.from(model.vectors).every(Number.isFinite)).toBe(true);
    const mixed = trainWord2Vec([[], ['a', 'b'], [], ['b', 'a']], { dim: 4, window: 50, sample: 0 });
    expect(Array.from(mixed.vectors).every(Number.isFinite)).toBe(true);
    expect(mixed.vocab.size).toBe(2);
  });

  it('returns an empty model when no word reaches minCount', () => {
    const model = trainWord2Vec([['x'], ['y']], { minCount: 5, dim: 4 });
    expect(model.vocab.size).toBe(0);
    expect(model.vectors.length).toBe(0);
  });

  it('reports progress up to the total number of tokens over all epochs', () => {
    const calls: Array<[number, number]> = [];
    trainWord2Vec(corpus, { dim: 4, epochs: 3 }, (done, total) => calls.push([done, total]));
    const total = corpus.reduce((n, s) => n + s.length, 0) * 3;
    expect(calls.length).toBeGreaterThan(1);
    expect(calls[calls.length - 1]).toEqual([total, total]);
    for (let i = 1; i < calls.length; i++) {
      expect(calls[i][0]).toBeGreaterThanOrEqual(calls[i - 1][0]);
    }
  });

  it('subsamples frequent words by default and can be told not to', () => {
    const withSampling = trainWord2Vec(corpus, { dim: 8, epochs: 1, seed: 5 });
    const without = trainWord2Vec(corpus, { dim: 8, epochs: 1, seed: 5, sample: 0 });
    expect(resolveWord2VecOptions().sample).toBe(1e-3);
    expect([...withSampling.vocab]).toEqual([...without.vocab]);
    expect(Array.from(withSampling.vectors)).not.toEqual(Array.from(without.vectors));
    expect(() => trainWord2Vec(corpus, { sample: -1 })).toThrow(/sample/);
  });

  it('rejects bad options with the name of the option', () => {
    expect(() => trainWord2Vec(corpus, { dim: 0 })).toThrow(/dim/);
    expect(() => trainWord2Vec(corpus, { mode: 'glove' as never })).toThrow(/mode/);
    expect(() => trainWord2Vec(corpus, { window: 1.5 })).toThrow(/window/);
  });

  it("takes the engine config's mode, and each mode's own learning rate (CBOW averages, so a larger step)", () => {
    // The numbers themselves are pinned in config.test.ts; here, that the learning rate follows the mode.
    expect(resolveWord2VecOptions().mode).toBe(DEFAULT_CONFIG.neural.mode);
    expect(resolveWord2VecOptions({ mode: 'cbow' }).learningRate).toBe(0.05);
    expect(resolveWord2VecOptions({ mode: 'skipgram' }).learningRate).toBe(0.025);
    expect(resolveWord2VecOptions().learningRate).toBe(resolveWord2VecOptions({ mode: DEFAULT_CONFIG.neural.mode }).learningRate);
    expect(resolveWord2VecOptions({ learningRate: 0.01, dim: undefined }).learningRate).toBe(0.01);
  });
});

describe('serializeWord2Vec / deserializeWord2Vec', () => {
  const model = trainWord2Vec(twoFamilyCorpus(200, 1), { dim: 6, epochs: 1 });

  it('round-trips through JSON text and the raw vector bytes', () => {
    const { json, vectors } = serializeWord2Vec(model);
    const bytes = Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength);
    const copy = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const back = deserializeWord2Vec(JSON.parse(JSON.stringify(json)), copy);
    expect(back.dim).toBe(model.dim);
    expect([...back.vocab]).toEqual([...model.vocab]);
    expect(Array.from(back.counts)).toEqual(Array.from(model.counts));
    expect(Array.from(back.vectors)).toEqual(Array.from(model.vectors));
    expect(sim(back, 'error', 'failure')).toBe(sim(model, 'error', 'failure'));
  });

  it('rejects vectors that do not match the vocabulary, and foreign JSON', () => {
    const { json, vectors } = serializeWord2Vec(model);
    expect(() => deserializeWord2Vec(json, vectors.subarray(1))).toThrow(/vector values/);
    expect(() => deserializeWord2Vec({ ...json, format: 'other' }, vectors)).toThrow(/format/);
    expect(() => deserializeWord2Vec({ ...json, counts: [1] }, vectors)).toThrow(/counts/);
  });
});
