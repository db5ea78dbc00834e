// The review queue: the lines whose answer would teach the model most, one item per mined template.
// Ranking rule (fixed before measuring): priority = log2(1 + lines an answer would affect) × (closeness to
// the threshold + 1 for an error-or-worse line scored normal + 0.5 for a flagged group), where closeness =
// exp(−|score − threshold| / (threshold / 4)). Lines an existing answer already decides are left out (its
// neighbourhood, and its exact masked template even when its words weigh nothing): the queue asks about what
// no answer covers yet, so an answered item is not offered again, after a restart too (the answers come from
// the fact-store), and DELETE brings it back. Scores are taken as the service decides them, moved by the
// threshold the answers place (calibration.ts).

import type { ReviewItem } from '../contract';
import { LEVEL_NAMES } from '../engine/levels';
import type { FeedbackIndex } from './feedback-index';
import type { WordWeight } from './similarity';
import type { WindowEntry, WindowModel } from './window';

const ERROR_RANK = LEVEL_NAMES.indexOf('error');
/**
 * The newest lines a service review looks at; and above this many templates, only the ones with the most
 * lines get their neighbourhood counted.
 */
export const REVIEW_WINDOW_LINES = 5000;
const MAX_GROUPS = 200;

// The item's shape is part of the HTTP contract (GET /api/review): defined once in backend/contract/review.ts.
export type { ReviewItem };

export function reviewQueue(model: WindowModel, window: readonly WindowEntry[], index: FeedbackIndex, limit: number): ReviewItem[] {
  const threshold = model.info.threshold;
  const spread = Math.max(Math.abs(threshold) / 4, 1e-9);
  // Scores as the service now decides them: moved by the threshold the answers place (calibration.ts).
  const shift = index.shiftOf(model);
  const scoreOf = (e: WindowEntry): number => e.score + shift;
  const open = window.filter((e) => !index.answeredExactly(e.line) && index.verdictOf(model, e.features) === null);
  const groups = new Map<string, WindowEntry[]>();
  for (const e of open) {
    const g = groups.get(e.template);
    if (g === undefined) groups.set(e.template, [e]);
    else g.push(e);
  }
  const near = neighbourCounter(open, index.weightOf(model), index.radius);
  const items: ReviewItem[] = [];
  const lineCount = (entries: WindowEntry[]): number => entries.reduce((n, e) => n + e.at.length, 0);
  const considered = [...groups].sort((a, b) => lineCount(b[1]) - lineCount(a[1])).slice(0, MAX_GROUPS);
  for (const [template, entries] of considered) {
    let rep = entries[0];
    for (const e of entries) if (Math.abs(scoreOf(e) - threshold) < Math.abs(scoreOf(rep) - threshold)) rep = e;
    const score = scoreOf(rep);
    const affected = near(rep);
    const templateLines = lineCount(entries);
    const flagged = score > threshold;
    const closeness = Math.exp(-Math.abs(score - threshold) / spread);
    const severe = !flagged && rep.features.level >= ERROR_RANK;
    const priority = Math.log2(1 + affected) * (closeness + (severe ? 1 : 0) + (flagged ? 0.5 : 0));
    const why: string[] = [`score ${score.toFixed(2)} is ${Math.abs(score - threshold).toFixed(2)} ${flagged ? 'above' : 'below'} the threshold ${threshold.toFixed(2)}`];
    if (severe) why.push(`${LEVEL_NAMES[rep.features.level]}-level line learned as normal`);
    if (flagged && affected > 1) why.push(`${affected} similar lines flagged`);
    else if (affected > 1) why.push(`${affected} similar lines`);
    items.push({ line: rep.line, lineId: rep.lineId, template, score, threshold, flagged, affected, templateLines, priority, why });
  }
  items.sort((a, b) => b.priority - a.priority || b.affected - a.affected || (a.template < b.template ? -1 : 1));
  return items.slice(0, limit);
}

/**
 * Counts, for a line of `entries`, the lines of `entries` within `radius` of it: the figure of similarity.ts
 * (shared weight ÷ the smaller line's weight, summed in the same order), through an inverted index from each
 * weighted word to the entries holding it, so a count visits only the entries that share a word and each
 * word is weighed once. A pairwise similarity() per group and entry took 1.5–2.2 s on a 5,000-line window of
 * distinct lines.
 */
function neighbourCounter(entries: readonly WindowEntry[], weight: WordWeight, radius: number): (rep: WindowEntry) => number {
  const weights = new Map<string, number>();
  const weightOf = (w: string): number => {
    let x = weights.get(w);
    if (x === undefined) weights.set(w, (x = Math.max(0, weight(w))));
    return x;
  };
  const totals = new Float64Array(entries.length);
  const postings = new Map<string, number[]>();
  const at = new Map<WindowEntry, number>();
  entries.forEach((e, k) => {
    at.set(e, k);
    let total = 0;
    for (const w of e.features.words) {
      const x = weightOf(w);
      total += x;
      if (x === 0) continue;
      const list = postings.get(w);
      if (list === undefined) postings.set(w, [k]);
      else list.push(k);
    }
    totals[k] = total;
  });
  const shared = new Float64Array(entries.length);
  const touched: number[] = [];
  return (rep) => {
    const repTotal = totals[at.get(rep) ?? -1] ?? 0;
    for (const w of rep.features.words) {
      const x = weightOf(w);
      const list = x === 0 ? undefined : postings.get(w);
      if (list === undefined) continue;
      for (const k of list) {
        if (shared[k] === 0) touched.push(k);
        shared[k] += x;
      }
    }
    let n = 0;
    for (const k of touched) {
      if (repTotal > 0 && totals[k] > 0 && shared[k] / Math.min(repTotal, totals[k]) >= radius) n += entries[k].at.length;
      shared[k] = 0;
    }
    touched.length = 0;
    return n;
  };
}
