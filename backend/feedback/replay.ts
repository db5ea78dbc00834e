// `lad eval --feedback`: a person at the panel, replayed. The model is trained on the first part with its
// labels stripped; the simulated person answers the product's own review queue, drawn from the training
// part, one item at a time, with that line's label; each answer goes through a real fact-store (a lowdb file
// in a temporary directory) and is applied by FeedbackIndex, the code the service runs after model.score.
// Then the rest is scored. Only the answered training labels are read before scoring (`trainLabel` counts).

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { templateVersionOf } from '../engine/drain/config';
import { evaluate } from '../engine/evaluation';
import type { LadModel } from '../engine/model';
import { FactStore } from '../store/fact-store';
import { FeedbackIndex } from './feedback-index';
import { reviewQueue } from './review-queue';
import { scoreWindow } from './window';

export interface FeedbackCurvePoint {
  clicks: number;
  confirmed: number;
  falsePositives: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  /** Test lines whose decision an answer flipped. */
  changed: number;
}

export interface ReplayInput {
  /** Trains a fresh model on the training part (labels stripped): each point starts from the same model. */
  train: () => Promise<LadModel>;
  trainLines: readonly string[];
  /** The label of training line i (true = anomaly); called once per answer, never otherwise. */
  trainLabel: (i: number) => boolean;
  testLines: readonly string[];
  /** The test labels: read only after every test line is scored. */
  testLabels: () => readonly boolean[];
  clicks: readonly number[];
  source?: string;
}

export async function replayFeedback(input: ReplayInput): Promise<FeedbackCurvePoint[]> {
  const source = input.source ?? 'eval';
  const out: FeedbackCurvePoint[] = [];
  for (const clicks of input.clicks) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lad-feedback-'));
    try {
      const model = await input.train();
      const facts = await FactStore.open(dir, { templateVersion: templateVersionOf(model.info.config.miner) });
      const index = new FeedbackIndex(facts, source);
      const window = scoreWindow(model, input.trainLines);
      for (let k = 0; k < clicks; k++) {
        const [item] = reviewQueue(model, window, index, 1);
        if (item === undefined) break;
        const at = input.trainLines.indexOf(item.line);
        const anomaly = input.trainLabel(at);
        await facts.add({ source, message: item.line, template: item.template, score: item.score, kind: anomaly ? 'confirmed' : 'false_positive', comment: null, user: 'lad eval --feedback' });
      }
      const scores = new Float64Array(input.testLines.length);
      const before = index.changed;
      input.testLines.forEach((line, i) => {
        scores[i] = index.apply(model, line, model.score(line)).score;
      });
      const changed = index.changed - before;
      const m = evaluate(scores, input.testLabels(), model.info.threshold);
      const counts = index.counts();
      out.push({ clicks, confirmed: counts.confirmed, falsePositives: counts.falsePositives, precision: m.precision, recall: m.recall, f1: m.f1, rocAuc: m.rocAuc, changed });
      index.close();
      await facts.flush();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}
