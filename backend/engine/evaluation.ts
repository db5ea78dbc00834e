// Detection quality metrics for labelled data: precision, recall and F1 at a threshold, ROC-AUC (ties get
// half credit, via average ranks) and the best F1 over all thresholds.

import { DEFAULT_INCIDENT_GAP_LINES, IncidentTracker } from './incidents';
import { LEVEL_NAMES } from './levels';
import { tokenize } from './tokenizer';

const FATAL_RANK = LEVEL_NAMES.indexOf('fatal');

export interface Metrics {
  threshold: number;
  flagged: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  bestF1: number;
  bestF1Threshold: number;
}

export function f1Of(precision: number, recall: number): number {
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/** Anomaly when score > threshold (the engine's rule). `labels[i]` true = anomaly. */
export function evaluate(scores: ArrayLike<number>, labels: ArrayLike<boolean>, threshold: number): Metrics {
  const n = scores.length;
  if (labels.length !== n) throw new Error('scores and labels differ in length');
  let positives = 0;
  let tp = 0;
  let flagged = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i]) positives++;
    if (scores[i] > threshold) {
      flagged++;
      if (labels[i]) tp++;
    }
  }
  const precision = flagged === 0 ? 0 : tp / flagged;
  const recall = positives === 0 ? 0 : tp / positives;
  const best = bestF1(scores, labels);
  return {
    threshold,
    flagged,
    truePositives: tp,
    precision,
    recall,
    f1: f1Of(precision, recall),
    rocAuc: rocAuc(scores, labels),
    bestF1: best.f1,
    bestF1Threshold: best.threshold,
  };
}

/** Area under the ROC curve = P(score of a random anomaly > score of a random normal line), ties count ½. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j < n && scores[order[j]] === scores[order[i]]) j++;
    const avgRank = (i + 1 + j) / 2; // ranks are 1-based
    for (let k = i; k < j; k++) if (labels[order[k]]) {
      rankSum += avgRank;
      pos++;
    }
    i = j;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Best F1 over thresholds placed between distinct scores (flag everything with score ≥ a cut). */
export function bestF1(scores: ArrayLike<number>, labels: ArrayLike<boolean>): { f1: number; threshold: number } {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i]) positives++;
  let tp = 0;
  let best = { f1: 0, threshold: Infinity };
  for (let i = 0; i < n; i++) {
    if (labels[order[i]]) tp++;
    if (i + 1 < n && scores[order[i + 1]] === scores[order[i]]) continue; // cut only between distinct scores
    const f1 = positives === 0 ? 0 : (2 * tp) / (i + 1 + positives);
    if (f1 > best.f1) {
      const next = i + 1 < n ? scores[order[i + 1]] : -Infinity;
      best = { f1, threshold: Number.isFinite(next) ? (scores[order[i]] + next) / 2 : scores[order[i]] - 1 };
    }
  }
  return best;
}

/** Alerts under the incident view (incidents.ts): anomalous lines of one template close together are one. */
export interface AlertCounts {
  /** Incidents opened: the alerts a person would get. */
  alerts: number;
  /** Incidents whose opening line is labelled an anomaly. */
  trueAlerts: number;
}

/** Counts incidents among the lines with score > threshold, in input order (`templates[i]` of line i). */
export function alertCounts(
  scores: ArrayLike<number>,
  labels: ArrayLike<boolean>,
  templates: readonly string[],
  threshold: number,
  gapLines = DEFAULT_INCIDENT_GAP_LINES,
): AlertCounts {
  const tracker = new IncidentTracker(gapLines);
  let trueAlerts = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] > threshold && tracker.observe(templates[i], i + 1) === i + 1 && labels[i]) trueAlerts++;
  }
  return { alerts: tracker.opened, trueAlerts };
}

/**
 * The trivial bar a detector must clear on labelled logs (the one issue 13 names): flag a line iff its level is
 * fatal (BGL's FATAL), with no training and no threshold to choose.
 */
export function fatalLevelRule(lines: readonly string[], labels: ArrayLike<boolean>): Metrics {
  return evaluate(Float64Array.from(lines, (l) => (tokenize(l).level === FATAL_RANK ? 1 : 0)), labels, 0.5);
}
