/**
 * When a source's model is retrained, as one rule set the pipeline asks: periodically (retrainIntervalSeconds,
 * 0 = never), early when the flagged share drifted up (but not sooner than minRetrainGapSeconds after the last
 * model, so a burst cannot retrain in a loop), and never again within a back-off after a failed training.
 */
export type RetrainReason = 'periodic' | 'drift';

export interface RetrainSettings {
  retrainIntervalSeconds: number;
  minRetrainGapSeconds: number;
}

/** Wait after a failed retraining before the next attempt (a failing training must not loop). */
export const RETRAIN_BACKOFF_MS = 60_000;

export class RetrainPolicy {
  private notBefore = 0;

  constructor(private readonly settings: RetrainSettings) {}

  /** Why to retrain now, or null. `modelAgeSeconds` is Infinity without a model date. */
  due(nowMs: number, modelAgeSeconds: number, drifted: boolean): RetrainReason | null {
    if (nowMs < this.notBefore) return null;
    if (drifted && modelAgeSeconds >= this.settings.minRetrainGapSeconds) return 'drift';
    const every = this.settings.retrainIntervalSeconds;
    if (every > 0 && modelAgeSeconds >= every) return 'periodic';
    return null;
  }

  /** False within the back-off after a failure (an explicit retrain request is refused then too). */
  allowed(nowMs: number): boolean {
    return nowMs >= this.notBefore;
  }

  failed(nowMs: number): void {
    this.notBefore = nowMs + RETRAIN_BACKOFF_MS;
  }
}
