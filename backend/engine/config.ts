// Engine configuration: the one place its defaults are written. Each field's default sits beside its bounds
// in the zod schema, DEFAULT_CONFIG is what that schema makes of an empty input, and everything else (the
// service's config, the CLI, word2vec.ts and som.ts when the engine calls them) takes its numbers from here.
// Validate at the edges (files, the CLI, the service), trust the EngineConfig type inside.
//
// A section is a strict object whose fields all have defaults, attached with `.prefault({})` so a missing
// section resolves to its defaults and a partial one is completed field by field. To add one (e.g. `miner`):
// write `minerSchema` like `neuralSchema` and add `miner: minerSchema.prefault({})` to engineConfigSchema.
// Keep the key order: a model stores its resolved config, and key order is part of those bytes.

import { z } from 'zod';
import { minerConfigSchema } from './drain/config';
import { rateConfigSchema } from './rate/config';
import { DEFAULT_MAX_LINE_LENGTH } from './tokenizer';

export const DETECTORS = ['combined', 'w2v-som', 'rarity'] as const;
export type DetectorName = (typeof DETECTORS)[number];

/** Weights of the components in the combined score. */
const weightsSchema = z
  .object({
    words: z.number().min(0).default(1),
    level: z.number().min(0).default(1),
    // 1 and 1 since session 8: session 5's selection rule (leximin over the BGL splits and injection seeds,
    // docs/engine.md "Choosing the defaults") re-run on session 8's scores chose them over 0.5 and 0.5
    problem: z.number().min(0).default(1),
    neural: z.number().min(0).default(1),
  })
  .strict();

/** Word2Vec + SOM (the original LAD's model). Options that are not here are word2vec.ts's and som.ts's own. */
export const neuralSchema = z
  .object({
    enabled: z.boolean().default(true),
    dim: z.number().int().min(2).max(512).default(25),
    window: z.number().int().min(1).max(20).default(5),
    epochs: z.number().int().min(1).max(100).default(5),
    minCount: z.number().int().min(1).default(1),
    negative: z.number().int().min(1).max(50).default(5),
    mode: z.enum(['skipgram', 'cbow']).default('skipgram'),
    somWidth: z.number().int().min(1).max(200).default(24),
    somHeight: z.number().int().min(1).max(200).default(24),
    somEpochs: z.number().int().min(1).max(1000).default(10),
    /** A template is repeated at most this many times in the W2V and SOM training data. */
    repeatCap: z.number().int().min(1).max(1000).default(3),
    /** W2V and the SOM train on at most this many templates (the most frequent), keeping training bounded. */
    maxTemplates: z.number().int().min(1).default(20_000),
    seed: z.number().int().default(1),
  })
  .strict();

/** The percentiles a threshold may sit at. */
export const PERCENTILES: readonly number[] = [50, 90, 95, 99, 99.5, 99.9];

/**
 * Input: any subset of the fields (a missing section or field takes its default). Output: the full config.
 * Strict: an unknown key (usually a typo) is an error naming it, not silently ignored.
 */
export const engineConfigSchema = z
  .object({
    /** Which score decides `anomaly` and is reported as `score`. */
    detector: z.enum(DETECTORS).default('combined'),
    /** 'sigma': mean + k·std of training scores; 'percentile': that percentile of training scores. */
    thresholdMethod: z.enum(['sigma', 'percentile']).default('percentile'),
    thresholdK: z.number().min(0).max(20).default(3),
    thresholdPercentile: z
      .number()
      .refine((p) => PERCENTILES.includes(p), { message: `percentile must be one of ${PERCENTILES.join(', ')}` })
      .default(99.9),
    /**
     * Count a template's training lines as events (events.ts): a burst confined to a small part of the training
     * window weighs about one line per part it touches, so a failure burst in the window is not learned as normal.
     */
    eventCounts: z.boolean().default(true),
    /**
     * A percentile threshold keeps at least this many training lines (events) above it: with fewer, the
     * percentile would be the training maximum, set by whatever burst the window held. 0 = the plain percentile.
     * 10 (session 6), the usual minimum of exceedances for a tail estimate, not chosen by a grid: the 99.9th
     * percentile of under 10,000 lines is the window's worst incident, and with it the default fell below the
     * trivial "level is fatal" rule on four of six BGL splits. It only matters for windows under 10,000 lines.
     */
    thresholdMinExceedances: z.number().min(0).default(10),
    /**
     * How many of a line's rarest words the rare-word detector averages. 1 (session 5, chosen by the rule in
     * docs/engine.md "Contaminated training windows"): ids are already masked by type, so one real word never
     * seen in training is evidence, and averaging it with two everyday words hid a short new failure line
     * (`data TLB error interrupt`) below register dumps with three new words.
     */
    topWords: z.number().int().min(1).max(20).default(1),
    weights: weightsSchema.prefault({}),
    /**
     * 'novel-line': the threshold is never below the score of a line whose words are all new but whose level is
     * the most common one, so novelty alone never flags a line; some learned severity evidence must add to it.
     */
    thresholdFloor: z.enum(['novel-line', 'none']).default('novel-line'),
    /** Characters of a line the tokenizer reads; one constant with the scanner's own default. */
    maxLineLength: z.number().int().min(64).max(1_000_000).default(DEFAULT_MAX_LINE_LENGTH),
    /** Lines marked false positive count as this share of the training lines each (at least 1 line). */
    normalLineWeight: z.number().min(0).max(1).default(0.01),
    neural: neuralSchema.prefault({}),
    /** Training score statistics are computed on at most this many templates (an even sample, weights kept). */
    maxStatTemplates: z.number().int().min(1).default(50_000),
    /**
     * Training keeps counts for at most this many distinct templates; past it the rarest are dropped (their lines
     * still count for words and levels), so a log whose every line is its own template trains in bounded memory.
     * Rule: well above the templates of any real log (Loghub's systems have at most a few thousand) and above
     * maxStatTemplates and neural.maxTemplates, while the kept examples stay a few tens of MB.
     */
    maxTrainTemplates: z.number().int().min(1).default(100_000),
    /** Training keeps document counts for at most this many distinct words (the rarest go first), same rule. */
    maxVocabulary: z.number().int().min(1).default(200_000),
    /** Cached template scores kept by a model (cleared when full). */
    cacheSize: z.number().int().min(0).default(200_000),
    /** The template miner (drain/config.ts): what the `template` of a line is. */
    miner: minerConfigSchema.prefault({}),
    /** Rate anomalies per template (rate/config.ts): surges and drops. */
    rate: rateConfigSchema.prefault({}),
  })
  .strict();

export type EngineConfig = z.output<typeof engineConfigSchema>;
/** What a caller may pass: every section and field optional (the service's `training.engine`, a CLI --config). */
export type EngineConfigInput = z.input<typeof engineConfigSchema>;
export type NeuralConfig = EngineConfig['neural'];

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The defaults: the schema's reading of an empty config. Frozen, since every caller shares it. */
export const DEFAULT_CONFIG: EngineConfig = deepFreeze(engineConfigSchema.parse({}));

/** A numeric field's bounds as its schema states them, for front ends that check a value early (CLI flags). */
export function numberBounds(field: z.ZodDefault<z.ZodNumber>): { int: boolean; min?: number; max?: number } {
  const n = field.unwrap();
  return { int: n.isInt, min: n.minValue ?? undefined, max: n.maxValue ?? undefined };
}

/** A configuration value that failed validation; `key` is its dotted path (e.g. `neural.dim`). */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The path a zod issue is about; for an unknown key that is the key itself (usually a typo), not its parent. */
export function issuePath(issue: z.core.$ZodIssue): string[] {
  const path = issue.path.map(String);
  return issue.code === 'unrecognized_keys' && issue.keys.length > 0 ? [...path, issue.keys[0]] : path;
}

/** Defaults completed with `partial`, validated; throws a ConfigError naming the bad field. */
export function resolveConfig(partial: EngineConfigInput = {}): EngineConfig {
  const parsed = engineConfigSchema.safeParse(partial);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issuePath(issue).join('.');
    throw new ConfigError(`invalid engine config ${key}: ${issue.message}`, key);
  }
  return parsed.data;
}
