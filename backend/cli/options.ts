// Options shared by `lad train` and `lad eval` that shape the model, turned into an engine config.

import { readFileSync } from 'fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { DETECTORS, resolveConfig } from '../engine';
import { engineConfigSchema, neuralSchema, numberBounds, PERCENTILES } from '../engine/config';
import type { EngineConfig, EngineConfigInput } from '../engine';
import { CliError } from './input';

export function numberArg(name: string, opts: { int?: boolean; min?: number; max?: number } = {}): (v: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (opts.int === true && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${opts.int === true ? 'an integer' : 'a number'}`);
    }
    if (opts.min !== undefined && n < opts.min) throw new InvalidArgumentError(`${name} must be at least ${opts.min}`);
    if (opts.max !== undefined && n > opts.max) throw new InvalidArgumentError(`${name} must be at most ${opts.max}`);
    return n;
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'engine config (JSON or YAML, any subset of the fields in docs/engine.md)')
    .addOption(new Option('--detector <name>', 'detector that decides anomalies').choices(DETECTORS as unknown as string[]))
    // Two rules for one threshold: given both, one would be dropped without a word.
    .addOption(
      new Option('--threshold-k <k>', 'threshold = mean + k·std of training scores')
        .argParser(numberArg('--threshold-k', numberBounds(engineConfigSchema.shape.thresholdK)))
        .conflicts('thresholdPercentile')
    )
    .option('--threshold-percentile <p>', `threshold = this percentile of training scores (${PERCENTILES.join(', ')})`, numberArg('--threshold-percentile'))
    .option('--no-neural', 'skip the Word2Vec + SOM detector (faster training)')
    .option('--dim <n>', 'Word2Vec dimension', numberArg('--dim', numberBounds(neuralSchema.shape.dim)))
    // Width and height share their bounds; the engine's schema checks both again anyway.
    .option('--som-size <n>', 'SOM width and height', numberArg('--som-size', numberBounds(neuralSchema.shape.somWidth)))
    .option('--seed <n>', 'random seed (same seed, same model)', numberArg('--seed', { int: true }))
    .option('-q, --quiet', 'no progress on stderr');
}

export interface ModelOptionValues {
  config?: string;
  detector?: string;
  thresholdK?: number;
  thresholdPercentile?: number;
  neural?: boolean;
  dim?: number;
  somSize?: number;
  seed?: number;
  quiet?: boolean;
}

export function configFromOptions(o: ModelOptionValues): EngineConfig {
  let base: EngineConfigInput = {};
  if (o.config !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.config, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read config ${o.config}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = o.config.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new CliError(`config ${o.config} is not valid ${o.config.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
    }
    // an empty file (YAML's null) sets nothing; a number, string or list is no config (spread, it read as {})
    if (parsed !== null && !isPlainObject(parsed)) {
      throw new CliError(`config ${o.config} must be a mapping of engine settings (docs/engine.md), not ${Array.isArray(parsed) ? 'a list' : `a ${typeof parsed}`}`);
    }
    base = (parsed ?? {}) as EngineConfigInput;
    // the options below set neural fields on top of the file's, by spreading it: `neural: 5` would read as {}
    const neural: unknown = base.neural;
    if (neural !== undefined && !isPlainObject(neural)) throw new CliError(`invalid engine config neural in ${o.config}: expected a mapping, not ${JSON.stringify(neural)}`);
  }
  const cfg: EngineConfigInput = { ...base, neural: { ...base.neural } };
  if (o.detector !== undefined) cfg.detector = o.detector as EngineConfig['detector'];
  if (o.thresholdK !== undefined) cfg.thresholdMethod = 'sigma';
  if (o.thresholdK !== undefined) cfg.thresholdK = o.thresholdK;
  if (o.thresholdPercentile !== undefined) {
    cfg.thresholdMethod = 'percentile';
    cfg.thresholdPercentile = o.thresholdPercentile;
  }
  if (o.neural === false) cfg.neural = { ...cfg.neural, enabled: false };
  if (o.dim !== undefined) cfg.neural = { ...cfg.neural, dim: o.dim };
  if (o.somSize !== undefined) cfg.neural = { ...cfg.neural, somWidth: o.somSize, somHeight: o.somSize };
  if (o.seed !== undefined) cfg.neural = { ...cfg.neural, seed: o.seed };
  try {
    return resolveConfig(cfg);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
