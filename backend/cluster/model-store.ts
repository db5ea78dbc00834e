/**
 * Where cluster workers keep trained models, so a worker taking a source over loads the last model instead
 * of retraining. One interface; the JetStream object store implementation is model-store-object.ts (the
 * embedded pipeline keeps its models in <dataDir>/models, see SourcePipeline).
 */
import type { Model } from '../pipeline/engine-port';

export interface ModelStore {
  /** The last model saved for the source, or null when none was. */
  load(source: string): Promise<Model | null>;
  save(source: string, model: Model): Promise<void>;
}
