// A model as plain data (JSON-able objects + Float32Arrays): what saveModel writes to a directory and what a
// training worker posts back to the main thread (the arrays are transferred, not copied).

import { z } from 'zod';
import { engineConfigSchema } from './config';
import { LadModel } from './model';
import type { ModelNorms } from './model';
import { loadNeuralModules, NeuralDetector } from './neural';
import { RarityModel } from './rarity';
import { TemplateMiner } from './drain/miner';
import { minerStateSchema, type MinerState } from './drain/state';
import type { RarityJson } from './rarity';
import type { Summary } from './stats';
import { MODEL_FORMAT_VERSION } from './train';
import type { ModelInfo } from './types';

export const MODEL_FORMAT = 'scorpio-lad-model';

export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  version: number;
  info: ModelInfo;
  norms: ModelNorms;
  trainingScores: Summary;
  neural: { word2vec: object; som: { width: number; height: number; dim: number } } | null;
}

export interface ModelParts {
  manifest: ModelManifest;
  rarity: RarityJson;
  wordVectors: Float32Array | null;
  somWeights: Float32Array | null;
  /** The mined templates; null for a model saved before the miner existed (it starts with none). */
  templates: MinerState | null;
}

export function modelToParts(model: LadModel): ModelParts {
  let neural: ModelManifest['neural'] = null;
  let wordVectors: Float32Array | null = null;
  let somWeights: Float32Array | null = null;
  if (model.neural !== null) {
    const modules = loadNeuralModules();
    const w = modules.w2v.serializeWord2Vec(model.neural.w2v);
    const som = model.neural.som;
    neural = { word2vec: w.json, som: { width: som.width, height: som.height, dim: som.dim } };
    wordVectors = w.vectors;
    somWeights = som.weights;
  }
  return {
    manifest: {
      format: MODEL_FORMAT,
      version: MODEL_FORMAT_VERSION,
      info: model.info,
      norms: model.norms,
      trainingScores: model.trainingScores,
      neural,
    },
    rarity: model.rarity.toJSON(),
    wordVectors,
    somWeights,
    templates: model.miner.toJSON(),
  };
}

const norm = z.object({ mean: z.number(), std: z.number() });
const manifestSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  version: z.number(),
  info: z.object({
    version: z.number(),
    createdAt: z.string(),
    trainedLines: z.number(),
    threshold: z.number(),
    config: engineConfigSchema,
    stats: z.record(z.string(), z.number()),
  }),
  norms: z.object({ words: norm, level: norm, neural: norm.extend({ max: z.number(), scale: z.number() }) }),
  trainingScores: z.object({
    count: z.number(),
    mean: z.number(),
    std: z.number(),
    max: z.number(),
    quantiles: z.array(z.number()),
  }),
  neural: z
    .object({
      word2vec: z.record(z.string(), z.unknown()),
      som: z.object({ width: z.number().int(), height: z.number().int(), dim: z.number().int() }),
    })
    .nullable(),
});

const rarityJsonSchema = z.object({
  lines: z.number(),
  words: z.array(z.tuple([z.string(), z.number()])),
  templates: z.array(z.tuple([z.string(), z.number()])),
  levels: z.array(z.number()),
  normalTemplates: z.array(z.string()).optional(),
});

export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

/** Checks the manifest's format and version first, so an unknown version gets a clear message. */
export function parseManifest(raw: unknown): ModelManifest {
  const head = raw as { format?: unknown; version?: unknown } | null;
  if (head === null || typeof head !== 'object' || head.format !== MODEL_FORMAT) {
    throw new ModelFormatError(`not a Scorpio model (format field is not "${MODEL_FORMAT}")`);
  }
  if (head.version !== MODEL_FORMAT_VERSION) {
    throw new ModelFormatError(
      `unsupported model format version ${String(head.version)} (this build reads version ${MODEL_FORMAT_VERSION}); retrain the model`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelFormatError(`corrupt model manifest at ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data as ModelManifest;
}

export function parseRarity(raw: unknown): RarityJson {
  const parsed = rarityJsonSchema.safeParse(raw);
  if (!parsed.success) throw new ModelFormatError(`corrupt rarity statistics: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

export function parseTemplates(raw: unknown): MinerState {
  const parsed = minerStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelFormatError(`corrupt templates at ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

export function modelFromParts(parts: ModelParts): LadModel {
  const { manifest } = parts;
  const rarity = RarityModel.fromJSON(parts.rarity, manifest.info.config.topWords);
  let neural: NeuralDetector | null = null;
  if (manifest.neural !== null) {
    const modules = loadNeuralModules();
    if (parts.wordVectors === null || parts.somWeights === null) throw new ModelFormatError('model is missing its vector files');
    const { width, height, dim } = manifest.neural.som;
    if (parts.somWeights.length !== width * height * dim) {
      throw new ModelFormatError(`SOM weights have ${parts.somWeights.length} values, expected ${width * height * dim}`);
    }
    const w2v = modules.w2v.deserializeWord2Vec(manifest.neural.word2vec, parts.wordVectors);
    const som = new modules.som.SelfOrganizingMap(width, height, dim, parts.somWeights);
    neural = new NeuralDetector(w2v, som);
  }
  const miner = parts.templates === null ? new TemplateMiner(manifest.info.config.miner) : TemplateMiner.fromJSON(parts.templates);
  return new LadModel(manifest.info, rarity, neural, manifest.norms, manifest.trainingScores, miner);
}
