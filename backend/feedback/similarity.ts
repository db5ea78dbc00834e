// How alike two lines are in the model's space: the rarity-weighted overlap of their words, i.e. the
// surprisal of the words they share over the surprisal of the smaller line's words (overlap coefficient).
// Common words ("the", "RAS", "INFO", masked numbers) weigh almost nothing, so two lines are alike when they
// share the words that made the model notice them: a failure message with other ids, a sibling message of
// the same rare component. Chosen over the weighted Jaccard and the weighted cosine by `lad eval --feedback`
// on BGL (F1 after 20 answers, train fractions 0.3/0.5/0.7, the file forwards and reversed; docs/engine.md,
// "Feedback that teaches").
// Mined-template overlap is not used: the miner's widest templates ("RAS KERNEL <*> <*> <*> <*>") overlap
// hundreds of unrelated lines, and adding it measured no gain.

import type { LineFeatures } from './features';

/** Weight of a word: its surprisal under the model (bits), >= 0. */
export type WordWeight = (word: string) => number;

export const UNIFORM_WEIGHT: WordWeight = () => 1;

export function similarity(a: LineFeatures, b: LineFeatures, weight: WordWeight): number {
  return weightedOverlap(a.words, b.words, weight);
}

/** Σ weight of shared words ÷ min(Σ weight of a's words, Σ weight of b's words); 0 when either has none. */
export function weightedOverlap(a: readonly string[], b: readonly string[], weight: WordWeight): number {
  const inB = new Set(b);
  let shared = 0;
  let na = 0;
  let nb = 0;
  for (const w of a) {
    const x = Math.max(0, weight(w));
    na += x;
    if (inB.has(w)) shared += x;
  }
  for (const w of b) nb += Math.max(0, weight(w));
  return na === 0 || nb === 0 ? 0 : shared / Math.min(na, nb);
}
