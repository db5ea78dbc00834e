// Learned frequency statistics and the detectors built on them:
//  - rare words: surprisal (IDF, in bits) of the line's `topWords` rarest words (by default the rarest one: ids
//    are masked by type before this, so a never-seen word is a real word, and evidence);
//  - level: how rare a level AT LEAST this severe was in training (ordinal tail), learned per log, so a log full
//    of routine errors does not flag its errors;
//  - template: how rare the masked template was (reported in the reason; novelty alone is a weak signal).
// Training statistics use leave-one-out counts (a line's own occurrence removed), so training scores look like
// scores of unseen lines and the threshold derived from them is not biased low.

import { LEVEL_NAMES } from './levels';
import { isFailureWord } from './lexicon';
import { pruneSmallest } from './prune';

export interface RarityJson {
  lines: number;
  words: [string, number][];
  templates: [string, number][];
  levels: number[];
  normalTemplates?: string[];
}

/** A reason names up to this many of a line's rarest words. */
const REASON_WORDS = 3;

export class RarityModel {
  /** Lines (weighted) containing each word at least once. */
  readonly df = new Map<string, number>();
  readonly templates = new Map<string, number>();
  /** levels[rank + 1] = lines with that level; index 0 = no level. */
  readonly levels = new Float64Array(LEVEL_NAMES.length + 1);
  lines = 0;
  /** Templates of lines people marked false positive: never anomalous (near-duplicates share a template). */
  readonly normalTemplates = new Set<string>();

  /** topWords: see EngineConfig.topWords (its default lives in config.ts only). */
  constructor(readonly topWords: number) {}

  /**
   * Counts `count` lines with these words, template and level. `template` null: the lines count for words,
   * level and line total but their template is not kept (training drops the rarest templates to stay bounded).
   */
  add(uniqueWords: readonly string[], template: string | null, level: number, count: number): void {
    this.lines += count;
    if (template !== null) this.templates.set(template, (this.templates.get(template) ?? 0) + count);
    this.levels[level + 1] += count;
    for (const w of uniqueWords) this.df.set(w, (this.df.get(w) ?? 0) + count);
  }

  /**
   * Forgets the words in the fewest lines until at most `keep` remain (bounded training on a stream whose
   * vocabulary keeps growing); a forgotten word then scores as never seen. Returns how many were forgotten.
   */
  pruneWords(keep: number): number {
    return pruneSmallest(this.df, keep, (c) => c);
  }

  /** Surprisal in bits of a word; `loo` = 1 removes the line's own occurrence (training statistics). */
  wordBits(word: string, loo = 0): number {
    const df = (this.df.get(word) ?? 0) - loo;
    return Math.log2((this.lines - loo + 1) / (Math.max(df, 0) + 0.5));
  }

  /** Weight of a word in line vectors: its surprisal, at least 1 bit so common words still count a little. */
  readonly weight = (word: string): number => Math.max(1, this.wordBits(word));

  /** Surprisal of each word (with `loo` left out) in one pass, for the detectors to share. */
  bitsOf(uniqueWords: readonly string[], loo = 0): Float64Array {
    const out = new Float64Array(uniqueWords.length);
    for (let i = 0; i < uniqueWords.length; i++) out[i] = this.wordBits(uniqueWords[i], loo);
    return out;
  }

  levelBits(level: number, loo = 0): number {
    if (level < 0) return 0;
    let tail = -loo;
    for (let r = level; r < LEVEL_NAMES.length; r++) tail += this.levels[r + 1];
    return Math.log2((this.lines - loo + 1) / (Math.max(tail, 0) + 0.5));
  }

  templateBits(template: string, loo = 0): number {
    const c = (this.templates.get(template) ?? 0) - loo;
    return Math.log2((this.lines - loo + 1) / (Math.max(c, 0) + 0.5));
  }

  /**
   * Mean surprisal of the `topWords` rarest distinct words (fewer words count as zeros, so a two-word line is
   * not as suspicious as a line with three rare words, when topWords is 3). `rare` receives the rarest words,
   * rarest first: at least REASON_WORDS of them, so a reason names more than the one word a score may use.
   */
  wordsBits(uniqueWords: readonly string[], loo = 0, rare?: { word: string; bits: number }[], known?: ArrayLike<number>): number {
    const k = this.topWords;
    const keep = rare ? Math.max(k, REASON_WORDS) : k;
    const top: { word: string; bits: number }[] = [];
    for (let i = 0; i < uniqueWords.length; i++) {
      const w = uniqueWords[i];
      const bits = known !== undefined ? known[i] : this.wordBits(w, loo);
      if (top.length < keep) top.push({ word: w, bits });
      else if (bits > top[keep - 1].bits) top[keep - 1] = { word: w, bits };
      else continue;
      top.sort((a, b) => b.bits - a.bits);
    }
    let sum = 0;
    for (let i = 0; i < Math.min(k, top.length); i++) sum += top[i].bits;
    if (rare) rare.push(...top);
    return sum / k;
  }

  /** Surprisal of the rarest failure word in the line (0 when it has none); `found` receives that word. */
  problemBits(uniqueWords: readonly string[], levelWord: string | null, loo = 0, found?: { word: string }, known?: ArrayLike<number>): number {
    let best = 0;
    for (let i = 0; i < uniqueWords.length; i++) {
      const w = uniqueWords[i];
      if (!isFailureWord(w) || w === levelWord) continue;
      const bits = known !== undefined ? known[i] : this.wordBits(w, loo);
      if (bits > best) {
        best = bits;
        if (found) found.word = w;
      }
    }
    return best;
  }

  /** Surprisal of a fully novel line's words: the most the rare-word detector can give. */
  maxWordBits(): number {
    return Math.log2((this.lines + 1) / 0.5);
  }

  /** Level rank most training lines have (NO_LEVEL when most have none). */
  modalLevel(): number {
    let best = 0;
    for (let i = 1; i < this.levels.length; i++) if (this.levels[i] > this.levels[best]) best = i;
    return best - 1;
  }

  toJSON(): RarityJson {
    return { lines: this.lines, words: [...this.df], templates: [...this.templates], levels: [...this.levels], normalTemplates: [...this.normalTemplates] };
  }

  static fromJSON(json: RarityJson, topWords: number): RarityModel {
    const m = new RarityModel(topWords);
    m.lines = json.lines;
    for (const [w, c] of json.words) m.df.set(w, c);
    for (const [t, c] of json.templates) m.templates.set(t, c);
    json.levels.forEach((v, i) => (m.levels[i] = v));
    for (const t of json.normalTemplates ?? []) m.normalTemplates.add(t);
    return m;
  }
}
