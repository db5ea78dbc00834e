// Public API of the detection engine (the contract in docs/architecture.md).

export type { LineScore, Model, ModelInfo, TrainOptions, TrainProgress } from './types';
export type { EngineConfig, EngineConfigInput, DetectorName } from './config';
export { DEFAULT_CONFIG, resolveConfig, ConfigError, DETECTORS } from './config';
export { trainModel } from './train';
export { trainModelInWorker } from './in-worker';
export { saveModel, loadModel } from './persist';
export { ModelFormatError } from './parts';
export { templateOf, tokenize } from './tokenizer';
export { IncidentTracker, DEFAULT_INCIDENT_GAP_LINES } from './incidents';
