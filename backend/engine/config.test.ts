// The engine's defaults are written once (config.ts): these tests fail if word2vec.ts or som.ts grow numbers of
// their own that differ, if the engine stops passing a config value to them, or if validation stops naming
// the field at fault.
import { readFileSync } from 'fs';
import * as path from 'path';
import { ConfigError, DEFAULT_CONFIG, engineConfigSchema, neuralSchema, numberBounds, resolveConfig } from './config';
import type { EngineConfigInput, NeuralConfig } from './config';
import { loadNeuralModules } from './neural';
import { resolveSomOptions } from './som';
import type { SomOptions } from './som';
import { trainModelSync } from './train';
import { resolveWord2VecOptions } from './word2vec';
import type { Word2VecOptions } from './word2vec';

/** The engine's names for the Word2Vec and SOM options, written out here rather than taken from the code under test. */
const w2vFromConfig = (n: NeuralConfig): Partial<Word2VecOptions> => ({
  mode: n.mode,
  dim: n.dim,
  window: n.window,
  epochs: n.epochs,
  minCount: n.minCount,
  negative: n.negative,
  seed: n.seed,
});
const somFromConfig = (n: NeuralConfig): Partial<SomOptions> => ({ width: n.somWidth, height: n.somHeight, epochs: n.somEpochs, seed: n.seed });

function configError(input: unknown): ConfigError {
  try {
    resolveConfig(input as EngineConfigInput);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('engine config', () => {
  it('DEFAULT_CONFIG is what an empty config resolves to, and lies within its own bounds', () => {
    expect(resolveConfig()).toEqual(DEFAULT_CONFIG);
    expect(resolveConfig({})).toEqual(DEFAULT_CONFIG);
    expect(engineConfigSchema.parse(DEFAULT_CONFIG)).toEqual(DEFAULT_CONFIG);
    expect(Object.isFrozen(DEFAULT_CONFIG.neural)).toBe(true);
  });

  it('completes a partial section field by field', () => {
    const c = resolveConfig({ neural: { dim: 8 }, weights: { problem: 2 } });
    expect(c.neural).toEqual({ ...DEFAULT_CONFIG.neural, dim: 8 });
    expect(c.weights).toEqual({ ...DEFAULT_CONFIG.weights, problem: 2 });
    expect(c.detector).toBe(DEFAULT_CONFIG.detector);
  });

  it('errors name the field, including an unknown (misspelt) one', () => {
    expect(configError({ neural: { dim: 1 } }).key).toBe('neural.dim');
    expect(configError({ neural: { dim: 1 } }).message).toMatch(/^invalid engine config neural\.dim: /);
    expect(configError({ thresholdPercentile: 97 }).message).toMatch(/thresholdPercentile: percentile must be one of/);
    expect(configError({ neural: { dims: 8 } }).key).toBe('neural.dims');
    expect(configError({ detectr: 'rarity' }).key).toBe('detectr');
    expect(configError({ weights: null }).key).toBe('weights');
  });

  it("numberBounds (the CLI's early check) states exactly what the schema accepts", () => {
    const cases: [string, Parameters<typeof numberBounds>[0], (v: number) => EngineConfigInput][] = [
      ['thresholdK', engineConfigSchema.shape.thresholdK, (v) => ({ thresholdK: v })],
      ['neural.dim', neuralSchema.shape.dim, (v) => ({ neural: { dim: v } })],
      ['neural.somWidth', neuralSchema.shape.somWidth, (v) => ({ neural: { somWidth: v } })],
    ];
    for (const [key, field, input] of cases) {
      const { min, max } = numberBounds(field);
      if (min === undefined || max === undefined) throw new Error(`${key} has no bounds`);
      for (const ok of [min, max]) expect(() => resolveConfig(input(ok))).not.toThrow();
      for (const bad of [min - 1, max + 1]) expect(configError(input(bad)).key).toBe(key);
    }
    expect(numberBounds(neuralSchema.shape.dim).int).toBe(true);
    expect(numberBounds(engineConfigSchema.shape.thresholdK).int).toBe(false);
  });
});

describe('word2vec.ts and som.ts defaults are the engine config', () => {
  it('their own defaults equal DEFAULT_CONFIG.neural on every option the engine configures', () => {
    expect(resolveWord2VecOptions()).toMatchObject(w2vFromConfig(DEFAULT_CONFIG.neural));
    expect(resolveSomOptions()).toMatchObject(somFromConfig(DEFAULT_CONFIG.neural));
  });

  it('training passes every configured value to them (none falls back to a module default)', () => {
    const modules = loadNeuralModules();
    const w2vSpy = jest.spyOn(modules.w2v, 'trainWord2Vec');
    const somSpy = jest.spyOn(modules.som.SelfOrganizingMap, 'train');
    try {
      // Every option differs from its default, so a value the engine forgot to pass would show.
      const neural: NeuralConfig = {
        ...DEFAULT_CONFIG.neural,
        dim: 7,
        window: 2,
        epochs: 2,
        minCount: 2,
        negative: 3,
        mode: DEFAULT_CONFIG.neural.mode === 'cbow' ? 'skipgram' : 'cbow',
        somWidth: 5,
        somHeight: 4,
        somEpochs: 3,
        seed: 11,
      };
      for (const key of Object.keys(w2vFromConfig(neural)) as (keyof Word2VecOptions)[]) {
        expect(w2vFromConfig(neural)[key]).not.toEqual(resolveWord2VecOptions()[key]);
      }
      for (const key of Object.keys(somFromConfig(neural)) as (keyof SomOptions)[]) {
        expect(somFromConfig(neural)[key]).not.toEqual(resolveSomOptions()[key]);
      }
      const lines = Array.from({ length: 300 }, (_, i) => `worker ${['started', 'stopped', 'paused', 'resumed'][i % 4]} job ${['alpha', 'beta', 'gamma'][i % 3]} queue ${i % 5 === 0 ? 'high' : 'low'}`);
      const model = trainModelSync(lines, { config: { neural } });

      expect(w2vSpy).toHaveBeenCalledTimes(1);
      expect(resolveWord2VecOptions(w2vSpy.mock.calls[0][1])).toMatchObject(w2vFromConfig(neural));
      expect(somSpy).toHaveBeenCalledTimes(1);
      expect(resolveSomOptions(somSpy.mock.calls[0][3])).toMatchObject(somFromConfig(neural));
      expect(model.neural?.w2v.dim).toBe(7);
      expect([model.neural?.som.width, model.neural?.som.height]).toEqual([5, 4]);
      expect(model.config.neural).toEqual(neural);
    } finally {
      w2vSpy.mockRestore();
      somSpy.mockRestore();
    }
  });
});

describe('docs/engine.md', () => {
  it('documents every engine config field in its "Engine configuration" section', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'engine.md'), 'utf8');
    const start = doc.indexOf('## Engine configuration');
    expect(start).toBeGreaterThanOrEqual(0);
    const end = doc.indexOf('\n## ', start + 1);
    const section = doc.slice(start, end < 0 ? undefined : end);
    const fields = Object.entries(DEFAULT_CONFIG).flatMap(([key, value]) =>
      typeof value === 'object' && value !== null ? [key, ...Object.keys(value)] : [key],
    );
    const missing = fields.filter((f) => !section.includes(`\`${f}\``));
    expect(missing).toEqual([]);
  });
});
