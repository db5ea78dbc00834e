// The review queue: the lines whose answer would teach the model most, one item per mined template.
// Ranking rule (fixed before measuring): priority = log2(1 + lines an answer would affect) × (closeness to
// the threshold + 1 for an error-or-worse line scored normal + 0.5 for a flagged group), where closeness =
// exp(−|score − threshold| / (threshold / 4)). Lines an existing answer already decides are left out: the
// queue asks about what no answer covers yet.

import { LEVEL_NAMES } from '../engine/levels';
import type { FeedbackIndex } from './feedback-index';
import { similarity } from './similarity';
import type { WindowEntry, WindowModel } from './window';

const ERROR_RANK = LEVEL_NAMES.indexOf('error');
/**
 * The newest lines a service review looks at; and above this many templates, only the ones with the most
 * lines get their neighbourhood counted (bounds a request at about a million comparisons).
 */
export const REVIEW_WINDOW_LINES = 5000;
const MAX_GROUPS = 200;

export interface ReviewItem {
  /** The representative line: of its template's undecided lines, the one scored nearest the threshold. */
  line: string;
  template: string;
  score: number;
  threshold: number;
  flagged: boolean;
  /** Lines of the window an answer on this line would decide (its neighbourhood, not only its template). */
  affected: number;
  /** Lines of the window with this template. */
  templateLines: number;
  priority: number;
  /** Why the model is unsure, for people. */
  why: string[];
}

export function reviewQueue(model: WindowModel, window: readonly WindowEntry[], index: FeedbackIndex, limit: number): ReviewItem[] {
  const threshold = model.info.threshold;
  const spread = Math.max(Math.abs(threshold) / 4, 1e-9);
  const open = window.filter((e) => index.verdictOf(model, e.features) === null);
  const groups = new Map<string, WindowEntry[]>();
  for (const e of open) {
    const g = groups.get(e.template);
    if (g === undefined) groups.set(e.template, [e]);
    else g.push(e);
  }
  const weight = index.weightOf(model);
  const items: ReviewItem[] = [];
  const lineCount = (entries: WindowEntry[]): number => entries.reduce((n, e) => n + e.at.length, 0);
  const considered = [...groups].sort((a, b) => lineCount(b[1]) - lineCount(a[1])).slice(0, MAX_GROUPS);
  for (const [template, entries] of considered) {
    let rep = entries[0];
    for (const e of entries) if (Math.abs(e.score - threshold) < Math.abs(rep.score - threshold)) rep = e;
    let affected = 0;
    for (const e of open) if (similarity(rep.features, e.features, weight) >= index.radius) affected += e.at.length;
    const templateLines = lineCount(entries);
    const flagged = rep.score > threshold;
    const closeness = Math.exp(-Math.abs(rep.score - threshold) / spread);
    const severe = !flagged && rep.features.level >= ERROR_RANK;
    const priority = Math.log2(1 + affected) * (closeness + (severe ? 1 : 0) + (flagged ? 0.5 : 0));
    const why: string[] = [`score ${rep.score.toFixed(2)} is ${Math.abs(rep.score - threshold).toFixed(2)} ${flagged ? 'above' : 'below'} the threshold ${threshold.toFixed(2)}`];
    if (severe) why.push(`${LEVEL_NAMES[rep.features.level]}-level line learned as normal`);
    if (flagged && affected > 1) why.push(`${affected} similar lines flagged`);
    else if (affected > 1) why.push(`${affected} similar lines`);
    items.push({ line: rep.line, template, score: rep.score, threshold, flagged, affected, templateLines, priority, why });
  }
  items.sort((a, b) => b.priority - a.priority || b.affected - a.affected || (a.template < b.template ? -1 : 1));
  return items.slice(0, limit);
}
