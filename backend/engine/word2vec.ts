/**
 * Word2Vec (Mikolov et al. 2013) with negative sampling, skip-gram or CBOW, trained on one sentence per log line.
 *
 * It follows the reference word2vec.c closely (reduced random window, unigram^0.75 negative table, linear
 * learning-rate decay, a precomputed sigmoid table) so that its behaviour is well understood, but it is
 * single-threaded and seeded: the same sentences, options and seed give bit-identical vectors.
 *
 * The inner loops touch typed arrays only: the corpus is encoded once into an Int32Array of word ids with an
 * Int32Array of sentence ends, and the weights are Float32Arrays; nothing is allocated per token.
 */
import { z } from 'zod';
import { DEFAULT_CONFIG } from './config';
import type { NeuralConfig } from './config';
import { SeededRandom } from './random';

export interface Word2VecOptions {
  mode: 'skipgram' | 'cbow';
  dim: number;
  window: number;
  epochs: number;
  minCount: number;
  negative: number;
  learningRate: number;
  seed: number;
  /**
   * Subsampling threshold for frequent words (word2vec.c's -sample; 0 turns it off). Optional so the
   * engine's contract stays as documented; default 1e-3 like word2vec.c and gensim.
   */
  sample?: number;
  /**
   * Largest vocabulary to train. When more distinct words reach minCount, the minimum count is raised until
   * they fit (like gensim's max_final_vocab), so all words of one count stay or go together. Optional;
   * default 100,000, far above what masked log lines produce, and a guard against lines full of unmasked
   * ids (millions of words seen once cost minutes and carry no context to learn from).
   */
  maxVocab?: number;
}

export interface Word2VecModel {
  dim: number;
  /** word -> row index into `vectors` (rows ordered by descending count) */
  vocab: Map<string, number>;
  /** vocab.size × dim input vectors, row-major */
  vectors: Float32Array;
  /** training-corpus count of each word, by row index */
  counts: Uint32Array;
}

/**
 * The options the engine configures (mode, dim, window, epochs, minCount, negative, seed) come from its
 * config (config.ts, `neural`), the one place they are written; sample and maxVocab are this module's own.
 */
export const DEFAULT_WORD2VEC_OPTIONS: Readonly<Omit<Word2VecOptions, 'learningRate'>> = {
  ...word2VecOptionsOf(DEFAULT_CONFIG.neural),
  sample: 1e-3,
  maxVocab: 100_000,
};

/** The Word2Vec options an engine config sets (the rest keep this module's defaults). */
export function word2VecOptionsOf(n: NeuralConfig): Pick<Word2VecOptions, 'mode' | 'dim' | 'window' | 'epochs' | 'minCount' | 'negative' | 'seed'> {
  return { mode: n.mode, dim: n.dim, window: n.window, epochs: n.epochs, minCount: n.minCount, negative: n.negative, seed: n.seed };
}

/** word2vec.c's starting learning rates: CBOW averages its input, so it takes a larger step. */
const DEFAULT_LEARNING_RATE = { skipgram: 0.025, cbow: 0.05 } as const;

const optionsSchema = z.object({
  mode: z.enum(['skipgram', 'cbow']),
  dim: z.number().int().min(1).max(4096),
  window: z.number().int().min(1).max(100),
  epochs: z.number().int().min(1).max(1000),
  minCount: z.number().int().min(1),
  negative: z.number().int().min(1).max(100),
  learningRate: z.number().positive().max(1),
  seed: z.number().int(),
  sample: z.number().min(0).max(1),
  maxVocab: z.number().int().min(1),
});

/** Precomputed logistic function on [-MAX_EXP, MAX_EXP], as in word2vec.c. */
const MAX_EXP = 6;
const EXP_TABLE_SIZE = 1000;
const SIGMOID_SCALE = EXP_TABLE_SIZE / MAX_EXP / 2;
const SIGMOID = (() => {
  const table = new Float64Array(EXP_TABLE_SIZE);
  for (let i = 0; i < EXP_TABLE_SIZE; i++) {
    const e = Math.exp(((i / EXP_TABLE_SIZE) * 2 - 1) * MAX_EXP);
    table[i] = e / (e + 1);
  }
  return table;
})();

/** The learning rate never decays below this share of its start (word2vec.c uses the same floor). */
const MIN_LEARNING_RATE_SHARE = 1e-4;
/** Report progress about this often (in processed tokens) so a progress bar moves without slowing training. */
const PROGRESS_EVERY_TOKENS = 50_000;

export function resolveWord2VecOptions(options: Partial<Word2VecOptions> = {}): Required<Word2VecOptions> {
  const mode = options.mode ?? DEFAULT_WORD2VEC_OPTIONS.mode;
  const merged = {
    ...DEFAULT_WORD2VEC_OPTIONS,
    learningRate: DEFAULT_LEARNING_RATE[mode] ?? DEFAULT_LEARNING_RATE.cbow,
    ...stripUndefined(options),
  };
  const parsed = optionsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid word2vec option ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface Vocabulary {
  vocab: Map<string, number>;
  counts: Uint32Array;
}

/**
 * Counts words and keeps those seen at least minCount times (raised as needed so at most maxVocab words stay),
 * most frequent first (ties: first seen first).
 */
function buildVocabulary(sentences: readonly (readonly string[])[], minCount: number, maxVocab: number): Vocabulary {
  const raw = new Map<string, number>();
  for (const sentence of sentences) {
    for (const word of sentence) {
      raw.set(word, (raw.get(word) ?? 0) + 1);
    }
  }
  const effectiveMinCount = raiseMinCount(raw, minCount, maxVocab);
  const kept: Array<[string, number]> = [];
  for (const entry of raw) {
    if (entry[1] >= effectiveMinCount) {
      kept.push(entry);
    }
  }
  // Array.prototype.sort is stable, so equal counts keep first-seen order: deterministic for a given input.
  kept.sort((a, b) => b[1] - a[1]);
  const vocab = new Map<string, number>();
  const counts = new Uint32Array(kept.length);
  kept.forEach(([word, count], i) => {
    vocab.set(word, i);
    counts[i] = count;
  });
  return { vocab, counts };
}

/** The smallest count ≥ minCount at which no more than maxVocab words remain. */
function raiseMinCount(counts: Map<string, number>, minCount: number, maxVocab: number): number {
  // words per count value, then walk up from minCount until the words at or above it fit
  const wordsWithCount = new Map<number, number>();
  let remaining = 0;
  for (const c of counts.values()) {
    if (c >= minCount) {
      wordsWithCount.set(c, (wordsWithCount.get(c) ?? 0) + 1);
      remaining++;
    }
  }
  if (remaining <= maxVocab) return minCount;
  const distinctCounts = [...wordsWithCount.keys()].sort((a, b) => a - b);
  for (const c of distinctCounts) {
    remaining -= wordsWithCount.get(c) ?? 0;
    if (remaining <= maxVocab) return c + 1;
  }
  return Infinity;
}

interface EncodedCorpus {
  ids: Int32Array;
  /** sentenceEnds[s] = index in ids one past the last token of sentence s */
  sentenceEnds: Int32Array;
}

/** Turns sentences into word ids once, dropping words outside the vocabulary (below minCount). */
function encodeCorpus(sentences: readonly (readonly string[])[], vocab: Map<string, number>): EncodedCorpus {
  let total = 0;
  for (const sentence of sentences) {
    total += sentence.length;
  }
  const ids = new Int32Array(total);
  const sentenceEnds = new Int32Array(sentences.length);
  let n = 0;
  for (let s = 0; s < sentences.length; s++) {
    for (const word of sentences[s]) {
      const id = vocab.get(word);
      if (id !== undefined) {
        ids[n++] = id;
      }
    }
    sentenceEnds[s] = n;
  }
  return { ids: ids.subarray(0, n), sentenceEnds };
}

/**
 * The table negative samples are drawn from: word i fills a share of slots proportional to count_i^0.75,
 * which samples rare words more often than their frequency (Mikolov et al.). Its size grows with the
 * vocabulary so that even the rarest kept word gets slots.
 */
function buildUnigramTable(counts: Uint32Array): Int32Array {
  const size = Math.min(10_000_000, Math.max(100_000, counts.length * 100));
  const table = new Int32Array(size);
  let norm = 0;
  for (let i = 0; i < counts.length; i++) {
    norm += Math.pow(counts[i], 0.75);
  }
  let word = 0;
  let cumulative = Math.pow(counts[0], 0.75) / norm;
  for (let a = 0; a < size; a++) {
    table[a] = word;
    if (a / size > cumulative && word < counts.length - 1) {
      word++;
      cumulative += Math.pow(counts[word], 0.75) / norm;
    }
  }
  return table;
}

/**
 * Trains word vectors on `sentences` (one log line each, already tokenized).
 * onProgress(done, total) is called every few tens of thousands of tokens, counting tokens over all epochs.
 */
export function trainWord2Vec(
  sentences: readonly (readonly string[])[],
  options?: Partial<Word2VecOptions>,
  onProgress?: (done: number, total: number) => void
): Word2VecModel {
  const opts = resolveWord2VecOptions(options);
  const { dim, window, epochs, negative } = opts;
  const { vocab, counts } = buildVocabulary(sentences, opts.minCount, opts.maxVocab);
  const vocabSize = counts.length;
  const rng = new SeededRandom(opts.seed);

  // Input vectors start small and random (word2vec.c), output vectors at zero. Float32 halves the memory of
  // a large vocabulary; measured here, float64 weights trained no faster.
  const syn0 = new Float32Array(vocabSize * dim);
  for (let i = 0; i < syn0.length; i++) {
    syn0[i] = (rng.nextFloat() - 0.5) / dim;
  }
  if (vocabSize === 0) {
    onProgress?.(0, 0);
    return { dim, vocab, vectors: new Float32Array(0), counts };
  }
  const syn1neg = new Float32Array(vocabSize * dim);
  const table = buildUnigramTable(counts);
  const { ids, sentenceEnds } = encodeCorpus(sentences, vocab);
  const tokensPerEpoch = ids.length;
  const totalTokens = tokensPerEpoch * epochs;
  const keepProbability = subsamplingKeepProbabilities(counts, opts.sample);
  const state: TrainingState = {
    dim,
    negative,
    syn0,
    syn1neg,
    table,
    rng,
    neu1: new Float64Array(dim),
    neu1e: new Float64Array(dim),
  };
  const step = opts.mode === 'cbow' ? cbowStep : skipGramStep;
  // The current sentence after subsampling; a log line longer than the longest sentence cannot occur.
  let longest = 0;
  for (let s = 0, start = 0; s < sentenceEnds.length; start = sentenceEnds[s++]) {
    longest = Math.max(longest, sentenceEnds[s] - start);
  }
  const sentence = new Int32Array(longest);

  let processed = 0;
  let nextReport = PROGRESS_EVERY_TOKENS;
  for (let epoch = 0; epoch < epochs; epoch++) {
    let start = 0;
    for (let s = 0; s < sentenceEnds.length; s++) {
      const end = sentenceEnds[s];
      let length = 0;
      for (let pos = start; pos < end; pos++) {
        const word = ids[pos];
        if (keepProbability === null || keepProbability[word] >= rng.nextFloat()) {
          sentence[length++] = word;
        }
      }
      // The rate decays per sentence over all tokens, dropped ones included, so every epoch decays alike.
      const alpha = opts.learningRate * Math.max(1 - processed / (totalTokens + 1), MIN_LEARNING_RATE_SHARE);
      for (let pos = 0; pos < length; pos++) {
        // Reduced window: nearer context words are seen more often, as in word2vec.c.
        const reach = window - rng.nextInt(window);
        step(state, sentence, pos, Math.max(0, pos - reach), Math.min(length - 1, pos + reach), alpha);
      }
      processed += end - start;
      if (processed >= nextReport) {
        nextReport = processed + PROGRESS_EVERY_TOKENS;
        onProgress?.(processed, totalTokens);
      }
      start = end;
    }
  }
  onProgress?.(totalTokens, totalTokens);
  return { dim, vocab, vectors: syn0, counts };
}

/**
 * word2vec.c's subsampling of frequent words: a word making up a share f of the corpus is kept with
 * probability (sqrt(f/sample) + 1) · sample/f, so words like "INFO" that sit on every line stop dominating
 * the updates (and training gets faster). null when subsampling is off.
 */
function subsamplingKeepProbabilities(counts: Uint32Array, sample: number): Float64Array | null {
  if (sample <= 0) return null;
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const threshold = sample * total;
  const keep = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    keep[i] = (Math.sqrt(counts[i] / threshold) + 1) * (threshold / counts[i]);
  }
  return keep;
}

interface TrainingState {
  dim: number;
  negative: number;
  syn0: Float32Array;
  syn1neg: Float32Array;
  table: Int32Array;
  rng: SeededRandom;
  /** scratch: the CBOW context mean */
  neu1: Float64Array;
  /** scratch: the accumulated input-side gradient */
  neu1e: Float64Array;
}

type TrainingStep = (
  st: TrainingState,
  sentence: Int32Array,
  pos: number,
  from: number,
  to: number,
  alpha: number
) => void;

/** CBOW: predict sentence[pos] from the mean of its context words, then spread the error back over them. */
const cbowStep: TrainingStep = (st, sentence, pos, from, to, alpha) => {
  const { dim, syn0, syn1neg, neu1, neu1e, table } = st;
  const word = sentence[pos];
  let contextCount = 0;
  for (let k = 0; k < dim; k++) neu1[k] = 0;
  for (let c = from; c <= to; c++) {
    if (c === pos) continue;
    const l1 = sentence[c] * dim;
    for (let k = 0; k < dim; k++) neu1[k] += syn0[l1 + k];
    contextCount++;
  }
  if (contextCount === 0) return;
  for (let k = 0; k < dim; k++) {
    neu1[k] /= contextCount;
    neu1e[k] = 0;
  }
  for (let d = 0; d <= st.negative; d++) {
    let target = word;
    let label = 1;
    if (d > 0) {
      target = table[st.rng.nextInt(table.length)];
      if (target === word) continue;
      label = 0;
    }
    const l2 = target * dim;
    let f = 0;
    for (let k = 0; k < dim; k++) f += neu1[k] * syn1neg[l2 + k];
    const g = gradient(f, label, alpha);
    for (let k = 0; k < dim; k++) {
      const out = syn1neg[l2 + k];
      neu1e[k] += g * out;
      syn1neg[l2 + k] = out + g * neu1[k];
    }
  }
  for (let c = from; c <= to; c++) {
    if (c === pos) continue;
    const l1 = sentence[c] * dim;
    for (let k = 0; k < dim; k++) syn0[l1 + k] += neu1e[k];
  }
};

/**
 * Skip-gram: predict sentence[pos] from each context word on its own.
 * Its negative-sampling loop repeats cbowStep's on purpose: there the input is neu1 (Float64Array), here syn0
 * (Float32Array), and one shared function over both would make the hottest training loop polymorphic.
 */
const skipGramStep: TrainingStep = (st, sentence, pos, from, to, alpha) => {
  const { dim, syn0, syn1neg, neu1e, table } = st;
  const word = sentence[pos];
  for (let c = from; c <= to; c++) {
    if (c === pos) continue;
    const l1 = sentence[c] * dim;
    for (let k = 0; k < dim; k++) neu1e[k] = 0;
    for (let d = 0; d <= st.negative; d++) {
      let target = word;
      let label = 1;
      if (d > 0) {
        target = table[st.rng.nextInt(table.length)];
        if (target === word) continue;
        label = 0;
      }
      const l2 = target * dim;
      let f = 0;
      for (let k = 0; k < dim; k++) f += syn0[l1 + k] * syn1neg[l2 + k];
      const g = gradient(f, label, alpha);
      for (let k = 0; k < dim; k++) {
        const out = syn1neg[l2 + k];
        neu1e[k] += g * out;
        syn1neg[l2 + k] = out + g * syn0[l1 + k];
      }
    }
    for (let k = 0; k < dim; k++) syn0[l1 + k] += neu1e[k];
  }
};

/** (label − σ(f)) · α, with σ from the table and saturated outside ±MAX_EXP like word2vec.c. */
function gradient(f: number, label: number, alpha: number): number {
  if (f >= MAX_EXP) return (label - 1) * alpha;
  if (f <= -MAX_EXP) return label * alpha;
  return (label - SIGMOID[((f + MAX_EXP) * SIGMOID_SCALE) | 0]) * alpha;
}

/** Cosine similarity of two words' vectors, or null when either word is not in the vocabulary. */
export function wordSimilarity(model: Word2VecModel, a: string, b: string): number | null {
  const ia = model.vocab.get(a);
  const ib = model.vocab.get(b);
  if (ia === undefined || ib === undefined) return null;
  const { dim, vectors } = model;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < dim; k++) {
    const x = vectors[ia * dim + k];
    const y = vectors[ib * dim + k];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

const SERIAL_FORMAT = 'scorpio-word2vec';
const SERIAL_VERSION = 1;

const serializedSchema = z.object({
  format: z.literal(SERIAL_FORMAT),
  version: z.literal(SERIAL_VERSION),
  dim: z.number().int().min(1),
  words: z.array(z.string()),
  counts: z.array(z.number().int().min(0)),
});

/**
 * Splits a model into a JSON part (words in row order and their counts) and the raw vectors, so the caller can
 * store the vectors as a binary file instead of millions of JSON numbers.
 */
export function serializeWord2Vec(m: Word2VecModel): { json: object; vectors: Float32Array } {
  const words = new Array<string>(m.vocab.size);
  for (const [word, index] of m.vocab) {
    words[index] = word;
  }
  return {
    json: { format: SERIAL_FORMAT, version: SERIAL_VERSION, dim: m.dim, words, counts: Array.from(m.counts) },
    vectors: m.vectors,
  };
}

/** Rebuilds a model from serializeWord2Vec's output; throws a readable error when the parts do not fit. */
export function deserializeWord2Vec(json: object, vectors: Float32Array): Word2VecModel {
  const parsed = serializedSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid word2vec model: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { dim, words, counts } = parsed.data;
  if (counts.length !== words.length) {
    throw new Error(`invalid word2vec model: ${words.length} words but ${counts.length} counts`);
  }
  if (vectors.length !== words.length * dim) {
    throw new Error(
      `invalid word2vec model: expected ${words.length}×${dim} = ${words.length * dim} vector values, got ${vectors.length}`
    );
  }
  const vocab = new Map<string, number>();
  words.forEach((word, i) => vocab.set(word, i));
  if (vocab.size !== words.length) {
    throw new Error('invalid word2vec model: duplicate words');
  }
  return { dim, vocab, vectors, counts: Uint32Array.from(counts) };
}
