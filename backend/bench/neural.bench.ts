/**
 * Word2Vec and the self-organizing map on their own, in this process (not through the CLI): how many tokens
 * per second Word2Vec trains, how long a 24×24 SOM takes on the line vectors of the real samples, and how
 * fast the best-matching-unit search answers. Rates are per CPU-second of this process (process.cpuUsage),
 * which stays meaningful when other work shares the machine.
 *
 * Sentences are the sample lines with digit runs masked and split on non-word characters: a stand-in for
 * the engine's tokenizer, so that this measures the neural parts alone.
 */
import type { BenchContext, BenchRow } from './bench-api';
import { loadSamples } from './corpus';
import { SeededRandom } from '../engine/random';
import { SelfOrganizingMap } from '../engine/som';
import { trainWord2Vec, Word2VecModel } from '../engine/word2vec';

function cpuSeconds<T>(work: () => T): { result: T; seconds: number } {
  const start = process.cpuUsage();
  const result = work();
  const used = process.cpuUsage(start);
  return { result, seconds: (used.user + used.system) / 1e6 };
}

/** Mean word vector of each sentence (all words are in the vocabulary: minCount 1). */
function lineVectors(model: Word2VecModel, sentences: readonly string[][]): Float32Array {
  const { dim, vectors, vocab } = model;
  const data = new Float32Array(sentences.length * dim);
  sentences.forEach((words, i) => {
    for (const word of words) {
      const row = vocab.get(word);
      if (row === undefined) continue;
      for (let k = 0; k < dim; k++) data[i * dim + k] += vectors[row * dim + k] / words.length;
    }
  });
  return data;
}

const rate = (n: number, s: number): number => Math.round(n / s);

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const lines = loadSamples(ctx.dataDir).flatMap((s) => s.ordered);
  const sentences = lines.map((l) =>
    l
      .replace(/[0-9]+/g, '0')
      .split(/[^A-Za-z0-9_]+/)
      .filter(Boolean)
  );
  const tokens = sentences.reduce((n, s) => n + s.length, 0);
  const epochs = 5;

  let cbowModel: Word2VecModel | null = null;
  for (const mode of ['cbow', 'skipgram'] as const) {
    ctx.log(`word2vec ${mode}`);
    const { result, seconds } = cpuSeconds(() => trainWord2Vec(sentences, { mode, dim: 32, epochs }));
    if (mode === 'cbow') cbowModel = result;
    rows.push({
      name: `word2vec ${mode}, dim 32, ${epochs} epochs`,
      value: rate(tokens * epochs, seconds),
      unit: 'tokens/CPU-s',
      note: `${sentences.length.toLocaleString('en-US')} sample lines, ${tokens.toLocaleString('en-US')} tokens, vocabulary ${result.vocab.size}: ${seconds.toFixed(2)} s CPU`,
    });
  }
  if (cbowModel === null) throw new Error('word2vec produced no model');

  // The SOM sees each distinct masked line once, as the engine's templates would.
  const unique = [...new Map(sentences.map((s) => [s.join(' '), s])).values()];
  const dim = cbowModel.dim;
  const data = lineVectors(cbowModel, unique);
  ctx.log(`som 24×24 on ${unique.length} line vectors`);
  const errors: number[] = [];
  const { result: som, seconds: somSeconds } = cpuSeconds(() =>
    SelfOrganizingMap.train(data, unique.length, dim, {}, (_epoch, _epochs, q) => errors.push(q))
  );
  rows.push({
    name: 'som 24×24, 10 epochs, PCA init',
    value: Math.round(somSeconds * 1000) / 1000,
    unit: 's CPU',
    note: `${unique.length.toLocaleString('en-US')} distinct line vectors (dim ${dim}); quantisation error ${errors[0].toFixed(3)} → ${errors[errors.length - 1].toFixed(3)}`,
  });

  // BMU search: in sample order (neighbouring lines alike), shuffled, and far from all data (worst case).
  const order = Array.from({ length: unique.length }, (_, i) => i);
  const rng = new SeededRandom(7);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const rounds = 5;
  // One untimed pass first, so the first timed loop does not pay for compiling the search.
  for (let i = 0; i < unique.length; i++) som.bmuDistance(data, i * dim);
  const inOrder = cpuSeconds(() => {
    for (let r = 0; r < rounds; r++) for (let i = 0; i < unique.length; i++) som.bmuDistance(data, i * dim);
  });
  const shuffled = cpuSeconds(() => {
    for (let r = 0; r < rounds; r++) for (const i of order) som.bmuDistance(data, i * dim);
  });
  const far = new Float32Array(unique.length * dim);
  for (let i = 0; i < far.length; i++) far[i] = rng.nextFloat() * 2 - 1;
  const farAway = cpuSeconds(() => {
    for (let i = 0; i < unique.length; i++) som.bmuDistance(far, i * dim);
  });
  const searches = unique.length * rounds;
  rows.push({
    name: 'som best-matching unit, vectors in sample order',
    value: rate(searches, inOrder.seconds),
    unit: 'vectors/CPU-s',
  });
  rows.push({
    name: 'som best-matching unit, shuffled',
    value: rate(searches, shuffled.seconds),
    unit: 'vectors/CPU-s',
  });
  rows.push({
    name: 'som best-matching unit, random far vectors',
    value: rate(unique.length, farAway.seconds),
    unit: 'vectors/CPU-s',
    note: 'worst case: nothing near any unit, little to prune',
  });

  // Worst case: lines of random words (ids nobody masked). Nearly every word is new, every line distinct.
  const worstLines = 50_000;
  const wordRng = new SeededRandom(5);
  const randomWord = (): string => {
    let w = '';
    const length = 3 + wordRng.nextInt(7);
    for (let i = 0; i < length; i++) w += String.fromCharCode(97 + wordRng.nextInt(26));
    return w;
  };
  const noise: string[][] = [];
  for (let i = 0; i < worstLines; i++) {
    const words = ['INFO'];
    const length = 3 + wordRng.nextInt(8);
    for (let j = 0; j < length; j++) words.push(randomWord());
    noise.push(words);
  }
  ctx.log(`worst case: ${worstLines} lines of random words`);
  const noiseModel = cpuSeconds(() => trainWord2Vec(noise, { mode: 'skipgram', dim: 25 }));
  const distinctWords = new Set(noise.flat()).size;
  rows.push({
    name: `word2vec skipgram, ${worstLines.toLocaleString('en-US')} lines of random words`,
    value: Math.round(noiseModel.seconds * 100) / 100,
    unit: 's CPU',
    note: `${distinctWords.toLocaleString('en-US')} distinct words, ${noiseModel.result.vocab.size.toLocaleString('en-US')} trained (maxVocab raised the minimum count)`,
  });
  const noiseData = lineVectors(noiseModel.result, noise);
  const noiseSom = cpuSeconds(() => SelfOrganizingMap.train(noiseData, worstLines, noiseModel.result.dim));
  rows.push({
    name: `som 24×24 on ${worstLines.toLocaleString('en-US')} random-word line vectors`,
    value: Math.round(noiseSom.seconds * 100) / 100,
    unit: 's CPU',
  });
  return rows;
}
