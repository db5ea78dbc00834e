/**
 * The part of the engine API (backend/engine/index.ts, see docs/architecture.md) the pipeline uses.
 * The types are the engine's own; only the function list is narrowed here, so the pipeline takes the engine as a
 * parameter (server/main.ts passes the real module) and depends on the five calls it makes, not on a module path.
 */
import type { Model, TrainOptions } from '../engine';

export type { LineScore, Model, ModelInfo, TrainOptions } from '../engine';

export interface EngineApi {
  trainModel(lines: readonly string[], options?: TrainOptions): Promise<Model>;
  trainModelInWorker(lines: readonly string[], options?: TrainOptions): Promise<Model>;
  saveModel(model: Model, dir: string): Promise<void>;
  loadModel(dir: string): Promise<Model>;
  templateOf(line: string): string;
}
