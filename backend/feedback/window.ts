// A window of lines scored for the review queue without touching the model: the scores come from
// `components` (uncached, and it does not teach the template miner) and the templates from `templateOf`, once
// per distinct masked template, so a window of thousands of repeats costs a few hundred scorings.

import { templateOf as maskedTemplateOf } from '../engine/tokenizer';
import type { ComponentScores } from '../engine/model';
import { featuresOf, type LineFeatures } from './features';
import type { FeedbackModel } from './feedback-index';

/** What scoring a window needs of a model (the engine's LadModel has all of it). */
export interface WindowModel extends FeedbackModel {
  components(line: string): ComponentScores;
  pick(c: ComponentScores): number;
  templateOf(line: string): string;
}

export function isWindowModel(model: object): model is WindowModel {
  const m = model as Partial<WindowModel>;
  return typeof m.components === 'function' && typeof m.pick === 'function' && typeof m.templateOf === 'function';
}

/** Lines of one masked template in the window. */
export interface WindowEntry {
  /** The first line seen with this masked template (its words are every such line's words). */
  line: string;
  /** Indexes of the window's lines with this masked template. */
  at: number[];
  /** The results store's id of `line` (ids[at[0]] of scoreWindow), null when unknown. */
  lineId: string | null;
  score: number;
  template: string;
  features: LineFeatures;
}

/** `ids[i]`, when given, is the results store's id of lines[i] (the review item's key to its context). */
export function scoreWindow(model: WindowModel, lines: readonly string[], ids?: readonly (string | null)[]): WindowEntry[] {
  const byMasked = new Map<string, WindowEntry>();
  lines.forEach((line, i) => {
    const key = maskedTemplateOf(line);
    const known = byMasked.get(key);
    if (known !== undefined) {
      known.at.push(i);
      return;
    }
    const template = model.templateOf(line);
    byMasked.set(key, { line, at: [i], lineId: ids?.[i] ?? null, score: model.pick(model.components(line)), template, features: featuresOf(line) });
  });
  return [...byMasked.values()];
}
