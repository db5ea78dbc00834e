/**
 * What happens to one scored line, in one place: the model's score, then the people's answers near it
 * (backend/feedback), then a false positive's template suppression, then a rate surge of its template
 * (engine/rate). The embedded SourcePipeline and cluster mode's scoring worker both decide lines here, so a
 * line gets the same verdict whichever mode scores it.
 *
 * Hot path: one Decision object per decider is reused for every line (callers copy what they keep).
 */
import type { FeedbackIndex } from '../feedback/feedback-index';
import type { LineScore, Model } from './engine-port';
import type { RateWatch } from './rate-watch';

/** The one part of the fact-store a decision reads: is this template marked "not an anomaly" for the source? */
export interface SuppressionLookup {
  isSuppressed(source: string, template: string): boolean;
}

export interface Decision {
  /** The model's own verdict and line score. */
  line: LineScore;
  /** The score after answers (what is stored and shown). */
  score: number;
  /** Stored as an anomaly row: flagged now, or flagged by the model and then suppressed. */
  stored: boolean;
  /** Flagged after answers, suppression and rate (counts as an anomaly). */
  flagged: boolean;
  /** Flagged by the model but quieted by an answer or a suppressed template. */
  suppressed: boolean;
  reason: string;
}

export class LineDecider {
  private readonly out: Decision = { line: undefined as unknown as LineScore, score: 0, stored: false, flagged: false, suppressed: false, reason: '' };

  constructor(
    private readonly source: string,
    private readonly feedback: FeedbackIndex,
    private readonly facts: SuppressionLookup,
    private readonly rate: RateWatch,
  ) {}

  decide(model: Model, line: string, arrivalMs: number): Decision {
    const r = model.score(line);
    // Answers decide the lines near them; a template marked false positive stays quiet unless confirmed nearer.
    const j = this.feedback.apply(model, line, r);
    let flagged = j.anomaly;
    let suppressed = false;
    if (r.anomaly && !flagged) {
      suppressed = true;
    } else if (flagged && j.verdict?.kind !== 'confirmed' && this.facts.isSuppressed(this.source, r.template)) {
      suppressed = true;
      flagged = false;
    }
    // A surge flags the line whatever its own score: its template arrives far too often. Unless people said
    // lines like it are not anomalies: then this rate becomes the template's normal.
    let surge = this.rate.observe(r, line, arrivalMs);
    if (surge !== null && ((j.verdict !== null && j.verdict.kind !== 'confirmed') || this.facts.isSuppressed(this.source, r.template))) {
      this.rate.accept();
      surge = null;
    }
    if (surge !== null) {
      this.rate.flagged(surge, r.template);
      flagged = true;
      suppressed = false;
    }
    const out = this.out;
    out.line = r;
    out.score = j.score;
    out.flagged = flagged && !suppressed;
    out.suppressed = suppressed;
    out.stored = r.anomaly || flagged;
    out.reason = surge === null ? j.reason : r.anomaly ? `${surge.reason}; ${j.reason}` : surge.reason;
    return out;
  }
}
