// The engine contract (docs/architecture.md, "Engine").

import type { EngineConfig, EngineConfigInput } from './config';

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
}
