// A trained model: the rarity statistics, the optional W2V+SOM detector, the training score distributions
// and the threshold. Scoring caches one result per template hash: the same masked words give the same score,
// so only new templates pay for the detectors and for building strings.

import type { EngineConfig } from './config';
import { levelName, NO_LEVEL } from './levels';

/** Failure words count only on lines without a level or at warn or above (see lexicon.ts). */
const PROBLEM_MIN_LEVEL = 4;
import type { NeuralDetector } from './neural';
import type { RarityModel } from './rarity';
import type { Summary } from './stats';
import { ScoreCache } from './score-cache';
import type { TemplateCluster } from './drain/cluster';
import { TemplateMiner } from './drain/miner';
import { joinTokens } from './drain/tokens';
import type { MinerState } from './drain/state';
import { LineScanner } from './tokenizer';
import type { LineScore, Model, ModelInfo } from './types';

/** Mean and spread of a component over the training lines, to put components on one scale. */
export interface Norm {
  mean: number;
  std: number;
}

export interface ModelNorms {
  words: Norm;
  level: Norm;
  /** Raw BMU distances of the training lines (W2V+SOM); `scale` = mean length of the training line vectors. */
  neural: Norm & { max: number; scale: number };
}

/** All scores of one line, for evaluation and explanations. */
export interface ComponentScores {
  combined: number;
  /** The W2V+SOM score alone: BMU distance ÷ the largest training distance (LAD's normalisation). */
  neural: number;
  /** Rare words + level (bits), the detector without W2V+SOM. */
  rarity: number;
  wordsBits: number;
  levelBits: number;
  problemBits: number;
  problemWord: string | null;
  /** The line's mined template is new since training (its failure word then weighs as unseen). */
  newEvent: boolean;
  templateBits: number;
  rareWords: { word: string; bits: number }[];
  level: number;
  template: string;
}

/** Score of a line whose words are all unknown to W2V (it cannot be placed on the map). */
export const UNPLACEABLE_NEURAL = 1.5;
/**
 * Distances are compared with at least this share of the typical line-vector length as their spread, so a
 * map that fits a very regular log exactly (training distances all ~0) does not turn float noise into alarms.
 */
const MIN_SPREAD_SHARE = 0.05;
/** The W2V+SOM part adds at most this many "bits" to the combined score (like one fairly rare word). */
export const NEURAL_CAP = 8;

export interface CachedScore extends LineScore {
  /** Free slot for a consumer's per-template precomputation (the CLI keeps its encoded JSON fragment here). */
  extra?: Buffer;
  /** The mined template this masked template belongs to, its miner tokens, and the revision `template` shows. */
  cluster?: TemplateCluster;
  tokens?: string[];
  revision?: number;
}

export class LadModel implements Model {
  private readonly scanner: LineScanner;
  private readonly cache = new ScoreCache<CachedScore>();

  constructor(
    readonly info: ModelInfo,
    readonly rarity: RarityModel,
    readonly neural: NeuralDetector | null,
    readonly norms: ModelNorms,
    /** Distribution of the configured detector's scores over the training lines. */
    readonly trainingScores: Summary,
    /** Mined templates: learned in training, and still learning as lines are scored (a line may widen one). */
    readonly miner: TemplateMiner = new TemplateMiner(info.config.miner),
  ) {
    this.scanner = new LineScanner(info.config.maxLineLength);
    // saved with the model; a model saved before it takes the templates it was loaded with as the trained ones
    this.firstNewTemplateId = info.stats.firstNewTemplateId ?? miner.nextTemplateId;
  }
  /** Templates with this id or above were made after training (by lines scored since). */
  private readonly firstNewTemplateId: number;

  /** A line of this template is of a kind no training line made (no template at all: a kind never seen). */
  private isNewKind(cluster: TemplateCluster | undefined): boolean {
    return cluster === undefined || cluster.id >= this.firstNewTemplateId;
  }

  templateStats(): { templates: number; evicted: number } {
    return { templates: this.miner.size, evicted: this.miner.evicted };
  }

  minedTemplates(): MinerState {
    return this.miner.toJSON();
  }

  /** The mined template of a line, without learning from it (feedback given as a message, grouping). */
  templateOf(line: string): string {
    const tokens = this.miner.tokensOf(this.scanner.scan(line).template());
    const cluster = this.miner.match(tokens);
    return cluster === undefined ? joinTokens(tokens) : this.miner.textOf(cluster, tokens);
  }

  get config(): EngineConfig {
    return this.info.config;
  }
  get threshold(): number {
    return this.info.threshold;
  }

  score(line: string): CachedScore {
    return this.resultOf(this.scanner.scan(line));
  }

  /**
   * Scores the UTF-8 line held in `bytes[start, end)` without decoding it to a string, when it is ASCII; the
   * result is the same as `score` of the decoded line. Returns null for a line with other bytes: decode it
   * and call `score`. The CLI scores files this way: most lines hit the cache and never become strings.
   * `wide`: the whole of `bytes` widened to code units (see LineScanner.scanAscii), saves a per-line copy.
   */
  scoreAscii(bytes: Buffer, start: number, end: number, wide?: Uint16Array): CachedScore | null {
    return this.scanner.scanAscii(bytes, start, end, wide) ? this.resultOf(this.scanner) : null;
  }

  private resultOf(s: LineScanner): CachedScore {
    const hit = this.cache.get(s.hashHi, s.hashLo);
    if (hit !== undefined) {
      this.observeCached(hit);
      return hit;
    }
    const masked = s.template();
    const tokens = this.miner.tokensOf(masked);
    const cluster = this.miner.add(tokens);
    const c = this.componentsOf(s.words(), masked, s.level, s.levelWord(), 0, this.isNewKind(cluster));
    let score = this.pick(c);
    const markedNormal = this.rarity.normalTemplates.has(c.template);
    // A template people marked false positive stays at most at the threshold, so it is never flagged again.
    if (markedNormal && score > this.info.threshold) score = this.info.threshold;
    const entry: CachedScore = {
      score,
      anomaly: score > this.info.threshold,
      template: this.miner.textOf(cluster, tokens),
      reason: '',
      level: levelName(c.level),
      cluster,
      tokens,
      revision: cluster.revision,
    };
    entry.reason = markedNormal ? 'template marked normal (false positive feedback)' : this.explain(c, entry.anomaly);
    if (this.cache.size >= this.config.cacheSize) this.cache.clear();
    if (this.config.cacheSize > 0) this.cache.add(s.hashHi, s.hashLo, entry);
    return entry;
  }

  /**
   * A line whose masked template is cached: it counts for its mined template (kept in the LRU order, and
   * brought back if evicted), and the cached template text follows the template if it has widened since.
   */
  private observeCached(hit: CachedScore): void {
    let cluster = hit.cluster!;
    if (this.miner.touch(cluster.id) === undefined) {
      cluster = this.miner.add(hit.tokens!);
      hit.cluster = cluster;
    } else {
      cluster.size++;
    }
    if (cluster.revision !== hit.revision) {
      hit.template = this.miner.textOf(cluster, hit.tokens!);
      hit.revision = cluster.revision;
      hit.extra = undefined; // a consumer's encoding of the old template
    }
  }

  /** Every component score of a line (uncached). */
  components(line: string): ComponentScores {
    const s = this.scanner.scan(line);
    const masked = s.template();
    const cluster = this.miner.match(this.miner.tokensOf(masked));
    return this.componentsOf(s.words(), masked, s.level, s.levelWord(), 0, this.isNewKind(cluster));
  }

  /** The configured detector's score of a component set. */
  pick(c: ComponentScores): number {
    switch (this.config.detector) {
      case 'w2v-som':
        return c.neural;
      case 'rarity':
        return c.rarity;
      default:
        return c.combined;
    }
  }

  /**
   * `loo` = 1 computes a training line's score with its own occurrence left out. `newEvent`: the line's mined
   * template is not one the training lines made (training lines never are).
   */
  componentsOf(words: readonly string[], template: string, level: number, levelWord: string | null, loo: number, newEvent = false): ComponentScores {
    const unique = [...new Set(words)];
    // Each word's surprisal once, shared by the rare-word, failure-word and vector-weight computations.
    const bits = this.rarity.bitsOf(unique, loo);
    const rareWords: { word: string; bits: number }[] = [];
    const wordsBits = this.rarity.wordsBits(unique, loo, rareWords, bits);
    const levelBits = this.rarity.levelBits(level, loo);
    const templateBits = this.rarity.templateBits(template, loo);
    const found = { word: '' };
    let problemBits =
      level === NO_LEVEL || level >= PROBLEM_MIN_LEVEL ? this.rarity.problemBits(unique, levelWord, loo, found, bits) : 0;
    // A failure word's rarity says how often the log reports failures of the kinds it knows. In a line of a kind
    // no training line made (a new template), it is a new failure mode: weighed as an unseen word, so a failure
    // the host's everyday words also describe ("failed" in an sshd log) is not discounted by them.
    if (newEvent && problemBits > 0) problemBits = this.rarity.maxWordBits();
    const { weights } = this.config;
    let neural = 0;
    let neuralZ = 0;
    if (this.neural !== null) {
      // vector weights are the full-data surprisal (what the SOM was trained with), not the leave-one-out one
      const vw = loo === 0 ? bits.map((b) => Math.max(1, b)) : Float64Array.from(unique, this.rarity.weight);
      const d = this.neural.distance(unique, vw);
      const { mean, std, max, scale } = this.norms.neural;
      const floor = MIN_SPREAD_SHARE * scale;
      neural = d === null ? UNPLACEABLE_NEURAL : d / Math.max(max, floor, 1e-9);
      // Unplaceable lines add nothing here: their all-new words already count in the rare-word detector.
      if (d !== null) neuralZ = Math.min(NEURAL_CAP, Math.max(0, (d - mean) / Math.max(std, floor, 1e-9)));
    }
    const rarity = weights.words * wordsBits + weights.level * levelBits + weights.problem * problemBits;
    const combined = rarity + weights.neural * neuralZ;
    const problemWord = problemBits > 0 ? found.word : null;
    return { combined, neural, rarity, wordsBits, levelBits, problemBits, problemWord, newEvent, templateBits, rareWords, level, template };
  }

  private explain(c: ComponentScores, anomaly: boolean): string {
    const parts: string[] = [];
    const rare = c.rareWords.filter((r) => r.bits >= this.norms.words.mean + this.norms.words.std);
    if (rare.length > 0) {
      parts.push(
        'rare words: ' +
          rare
            .map((r) => (this.rarity.df.has(r.word) ? `${r.word} (${trainingCount(this.rarity.df.get(r.word)!)}× in training)` : `${r.word} (new)`))
            .join(', '),
      );
    }
    if (c.level >= 0 && c.levelBits > this.norms.level.mean + this.norms.level.std) {
      const share = Math.pow(2, -c.levelBits) * 100;
      parts.push(`level ${levelName(c.level)} or worse in ${share < 1 ? share.toFixed(2) : share.toFixed(0)}% of training lines`);
    }
    if (c.problemWord !== null && c.newEvent) {
      parts.push(`failure word "${c.problemWord}" in a kind of line not seen in training`);
    } else if (c.problemWord !== null && c.problemBits > this.norms.words.mean) {
      parts.push(`failure word "${c.problemWord}" rare in training`);
    }
    if (!this.rarity.templates.has(c.template)) parts.push('template never seen in training');
    if (this.neural !== null && c.neural > 1) parts.push(`W2V+SOM distance ${c.neural.toFixed(2)}× the training maximum`);
    const head = anomaly ? `${this.config.detector} score above threshold` : `${this.config.detector} score within threshold`;
    return parts.length > 0 ? `${head}; ${parts.join('; ')}` : head;
  }
}

/**
 * A word's training count as a person reads it. With event counts a burst's lines weigh less than one each, so a
 * count can be 1.0158730158730158: one decimal below 10, whole above.
 */
export function trainingCount(count: number): string {
  return count >= 10 ? String(Math.round(count)) : String(Math.round(count * 10) / 10);
}
