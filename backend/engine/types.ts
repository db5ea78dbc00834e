// The engine contract (docs/architecture.md, "Engine").

import type { EngineConfig, EngineConfigInput } from './config';
import type { MinerState } from './drain/state';

export interface LineScore {
  score: number;
  anomaly: boolean;
  template: string;
  reason: string;
  level: string | null;
}

export interface ModelInfo {
  version: number;
  createdAt: string;
  trainedLines: number;
  threshold: number;
  config: EngineConfig;
  stats: Record<string, number>;
}

export interface Model {
  readonly info: ModelInfo;
  /** May return a reused object: copy the fields you keep. */
  score(line: string): LineScore;
  /** The mined template a line belongs to, without learning from it. */
  templateOf(line: string): string;
  /** How many templates the miner holds, and how many it has evicted to stay within miner.maxTemplates. */
  templateStats(): { templates: number; evicted: number };
  /** The mined templates as data: what a retraining continues from (TrainOptions.templates). */
  minedTemplates(): MinerState;
}

export interface TrainProgress {
  phase: string;
  done: number;
  total: number;
}

export interface TrainOptions {
  config?: EngineConfigInput;
  /** Lines people marked false positive: trained on as normal. */
  normalLines?: readonly string[];
  onProgress?: (p: TrainProgress) => void;
  /** Templates of the model being replaced: the new one continues from them, so templates stay stable. */
  templates?: MinerState;
  /**
   * Called for every training line once its template is known (the rate baseline, engine/rate): its mined
   * template id, and the line as `line`, or else as the code units codes[start, end) (an ASCII line read in place).
   */
  onLine?: (templateId: number, line: string | null, codes: Uint16Array, start: number, end: number) => void;
}
