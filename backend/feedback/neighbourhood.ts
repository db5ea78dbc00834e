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
 * `shift` moves every score by threshold − the threshold the answers place (calibration.ts), so the model's
 * threshold still reads true; `changed` compares with the model's own decision.
 */
export function judge(score: number, threshold: number, reason: string, verdict: Verdict | null, shift = 0): Judged {
  const own = score > threshold;
  const shifted = score + shift;
  const anomaly = shifted > threshold;
  if (verdict === null) {
    if (anomaly === own) return { score: shifted, anomaly, reason, verdict, changed: false };
    const placed = (threshold - shift).toFixed(2);
    const why = `${anomaly ? 'above' : 'below'} the threshold the answers place at ${placed} (the model's ${threshold.toFixed(2)}); ${reason}`;
    return { score: shifted, anomaly, reason: why, verdict, changed: true };
  }
  if (verdict.kind === 'confirmed') {
    const lifted = Math.max(shifted, threshold + verdict.similarity);
    return { score: lifted, anomaly: true, reason: `like confirmed anomaly ${verdict.id} (similarity ${verdict.similarity.toFixed(2)}); ${reason}`, verdict, changed: !own };
  }
  const lowered = Math.min(shifted, threshold - verdict.similarity);
  return {
    score: lowered,
    anomaly: false,
    reason: anomaly ? `like false positive ${verdict.id} (similarity ${verdict.similarity.toFixed(2)}); ${reason}` : reason,
    verdict,
    changed: own,
  };
}
