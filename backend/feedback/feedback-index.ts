// The answers of one source, as the scoring path sees them: built from the fact-store (the truth) at
// start-up, kept current by its change events (an answer takes effect on the next line scored, DELETE undoes
// it), and applied after model.score by the service pipeline and by `lad eval --feedback` alike.

import { rateAnswerOf } from '../contract';
import { templateOf as maskedTemplateOf } from '../engine/tokenizer';
import { ANY_SOURCE, type FactStore, type FeedbackRecord } from '../store/fact-store';
import type { ComponentScores } from '../engine/model';
import { calibratedThreshold } from './calibration';
import { featuresOf, type LineFeatures } from './features';
import { DEFAULT_RADIUS, judge, nearestVerdict, type Answer, type Judged } from './neighbourhood';
import { UNIFORM_WEIGHT, type WordWeight } from './similarity';

/** The part of a model this needs; `rarity` is the engine's LadModel statistics when present. */
export interface FeedbackModel {
  /** `stats.thresholdFloor` (engine train.ts): the answers never place the threshold below it. */
  readonly info: { threshold: number; stats?: Readonly<Record<string, number>> };
  readonly rarity?: { wordBits(word: string, loo?: number): number };
  /** Scores without side effects (the engine's LadModel): present, the answers calibrate the threshold. */
  components?(line: string): ComponentScores;
  pick?(c: ComponentScores): number;
}

/** The part of a scored line this needs (LineScore). */
export interface ScoredLine {
  score: number;
  anomaly: boolean;
  template: string;
  reason: string;
}

interface Memo {
  version: number;
  model: FeedbackModel;
  template: string;
  judged: Judged;
}

/** A model's word weights: surprisal in bits (uniform when the model has no rarity statistics). */
export function wordWeightOf(model: FeedbackModel): WordWeight {
  const rarity = model.rarity;
  return rarity === undefined ? UNIFORM_WEIGHT : (w) => Math.max(0, rarity.wordBits(w));
}

export class FeedbackIndex {
  private readonly answers = new Map<string, Answer>();
  /** Bumped on every change, so memoised judgements made under older answers are recomputed. */
  private version = 0;
  /** Per scored-line object (the model caches one per masked template): its judgement under `version`. */
  private memo = new WeakMap<object, Memo>();
  private weights = new WeakMap<FeedbackModel, WordWeight>();
  /** Per model: how far the answers move every score (threshold − the threshold they place), under `version`. */
  private shifts = new WeakMap<FeedbackModel, { version: number; shift: number }>();
  /** The answered lines, for calibration (by answer id). */
  private readonly messages = new Map<string, string>();
  /** Answers per masked template of the answered lines: such a line is decided even when its words weigh nothing. */
  private readonly answeredTemplates = new Map<string, number>();
  /** Lines whose decision an answer flipped, since start. */
  changed = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly facts: FactStore,
    readonly source: string,
    readonly radius = DEFAULT_RADIUS,
    /** Told how many answers are in effect, at start and after every change (the /metrics gauge). */
    private readonly onAnswers: (answers: number) => void = () => undefined,
  ) {
    for (const record of facts.list()) this.add(record);
    this.unsubscribe = facts.onChange((record, change) => (change === 'added' ? this.add(record) : this.remove(record)));
    onAnswers(this.answers.size);
  }

  /** Answers in effect for this source (its own and those given for every source). */
  get size(): number {
    return this.answers.size;
  }

  counts(): { confirmed: number; falsePositives: number } {
    let confirmed = 0;
    for (const a of this.answers.values()) if (a.kind === 'confirmed') confirmed++;
    return { confirmed, falsePositives: this.answers.size - confirmed };
  }

  close(): void {
    this.unsubscribe();
  }

  /**
   * The line's decision under the answers. `scored` may be the model's cached object for the line's masked
   * template: the judgement is memoised on it until the answers or the template change.
   */
  apply(model: FeedbackModel, line: string, scored: ScoredLine): Judged {
    const threshold = model.info.threshold;
    // Memoised also without answers: the hot path then allocates nothing for a line whose template it knows.
    const memo = this.memo.get(scored);
    if (memo !== undefined && memo.version === this.version && memo.model === model && memo.template === scored.template) {
      if (memo.judged.changed) this.changed++;
      return memo.judged;
    }
    const verdict = this.answers.size === 0 ? null : nearestVerdict(featuresOf(line), this.answers.values(), this.weightOf(model), this.radius);
    const judged = judge(scored.score, threshold, scored.reason, verdict, this.shiftOf(model));
    this.memo.set(scored, { version: this.version, model, template: scored.template, judged });
    if (judged.changed) this.changed++;
    return judged;
  }

  /** True when the line is near a confirmed anomaly (kept out of the normal training set). */
  likeConfirmed(model: FeedbackModel, line: string): boolean {
    if (this.answers.size === 0) return false;
    return nearestVerdict(featuresOf(line), this.answers.values(), this.weightOf(model), this.radius)?.kind === 'confirmed';
  }

  /**
   * The lines a retraining may learn as normal: those not like a confirmed anomaly. Judged once per masked
   * template (lines that share one share their words), so a window of repeats stays cheap.
   */
  withoutConfirmed(model: FeedbackModel, lines: string[]): string[] {
    if (this.counts().confirmed === 0) return lines;
    const known = new Map<string, boolean>();
    return lines.filter((line) => {
      const key = maskedTemplateOf(line);
      let like = known.get(key);
      if (like === undefined) known.set(key, (like = this.likeConfirmed(model, line)));
      return !like;
    });
  }

  /** True when an answer was given for a line of this exact masked template (the review queue skips it). */
  answeredExactly(line: string): boolean {
    return this.answeredTemplates.size > 0 && this.answeredTemplates.has(maskedTemplateOf(line));
  }

  /** The verdict for already computed features (the review queue scores many lines of one window). */
  verdictOf(model: FeedbackModel, features: LineFeatures): ReturnType<typeof nearestVerdict> {
    return this.answers.size === 0 ? null : nearestVerdict(features, this.answers.values(), this.weightOf(model), this.radius);
  }

  /**
   * How far the answers move every score of this model: its threshold minus the threshold the answered lines
   * place (calibration.ts); 0 without answers or without a side-effect-free scorer.
   */
  shiftOf(model: FeedbackModel): number {
    const known = this.shifts.get(model);
    if (known !== undefined && known.version === this.version) return known.shift;
    let shift = 0;
    const { components, pick } = model;
    if (this.answers.size > 0 && components !== undefined && pick !== undefined) {
      const answered = [...this.answers.values()].map((a) => ({
        score: pick.call(model, components.call(model, this.messages.get(a.id) ?? '')),
        confirmed: a.kind === 'confirmed',
      }));
      const threshold = model.info.threshold;
      // a model saved before the floor was recorded has none: the answers move it as before
      shift = threshold - calibratedThreshold(threshold, answered, model.info.stats?.thresholdFloor ?? -Infinity);
    }
    this.shifts.set(model, { version: this.version, shift });
    return shift;
  }

  weightOf(model: FeedbackModel): WordWeight {
    let w = this.weights.get(model);
    if (w === undefined) this.weights.set(model, (w = wordWeightOf(model)));
    return w;
  }

  private add(record: FeedbackRecord): void {
    if (record.source !== this.source && record.source !== ANY_SOURCE) return;
    // An answer about a template's rate (a surge or drop) says nothing of its lines: the rate model applies it
    // (pipeline/rate-watch.ts). Taken as a line answer, "Anomaly" on a drop would flag the returning lines.
    if (rateAnswerOf(record.message) !== null) return;
    this.answers.set(record.id, { id: record.id, kind: record.kind, features: featuresOf(record.message) });
    this.messages.set(record.id, record.message);
    const masked = maskedTemplateOf(record.message);
    this.answeredTemplates.set(masked, (this.answeredTemplates.get(masked) ?? 0) + 1);
    this.version++;
    this.onAnswers(this.answers.size);
  }

  private remove(record: FeedbackRecord): void {
    if (!this.answers.delete(record.id)) return;
    const message = this.messages.get(record.id);
    this.messages.delete(record.id);
    if (message !== undefined) {
      const masked = maskedTemplateOf(message);
      const n = (this.answeredTemplates.get(masked) ?? 1) - 1;
      if (n > 0) this.answeredTemplates.set(masked, n);
      else this.answeredTemplates.delete(masked);
    }
    this.version++;
    this.onAnswers(this.answers.size);
  }
}
