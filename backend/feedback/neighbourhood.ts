// The neighbourhood rule: an answer speaks for the lines near it. A line takes the verdict of its nearest
// answer when that answer is within the radius; a confirmation wins a tie, so a false positive never
// overrides a confirmation at least as near the line. Pure functions: the service and `lad eval --feedback`
// both call them through FeedbackIndex.

import type { FeedbackKind } from '../store/fact-store';
import type { LineFeatures } from './features';
import { similarity, type WordWeight } from './similarity';

/**
 * Default radius, fixed before measuring: a neighbour shares at least half of the rarity-weighted words of the
 * smaller line (0.3 and 0.7 were measured too and gained less, see similarity.ts).
 */
export const DEFAULT_RADIUS = 0.5;

export interface Answer {
  id: string;
  kind: FeedbackKind;
  features: LineFeatures;
}

export interface Verdict {
  kind: FeedbackKind;
  id: string;
  similarity: number;
}

/** The verdict of the nearest answer within `radius`, or null when no answer is that near. */
export function nearestVerdict(line: LineFeatures, answers: Iterable<Answer>, weight: WordWeight, radius = DEFAULT_RADIUS): Verdict | null {
  let best: Verdict | null = null;
  for (const a of answers) {
    const s = similarity(line, a.features, weight);
    if (s < radius) continue;
    if (best === null || s > best.similarity || (s === best.similarity && a.kind === 'confirmed' && best.kind !== 'confirmed')) {
      best = { kind: a.kind, id: a.id, similarity: s };
    }
  }
  return best;
}

export interface Judged {
  score: number;
  anomaly: boolean;
  reason: string;
  /** The answer that decided this line (null: none near enough). */
  verdict: Verdict | null;
  /** True when the verdict flipped the model's own decision. */
  changed: boolean;
}

/**
 * Applies a verdict to a model score. A confirmation lifts the score just above the threshold (nearer
 * answers higher, so rankings stay meaningful) and flags the line; a false positive pulls the score below
 * the threshold by the same rule and unflags it. Scores the verdict agrees with are left as they are.
 */
export function judge(score: number, threshold: number, reason: string, verdict: Verdict | null): Judged {
  const anomaly = score > threshold;
  if (verdict === null) return { score, anomaly, reason, verdict, changed: false };
  if (verdict.kind === 'confirmed') {
    const lifted = Math.max(score, threshold + verdict.similarity);
    return { score: lifted, anomaly: true, reason: `like confirmed anomaly ${verdict.id} (similarity ${verdict.similarity.toFixed(2)}); ${reason}`, verdict, changed: !anomaly };
  }
  const lowered = Math.min(score, threshold - verdict.similarity);
  return {
    score: lowered,
    anomaly: false,
    reason: anomaly ? `like false positive ${verdict.id} (similarity ${verdict.similarity.toFixed(2)}); ${reason}` : reason,
    verdict,
    changed: anomaly,
  };
}
