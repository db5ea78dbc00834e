// Engine configuration: defaults, and the zod schema that validates configs coming from files, the CLI and
// the service (validate at the edges, trust the type inside).

import { z } from 'zod';

export const DETECTORS = ['combined', 'w2v-som', 'rarity'] as const;
export type DetectorName = (typeof DETECTORS)[number];

export const engineConfigSchema = z.object({
  /** Which score decides `anomaly` and is reported as `score`. */
  detector: z.enum(DETECTORS),
  /** 'sigma': mean + k·std of training scores; 'percentile': that percentile of training scores. */
  thresholdMethod: z.enum(['sigma', 'percentile']),
  thresholdK: z.number().min(0).max(20),
  thresholdPercentile: z.number().refine((p) => [50, 90, 95, 99, 99.5, 99.9].includes(p), {
    message: 'percentile must be one of 50, 90, 95, 99, 99.5, 99.9',
  }),
  /** How many of a line's rarest words the rare-word detector averages. */
  topWords: z.number().int().min(1).max(20),
  /** Weights of the components in the combined score. */
  weights: z.object({ words: z.number().min(0), level: z.number().min(0), problem: z.number().min(0), neural: z.number().min(0) }),
  /**
   * 'novel-line': the threshold is never below the score of a line whose words are all new but whose level is
   * the most common one, so novelty alone never flags a line; some learned severity evidence must add to it.
   */
  thresholdFloor: z.enum(['novel-line', 'none']),
  maxLineLength: z.number().int().min(64).max(1_000_000),
  /** Lines marked false positive count as this share of the training lines each (at least 1 line). */
  normalLineWeight: z.number().min(0).max(1),
  neural: z.object({
    enabled: z.boolean(),
    dim: z.number().int().min(2).max(512),
    window: z.number().int().min(1).max(20),
    epochs: z.number().int().min(1).max(100),
    minCount: z.number().int().min(1),
    negative: z.number().int().min(1).max(50),
    mode: z.enum(['skipgram', 'cbow']),
    somWidth: z.number().int().min(1).max(200),
    somHeight: z.number().int().min(1).max(200),
    somEpochs: z.number().int().min(1).max(1000),
    /** A template is repeated at most this many times in the W2V and SOM training data. */
    repeatCap: z.number().int().min(1).max(1000),
    /** W2V and the SOM train on at most this many templates (the most frequent), keeping training bounded. */
    maxTemplates: z.number().int().min(1),
    seed: z.number().int(),
  }),
  /** Training score statistics are computed on at most this many templates (an even sample, weights kept). */
  maxStatTemplates: z.number().int().min(1),
  /** Cached template scores kept by a model (cleared when full). */
  cacheSize: z.number().int().min(0),
});

export type EngineConfig = z.infer<typeof engineConfigSchema>;

export const DEFAULT_CONFIG: EngineConfig = {
  detector: 'combined',
  thresholdMethod: 'percentile',
  thresholdK: 3,
  thresholdPercentile: 99.9,
  topWords: 3,
  weights: { words: 1, level: 1, problem: 0.5, neural: 0.5 },
  thresholdFloor: 'novel-line',
  maxLineLength: 4096,
  normalLineWeight: 0.01,
  neural: {
    enabled: true,
    dim: 25,
    window: 5,
    epochs: 5,
    minCount: 1,
    negative: 5,
    mode: 'skipgram',
    somWidth: 24,
    somHeight: 24,
    somEpochs: 10,
    repeatCap: 3,
    maxTemplates: 20_000,
    seed: 1,
  },
  maxStatTemplates: 50_000,
  cacheSize: 200_000,
};

export type EngineConfigInput = Partial<Omit<EngineConfig, 'weights' | 'neural'>> & {
  weights?: Partial<EngineConfig['weights']>;
  neural?: Partial<EngineConfig['neural']>;
};

/** Defaults merged with `partial`, validated; throws a readable error naming the bad field. */
export function resolveConfig(partial: EngineConfigInput = {}): EngineConfig {
  const merged = {
    ...DEFAULT_CONFIG,
    ...partial,
    weights: { ...DEFAULT_CONFIG.weights, ...partial.weights },
    neural: { ...DEFAULT_CONFIG.neural, ...partial.neural },
  };
  const parsed = engineConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid engine config ${issue.path.join('.')}: ${issue.message}`, issue.path.join('.'));
  }
  return parsed.data;
}

export class ConfigError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
