// The W2V+SOM detector (the original LAD's model, done right): one Word2Vec sentence per unique template,
// a line vector = rarity-weighted mean of the vectors of its KNOWN words (unseen words get no vector at all,
// never a random one), and the distance from that vector to its best matching SOM unit.

import { SelfOrganizingMap } from './som';
import { deserializeWord2Vec, serializeWord2Vec, trainWord2Vec } from './word2vec';
import type { Word2VecModel } from './word2vec';

export interface NeuralModules {
  w2v: { trainWord2Vec: typeof trainWord2Vec; serializeWord2Vec: typeof serializeWord2Vec; deserializeWord2Vec: typeof deserializeWord2Vec };
  som: { SelfOrganizingMap: typeof SelfOrganizingMap };
}

const MODULES: NeuralModules = {
  w2v: { trainWord2Vec, serializeWord2Vec, deserializeWord2Vec },
  som: { SelfOrganizingMap },
};

/** The Word2Vec and SOM implementations (word2vec.ts, som.ts); one seam, so tests could swap them. */
export function loadNeuralModules(): NeuralModules {
  return MODULES;
}

/**
 * Fills `out` with the weighted mean of the known words' vectors; returns how many words were known.
 * `weights[i]` is the rarity weight (IDF) of `words[i]` (the line's distinct words), so a line's rare words
 * shape its vector more than "the".
 */
export function lineVector(w2v: Word2VecModel, words: readonly string[], weights: ArrayLike<number>, out: Float32Array): number {
  const { dim, vocab, vectors } = w2v;
  out.fill(0);
  let known = 0;
  let total = 0;
  for (let i = 0; i < words.length; i++) {
    const idx = vocab.get(words[i]);
    if (idx === undefined) continue;
    const wt = weights[i];
    const base = idx * dim;
    for (let d = 0; d < dim; d++) out[d] += vectors[base + d] * wt;
    total += wt;
    known++;
  }
  if (total > 0) for (let d = 0; d < dim; d++) out[d] /= total;
  return known;
}

export class NeuralDetector {
  private readonly vec: Float32Array;

  constructor(
    readonly w2v: Word2VecModel,
    readonly som: SelfOrganizingMap,
  ) {
    this.vec = new Float32Array(w2v.dim);
  }

  /** Distance to the best matching unit, or null when the line has no known word (it cannot be placed). */
  distance(words: readonly string[], weights: ArrayLike<number>): number | null {
    const known = lineVector(this.w2v, words, weights, this.vec);
    return known === 0 ? null : this.som.bmuDistance(this.vec, 0);
  }
}
