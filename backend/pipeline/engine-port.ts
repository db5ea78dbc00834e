/**
 * The part of the engine API (backend/engine/index.ts, see docs/architecture.md) the pipeline uses.
 * The pipeline takes it as a parameter so it depends on the contract, not on a module path; server/main.ts
 * passes the real engine module.
 */
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
}

export interface Model {
  readonly info: ModelInfo;
  score(line: string): LineScore;
}

export interface TrainOptions {
  config?: Record<string, unknown>;
  normalLines?: readonly string[];
}

export interface EngineApi {
  trainModel(lines: readonly string[], options?: TrainOptions): Promise<Model>;
  trainModelInWorker(lines: readonly string[], options?: TrainOptions): Promise<Model>;
  saveModel(model: Model, dir: string): Promise<void>;
  loadModel(dir: string): Promise<Model>;
  templateOf(line: string): string;
}
