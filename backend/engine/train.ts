// Training: a TrainingSet takes lines one at a time (strings, or byte chunks read from a stream) and keeps one
// entry per masked template with its count; finish() learns the rarity statistics from those counts, trains
// Word2Vec and the SOM on the most frequent templates (counts capped), then scores a sample of the templates
// with leave-one-out statistics to get the training score distributions and the threshold.
//
// Memory stays bounded whatever the input length: a template entry is one example line and a count, at most
// config.maxTrainTemplates of them (past that the rarest are dropped, see prune.ts), and the vocabulary at
// most config.maxVocabulary words. The lines themselves are not kept.

import { DETECTORS, resolveConfig } from './config';
import type { DetectorName, EngineConfig } from './config';
import { LadModel, NEURAL_CAP } from './model';
import type { ModelNorms } from './model';
import { lineVector, loadNeuralModules, NeuralDetector } from './neural';
import { eventCount, foldSpread, FINE_BUCKETS, markSpread, newSpread, PositionClock, spreadCount } from './events';
import type { Spread } from './events';
import { pruneSmallest, pruneTarget } from './prune';
import { SeededRandom } from './random';
import { RarityModel } from './rarity';
import { chooseThreshold, estimableQuantile, summarize } from './stats';
import type { Summary } from './stats';
import { LineScanner } from './tokenizer';
import type { TemplateCluster } from './drain/cluster';
import { TemplateMiner } from './drain/miner';
import type { Model, TrainOptions, TrainProgress } from './types';
import { lineBreakAt, lineEndBefore, widenChunk } from './chunk-lines';

export const MODEL_FORMAT_VERSION = 1;

/** A template seen in training: its first line (enough to rescan its words, template and level) and count. */
interface Seen {
  example: string;
  /** Lines, training and marked-normal ones (the latter weighted). */
  count: number;
  /** Training lines only, and where in the training window they fell (events.ts). */
  lines: number;
  spread: Spread;
  /** The mined template its lines joined. */
  cluster: TemplateCluster;
}

interface Entry {
  words: string[];
  unique: string[];
  template: string;
  level: number;
  levelWord: string | null;
  count: number;
  /** What one of its lines weighs in the counts (its events ÷ its lines, events.ts): the leave-one-out share. */
  loo: number;
}

function uniqueOf(words: readonly string[]): string[] {
  return [...new Set(words)];
}

function trainNeural(
  entries: Entry[],
  rarity: RarityModel,
  config: EngineConfig,
  progress: (p: TrainProgress) => void,
): { detector: NeuralDetector; scale: number } | null {
  const modules = config.neural.enabled ? loadNeuralModules() : null;
  if (modules === null) return null;
  const n = config.neural;
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

/**
 * Training data accumulated line by line, in input order: `add` a string, or `addChunk` a buffer of whole
 * UTF-8 lines (what cli/input.streamChunks hands out), then `finish` once. The lines marked normal
 * (options.normalLines) are taken at finish, weighted by the number of lines added by then.
 */
export class TrainingSet {
  readonly config: EngineConfig;
  private readonly scanner: LineScanner;
  /** Scans examples again (when dropping or finishing), leaving `scanner` to the line being added. */
  private readonly rescanner: LineScanner;
  /** Templates by the scanner's 53-bit template hash. */
  private readonly seen = new Map<number, Seen>();
  /** Receives the lines of dropped templates (words, levels, line total) as they go; the kept ones at finish. */
  private readonly rarity: RarityModel;
  private added = 0;
  /** Templates dropped to stay within maxTrainTemplates, and a uniform sample of them (reservoir). */
  private dropped = 0;
  private readonly droppedSample: Seen[] = [];
  private wordsForgotten = 0;
  private readonly random = new SeededRandom(1);
  /** Code units of the current chunk, so its ASCII lines are scanned in place. */
  private wide = new Uint16Array(0);
  /** Where the line being observed is: `line`, or else bytes [start, end) of `chunk` (ASCII). */
  private line: string | null = null;
  private chunk: Buffer | null = null;
  private start = 0;
  private end = 0;
  private finished = false;
  /** Line positions for the event counts (events.ts). */
  private readonly clock = new PositionClock();
  private readonly foldScratch = new Uint32Array(FINE_BUCKETS / 32);
  /** Mines templates from every line, continuing from the previous model's when given (stable templates). */
  private readonly miner: TemplateMiner;

  constructor(private readonly options: TrainOptions = {}) {
    this.config = resolveConfig(options.config);
    this.miner = options.templates !== undefined ? TemplateMiner.fromJSON(options.templates) : new TemplateMiner(this.config.miner);
    this.scanner = new LineScanner(this.config.maxLineLength);
    this.rescanner = new LineScanner(this.config.maxLineLength);
    this.rarity = new RarityModel(this.config.topWords);
  }

  /** Training lines added so far (the lines marked normal not counted). */
  get lineCount(): number {
    return this.added;
  }

  add(line: string): void {
    this.added++;
    this.line = line;
    const id = this.observe(this.scanner.scan(line), 1);
    this.options.onLine?.(id, line, this.wide, 0, 0);
  }

  /**
   * Adds the lines of `chunk`, UTF-8 text that ends at a line break or at the end of the input. Lines end at LF
   * (a CR before it is dropped), as cli/input.splitLines splits a string; ASCII lines are scanned in place
   * and never become strings unless their template is new.
   */
  addChunk(chunk: Buffer): void {
    const n = chunk.length;
    const wide = (this.wide = widenChunk(chunk, this.wide));
    this.chunk = chunk;
    let p = 0;
    while (p < n) {
      const lf = lineBreakAt(chunk, p);
      const e = lineEndBefore(chunk, p, lf);
      this.added++;
      if (this.scanner.scanAscii(chunk, p, e, wide)) {
        this.line = null;
        this.start = p;
        this.end = e;
        const id = this.observe(this.scanner, 1);
        this.options.onLine?.(id, null, wide, p, e);
      } else {
        // not ASCII: decoded on its own (LF is never part of a multi-byte UTF-8 character)
        this.line = chunk.toString('utf8', p, e);
        const id = this.observe(this.scanner.scan(this.line), 1);
        this.options.onLine?.(id, this.line, wide, 0, 0);
      }
      p = lf + 1;
    }
    this.chunk = null;
  }

  /**
   * Every training line passes here once, in input order (the lines marked normal last, with their weight).
   * Returns the id of its mined template.
   */
  private observe(scanner: LineScanner, weight: number, training = true): number {
    // positions are only recorded when event counts are on (events.ts); lines marked normal have none
    const bucket = training && this.config.eventCounts ? this.tick() : -1;
    const known = this.seen.get(scanner.hash);
    if (known !== undefined) {
      known.count += weight;
      if (training) known.lines++;
      if (bucket >= 0) markSpread(known.spread, bucket);
      // the line counts for its mined template (and keeps it recently used)
      (this.miner.touch(known.cluster.id) ?? known.cluster).size += weight;
      return known.cluster.id;
    }
    const cluster = this.miner.add(this.miner.tokensOf(scanner.template()), weight);
    const spread = newSpread(Math.max(bucket, 0));
    this.seen.set(scanner.hash, { example: this.example(), count: weight, lines: training ? 1 : 0, spread, cluster });
    if (this.seen.size > this.config.maxTrainTemplates) this.dropRarest();
    return cluster.id;
  }

  /** The fine bucket of the next training line, doubling the buckets (and folding every spread) when full. */
  private tick(): number {
    let b = this.clock.tick();
    while (b < 0) {
      this.clock.doubled();
      for (const e of this.seen.values()) foldSpread(e.spread, this.foldScratch);
      b = this.clock.tick();
    }
    return b;
  }

  /** What a template's lines count for: its training lines as events (events.ts), marked-normal lines in full. */
  private weightOf(e: Seen): number {
    if (!this.config.eventCounts) return e.count;
    const { group, buckets } = this.clock.coarse();
    return eventCount(e.lines, spreadCount(e.spread, group), buckets) + (e.count - e.lines);
  }

  /** The line being observed as a string of its own, cut after the part the scanner reads. */
  private example(): string {
    const keep = this.config.maxLineLength + 1; // the scanner also looks at the character after its limit
    if (this.line === null) return this.chunk!.toString('latin1', this.start, Math.min(this.end, this.start + keep));
    if (this.line.length <= keep) return this.line;
    // a copy, not a slice: a V8 slice keeps the whole (possibly huge) line alive
    return Buffer.from(this.line.slice(0, keep), 'utf16le').toString('utf16le');
  }

  /** Drops the rarest templates; their lines still count for words, levels and the line total. */
  private dropRarest(): void {
    pruneSmallest(this.seen, pruneTarget(this.config.maxTrainTemplates), (e) => e.count, (_, e) => {
      const s = this.rescanner.scan(e.example);
      this.rarity.add(uniqueOf(s.words()), null, s.level, this.weightOf(e));
      this.dropped++;
      // reservoir sampling: each dropped template is in the sample with the same chance, so the rare lines
      // still shape the training score distribution (and the threshold)
      const room = Math.floor(this.config.maxStatTemplates / 2);
      if (this.droppedSample.length < room) this.droppedSample.push(e);
      else {
        const j = this.random.nextInt(this.dropped);
        if (j < room) this.droppedSample[j] = e;
      }
    });
    const maxWords = this.config.maxVocabulary;
    if (this.rarity.df.size > maxWords) this.wordsForgotten += this.rarity.pruneWords(pruneTarget(maxWords));
  }

  private entryOf(seen: Seen): Entry {
    const s = this.rescanner.scan(seen.example);
    const words = s.words();
    return { words, unique: uniqueOf(words), template: s.template(), level: s.level, levelWord: s.levelWord(), count: seen.count, loo: this.weightOf(seen) / seen.count };
  }

  finish(): LadModel {
    if (this.finished) throw new Error('TrainingSet.finish called twice');
    this.finished = true;
    const config = this.config;
    const progress = this.options.onProgress ?? ((): void => undefined);
    const normalLines = this.options.normalLines ?? [];
    if (this.added + normalLines.length === 0) throw new Error('cannot train on zero lines');
    const normalWeight = Math.max(1, Math.round(config.normalLineWeight * this.added));
    for (const line of normalLines) {
      this.line = line;
      this.observe(this.scanner.scan(line), normalWeight, false);
    }

    const rarity = this.rarity;
    const kept = [...this.seen.values()];
    for (const e of kept) {
      const s = this.rescanner.scan(e.example);
      rarity.add(uniqueOf(s.words()), s.template(), s.level, this.weightOf(e));
    }
    if (rarity.df.size > config.maxVocabulary) this.wordsForgotten += rarity.pruneWords(config.maxVocabulary);
    for (const line of normalLines) rarity.normalTemplates.add(this.rescanner.scan(line).template());

    // Bounded work: the most frequent templates (a log with 500k one-off lines must still train in seconds).
    const maxNeural = config.neural.maxTemplates;
    const neuralSet = kept.length > maxNeural ? [...kept].sort((a, b) => b.count - a.count).slice(0, maxNeural) : kept;
    const trained = config.neural.enabled ? trainNeural(neuralSet.map((e) => this.entryOf(e)), rarity, config, progress) : null;

    // Training distributions on at most maxStatTemplates templates: the sample of dropped ones (at most half of
    // them, each standing for dropped / sampled templates) and an even sample of the kept ones (each standing
    // for `stride` templates).
    const stride = Math.ceil(kept.length / (config.maxStatTemplates - this.droppedSample.length));
    const keptSample = stride > 1 ? kept.filter((_, i) => i % stride === 0) : kept;
    const sample = [...keptSample, ...this.droppedSample].map((e) => this.entryOf(e));
    const droppedScale = this.droppedSample.length > 0 ? this.dropped / this.droppedSample.length : 0;
    // each template weighs its events (events.ts) in the distributions: a burst in the window is one event there too
    const counts = Float64Array.from(sample, (e, i) => e.count * e.loo * (i < keptSample.length ? stride : droppedScale));
    return fitModel(
      { config, rarity, trained, sample, counts, progress, miner: this.miner },
      { trainedLines: this.added, templates: kept.length, templatesDropped: this.dropped, wordsForgotten: this.wordsForgotten, normalLines: normalLines.length },
    );
  }
}

interface Fit {
  config: EngineConfig;
  rarity: RarityModel;
  trained: { detector: NeuralDetector; scale: number } | null;
  /** Templates whose leave-one-out scores make the training distributions, and the lines each stands for. */
  sample: Entry[];
  counts: Float64Array;
  progress: (p: TrainProgress) => void;
  miner: TemplateMiner;
}

interface SetCounts {
  trainedLines: number;
  templates: number;
  templatesDropped: number;
  wordsForgotten: number;
  normalLines: number;
}

/**
 * The model from the learned statistics: training distributions with leave-one-out rarity (a line's own
 * occurrence removed), each detector's threshold, and the figures in info.stats.
 */
function fitModel(fit: Fit, set: SetCounts): LadModel {
  const { config, rarity, trained, sample, counts, progress } = fit;
  const neural = trained?.detector ?? null;
  const words = new Float64Array(sample.length);
  const level = new Float64Array(sample.length);
  const dist = new Float64Array(sample.length);
  const placed = new Float64Array(sample.length);
  for (let i = 0; i < sample.length; i++) {
    const e = sample[i];
    words[i] = rarity.wordsBits(e.unique, e.loo);
    level[i] = rarity.levelBits(e.level, e.loo);
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
    trainedLines: set.trainedLines,
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
    const c = provisional.componentsOf(e.words, e.template, e.level, e.levelWord, e.loo);
    perDetector.combined[i] = c.combined;
    perDetector['w2v-som'][i] = c.neural;
    perDetector.rarity[i] = c.rarity;
  }
  const noveltyFloor =
    config.weights.words * rarity.maxWordBits() +
    config.weights.level * rarity.levelBits(rarity.modalLevel()) +
    (neural !== null ? config.weights.neural * NEURAL_CAP : 0);
  // The floor under a detector's threshold. w2v-som alone: never below 1 = the largest training distance (LAD's
  // normalisation), so a map that fits its training lines exactly does not flag float noise.
  const floorOf = (d: DetectorName): number => (config.thresholdFloor === 'none' ? 0 : d === 'w2v-som' ? 1 : noveltyFloor);
  const thresholds = {} as Record<DetectorName, number>;
  const summaries = {} as Record<DetectorName, Summary>;
  for (const d of DETECTORS) {
    summaries[d] = summarize(perDetector[d], counts);
    const floor = floorOf(d);
    const plain = chooseThreshold(summaries[d], config.thresholdMethod, config.thresholdK, config.thresholdPercentile, floor);
    // thresholdMinExceedances can only lower a percentile (to one with enough training lines above it)
    const lowered =
      config.thresholdMethod === 'percentile' && config.thresholdMinExceedances > 0
        ? estimableQuantile(perDetector[d], counts, config.thresholdPercentile / 100, config.thresholdMinExceedances)
        : Infinity;
    thresholds[d] = Math.max(floor, Math.min(plain, lowered));
  }
  const summary = summaries[config.detector];
  info.threshold = thresholds[config.detector];
  info.stats = {
    templates: set.templates,
    templatesDropped: set.templatesDropped,
    vocabulary: rarity.df.size,
    wordsForgotten: set.wordsForgotten,
    normalLines: set.normalLines,
    neuralEnabled: neural !== null ? 1 : 0,
    thresholdCombined: thresholds.combined,
    thresholdW2vSom: thresholds['w2v-som'],
    thresholdRarity: thresholds.rarity,
    // the floor under the configured detector's threshold: feedback calibration never goes below it
    thresholdFloor: floorOf(config.detector),
    // templates from this id on are made by lines scored after training: a new kind of line (model.ts)
    firstNewTemplateId: fit.miner.nextTemplateId,
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
  progress({ phase: 'done', done: set.templates, total: set.templates });
  return new LadModel(info, rarity, neural, norms, summary, fit.miner);
}

/** Trains a model on the main thread (see trainModelInWorker for the off-thread variant). */
export async function trainModel(lines: readonly string[], options: TrainOptions = {}): Promise<Model> {
  return trainModelSync(lines, options);
}

export function trainModelSync(lines: readonly string[], options: TrainOptions = {}): LadModel {
  const set = new TrainingSet(options);
  const progress = options.onProgress ?? ((): void => undefined);
  const total = lines.length + (options.normalLines?.length ?? 0);
  for (let i = 0; i < lines.length; i++) {
    set.add(lines[i]);
    if ((i & 0xffff) === 0) progress({ phase: 'tokenize', done: i, total });
  }
  progress({ phase: 'tokenize', done: total, total });
  return set.finish();
}
