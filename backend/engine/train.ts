// Training: group lines by template (one entry per unique template, with its count), learn the rarity
// statistics, train Word2Vec and the SOM on the unique templates (counts capped), then score every template
// with leave-one-out statistics to get the training score distributions and the threshold.

import { DETECTORS, resolveConfig } from './config';
import type { DetectorName, EngineConfig } from './config';
import { LadModel, NEURAL_CAP } from './model';
import type { ModelNorms } from './model';
import { lineVector, loadNeuralModules, NeuralDetector } from './neural';
import { RarityModel } from './rarity';
import { chooseThreshold, summarize } from './stats';
import type { Summary } from './stats';
import { LineScanner } from './tokenizer';

function templateOfWith(line: string, maxLineLength: number): string {
  return new LineScanner(maxLineLength).scan(line).template();
}
import type { Model, TrainOptions, TrainProgress } from './types';

export const MODEL_FORMAT_VERSION = 1;

interface Entry {
  words: string[];
  unique: string[];
  template: string;
  level: number;
  levelWord: string | null;
  count: number;
}

function groupLines(
  lines: readonly string[],
  normalLines: readonly string[],
  normalWeight: number,
  config: EngineConfig,
  progress: (p: TrainProgress) => void,
): Map<number, Entry> {
  const scanner = new LineScanner(config.maxLineLength);
  const entries = new Map<number, Entry>();
  const total = lines.length + normalLines.length;
  const add = (line: string, weight: number): void => {
    const s = scanner.scan(line);
    let e = entries.get(s.hash);
    if (e === undefined) {
      const words = s.words();
      e = { words, unique: [...new Set(words)], template: s.template(), level: s.level, levelWord: s.levelWord(), count: 0 };
      entries.set(s.hash, e);
    }
    e.count += weight;
  };
  for (let i = 0; i < lines.length; i++) {
    add(lines[i], 1);
    if ((i & 0xffff) === 0) progress({ phase: 'tokenize', done: i, total });
  }
  for (const line of normalLines) add(line, normalWeight);
  progress({ phase: 'tokenize', done: total, total });
  return entries;
}

function trainNeural(
  allEntries: Entry[],
  rarity: RarityModel,
  config: EngineConfig,
  progress: (p: TrainProgress) => void,
): { detector: NeuralDetector; scale: number } | null {
  const modules = config.neural.enabled ? loadNeuralModules() : null;
  if (modules === null) return null;
  const n = config.neural;
  // Bounded work: the most frequent templates (a log with 500k one-off lines must still train in seconds).
  const entries = allEntries.length > n.maxTemplates ? [...allEntries].sort((a, b) => b.count - a.count).slice(0, n.maxTemplates) : allEntries;
  const sentences: string[][] = [];
  for (const e of entries) {
    const reps = Math.min(Math.ceil(e.count), n.repeatCap);
    for (let r = 0; r < reps; r++) sentences.push(e.words);
  }
  const w2v = modules.w2v.trainWord2Vec(
    sentences,
    { mode: n.mode, dim: n.dim, window: n.window, epochs: n.epochs, minCount: n.minCount, negative: n.negative, seed: n.seed },
    (done, total) => progress({ phase: 'word2vec', done, total }),
  );
  // SOM data: one vector per placeable template, repeated like the sentences.
  const dim = w2v.dim;
  const vec = new Float32Array(dim);
  const rows: Float32Array[] = [];
  for (const e of entries) {
    if (lineVector(w2v, e.unique, Float64Array.from(e.unique, rarity.weight), vec) === 0) continue;
    const reps = Math.min(Math.ceil(e.count), n.repeatCap);
    for (let r = 0; r < reps; r++) rows.push(vec.slice());
  }
  if (rows.length === 0) return null;
  const data = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => data.set(row, i * dim));
  const som = modules.som.SelfOrganizingMap.train(
    data,
    rows.length,
    dim,
    { width: n.somWidth, height: n.somHeight, epochs: n.somEpochs, seed: n.seed },
    (epoch, epochs) => progress({ phase: 'som', done: epoch, total: epochs }),
  );
  let norms = 0;
  for (const row of rows) {
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += row[d] * row[d];
    norms += Math.sqrt(sq);
  }
  return { detector: new NeuralDetector(w2v, som), scale: norms / rows.length };
}

/** Trains a model on the main thread (see trainModelInWorker for the off-thread variant). */
export async function trainModel(lines: readonly string[], options: TrainOptions = {}): Promise<Model> {
  return trainModelSync(lines, options);
}

export function trainModelSync(lines: readonly string[], options: TrainOptions = {}): LadModel {
  const config = resolveConfig(options.config);
  const progress = options.onProgress ?? ((): void => undefined);
  const normalLines = options.normalLines ?? [];
  if (lines.length + normalLines.length === 0) throw new Error('cannot train on zero lines');
  const normalWeight = Math.max(1, Math.round(config.normalLineWeight * lines.length));
  const entries = [...groupLines(lines, normalLines, normalWeight, config, progress).values()];

  const rarity = new RarityModel(config.topWords);
  for (const e of entries) rarity.add(e.unique, e.template, e.level, e.count);
  for (const line of normalLines) rarity.normalTemplates.add(templateOfWith(line, config.maxLineLength));

  const trained = trainNeural(entries, rarity, config, progress);
  const neural = trained?.detector ?? null;

  // Training distributions with leave-one-out rarity (a line's own occurrence removed), on an even sample of
  // the templates when there are very many (each sampled template stands for `stride` templates).
  const stride = Math.ceil(entries.length / config.maxStatTemplates);
  const sample = stride > 1 ? entries.filter((_, i) => i % stride === 0) : entries;
  const counts = Float64Array.from(sample, (e) => e.count * stride);
  const words = new Float64Array(sample.length);
  const level = new Float64Array(sample.length);
  const dist = new Float64Array(sample.length);
  const placed = new Float64Array(sample.length);
  for (let i = 0; i < sample.length; i++) {
    const e = sample[i];
    words[i] = rarity.wordsBits(e.unique, 1);
    level[i] = rarity.levelBits(e.level, 1);
    if (neural !== null) {
      const d = neural.distance(e.unique, Float64Array.from(e.unique, rarity.weight));
      if (d !== null) {
        dist[i] = d;
        placed[i] = counts[i];
      }
    }
    if ((i & 0xfff) === 0) progress({ phase: 'statistics', done: i, total: sample.length });
  }
  const w = summarize(words, counts);
  const l = summarize(level, counts);
  const dsum = summarize(dist, placed);
  const norms: ModelNorms = {
    words: { mean: w.mean, std: w.std },
    level: { mean: l.mean, std: l.std },
    neural: { mean: dsum.mean, std: dsum.std, max: dsum.max, scale: trained?.scale ?? 1 },
  };

  const info = {
    version: MODEL_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    trainedLines: lines.length,
    threshold: Infinity,
    config,
    stats: {} as Record<string, number>,
  };
  // Every detector's training distribution and threshold (eval compares them; `detector` picks one).
  const provisional = new LadModel(info, rarity, neural, norms, summarize([], []));
  const perDetector: Record<DetectorName, Float64Array> = {
    combined: new Float64Array(sample.length),
    'w2v-som': new Float64Array(sample.length),
    rarity: new Float64Array(sample.length),
  };
  for (let i = 0; i < sample.length; i++) {
    const e = sample[i];
    const c = provisional.componentsOf(e.words, e.template, e.level, e.levelWord, 1);
    perDetector.combined[i] = c.combined;
    perDetector['w2v-som'][i] = c.neural;
    perDetector.rarity[i] = c.rarity;
  }
  const noveltyFloor =
    config.weights.words * rarity.maxWordBits() +
    config.weights.level * rarity.levelBits(rarity.modalLevel()) +
    (neural !== null ? config.weights.neural * NEURAL_CAP : 0);
  const thresholds = {} as Record<DetectorName, number>;
  const summaries = {} as Record<DetectorName, Summary>;
  for (const d of DETECTORS) {
    summaries[d] = summarize(perDetector[d], counts);
    // w2v-som alone: never below 1 = the largest training distance (LAD's normalisation), so a map that fits
    // its training lines exactly does not flag float noise.
    const floor = config.thresholdFloor === 'none' ? 0 : d === 'w2v-som' ? 1 : noveltyFloor;
    thresholds[d] = chooseThreshold(summaries[d], config.thresholdMethod, config.thresholdK, config.thresholdPercentile, floor);
  }
  const summary = summaries[config.detector];
  info.threshold = thresholds[config.detector];
  info.stats = {
    templates: entries.length,
    vocabulary: rarity.df.size,
    normalLines: normalLines.length,
    neuralEnabled: neural !== null ? 1 : 0,
    thresholdCombined: thresholds.combined,
    thresholdW2vSom: thresholds['w2v-som'],
    thresholdRarity: thresholds.rarity,
    scoreMean: summary.mean,
    scoreStd: summary.std,
    scoreMax: summary.max,
    scoreP99: summary.quantiles[3],
    wordsBitsMean: w.mean,
    wordsBitsStd: w.std,
    levelBitsMean: l.mean,
    levelBitsStd: l.std,
    somDistanceMean: dsum.mean,
    somDistanceStd: dsum.std,
    somDistanceMax: dsum.max,
  };
  progress({ phase: 'done', done: entries.length, total: entries.length });
  return new LadModel(info, rarity, neural, norms, summary);
}
