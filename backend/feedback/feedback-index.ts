// The answers of one source, as the scoring path sees them: built from the fact-store (the truth) at
// start-up, kept current by its change events (an answer takes effect on the next line scored, DELETE undoes
// it), and applied after model.score by the service pipeline and by `lad eval --feedback` alike.

import { templateOf as maskedTemplateOf } from '../engine/tokenizer';
import { ANY_SOURCE, type FactStore, type FeedbackRecord } from '../store/fact-store';
import { featuresOf, type LineFeatures } from './features';
import { DEFAULT_RADIUS, judge, nearestVerdict, type Answer, type Judged } from './neighbourhood';
import { UNIFORM_WEIGHT, type WordWeight } from './similarity';

/** The part of a model this needs; `rarity` is the engine's LadModel statistics when present. */
export interface FeedbackModel {
  readonly info: { threshold: number };
  readonly rarity?: { wordBits(word: string, loo?: number): number };
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
    const judged = judge(scored.score, threshold, scored.reason, verdict);
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

  /** The verdict for already computed features (the review queue scores many lines of one window). */
  verdictOf(model: FeedbackModel, features: LineFeatures): ReturnType<typeof nearestVerdict> {
    return this.answers.size === 0 ? null : nearestVerdict(features, this.answers.values(), this.weightOf(model), this.radius);
  }

  weightOf(model: FeedbackModel): WordWeight {
    let w = this.weights.get(model);
    if (w === undefined) this.weights.set(model, (w = wordWeightOf(model)));
    return w;
  }

  private add(record: FeedbackRecord): void {
    if (record.source !== this.source && record.source !== ANY_SOURCE) return;
    this.answers.set(record.id, { id: record.id, kind: record.kind, features: featuresOf(record.message) });
    this.version++;
    this.onAnswers(this.answers.size);
  }

  private remove(record: FeedbackRecord): void {
    if (!this.answers.delete(record.id)) return;
    this.version++;
    this.onAnswers(this.answers.size);
  }
}
