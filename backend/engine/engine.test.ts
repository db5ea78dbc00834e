import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { loadModel, saveModel, trainModel, trainModelInWorker, templateOf, ModelFormatError } from './index';
import { loadBaseline, RATE_FILE } from './rate/persist';
import type { LadModel } from './model';
import { TESTDATA_DIR } from '../testdata/paths';

const readSample = (rel: string): string[] => readFileSync(path.join(TESTDATA_DIR, rel), 'utf8').split('\n').filter((l) => l.length > 0);

/** A small synthetic service log: routine lines with varying ids, numbers and durations. */
function routineLog(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const user = `user${(i * 7919) % 1000}`;
    switch (i % 4) {
      case 0: out.push(`2024-05-02T12:${String(i % 60).padStart(2, '0')}:01Z level=info msg="request completed" path=/api/v1/items/${i} status=200 duration=${(i % 90) + 1}ms`); break;
      case 1: out.push(`2024-05-02T12:00:${String(i % 60).padStart(2, '0')}Z level=info msg="cache refreshed" entries=${i * 3} took=${i % 17}.5s`); break;
      case 2: out.push(`2024-05-02T12:00:00Z level=debug msg="session opened" user=${user} session=${(i * 2654435761 % 4294967296).toString(16)}`); break;
      default: out.push(`2024-05-02T12:00:00Z level=warn msg="slow query" table=orders rows=${i} elapsed=${i % 300}ms`);
    }
  }
  return out;
}

describe('engine: train, score, save and load', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lad-engine-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scores routine lines below the threshold and a never-seen fatal line above it', async () => {
    const model = await trainModel(routineLog(2000), { config: { neural: { enabled: false } } });
    const routine = routineLog(2400).slice(2000);
    const flagged = routine.filter((l) => model.score(l).anomaly).length;
    expect(flagged / routine.length).toBeLessThanOrEqual(0.01);
    const bad = model.score('2024-05-02T12:00:00Z level=fatal msg="disk controller reset, filesystem remounted read-only" device=sda');
    expect(bad.anomaly).toBe(true);
    expect(bad.level).toBe('fatal');
    expect(bad.reason).toMatch(/controller|remounted|filesystem/);
    expect(bad.template).toBe(templateOf('2024-05-02T12:00:00Z level=fatal msg="disk controller reset, filesystem remounted read-only" device=sda'));
  });

  it('scoreAscii scores a line straight from its bytes exactly as score does, and refuses non-ASCII lines', async () => {
    const fromBytes = (await trainModel(routineLog(1000), { config: { neural: { enabled: false } } })) as LadModel;
    const fromStrings = (await trainModel(routineLog(1000), { config: { neural: { enabled: false } } })) as LadModel;
    const lines = [...routineLog(1300).slice(1000), '2024-05-02T12:00:00Z level=fatal msg="disk controller reset" device=sda', ''];
    const bytes = Buffer.from(lines.join('\n'));
    let p = 0;
    for (const line of lines) {
      const end = p + line.length;
      // a fresh model each way: the first occurrence of each template is computed, not taken from the cache
      expect({ ...fromBytes.scoreAscii(bytes, p, end) }).toEqual({ ...fromStrings.score(line) });
      p = end + 1;
    }
    const accented = Buffer.from('level=error msg="échec du disque"');
    expect(fromBytes.scoreAscii(accented, 0, accented.length)).toBeNull();
  });

  it('gives the same scores after a save/load round trip, with the W2V+SOM part', async () => {
    const lines = readSample('loghub/HDFS_2k.log');
    const model = await trainModel(lines.slice(0, 1000), { config: { neural: { epochs: 2, somWidth: 6, somHeight: 6, somEpochs: 3 } } });
    const modelDir = path.join(dir, 'hdfs');
    await saveModel(model, modelDir);
    const loaded = await loadModel(modelDir);
    expect(loaded.info).toEqual(model.info);
    for (const line of lines.slice(1000, 1300)) {
      const a = { ...model.score(line) };
      const b = { ...loaded.score(line) };
      expect(b).toEqual(a);
    }
    // the neural part survived the round trip when it was trained
    expect((loaded as LadModel).neural === null).toBe((model as LadModel).neural === null);
  });

  // A model saved after it has scored lines holds the templates they made (the service saves right after
  // training, but the engine may be saved at any time); the boundary is saved too, so after loading, a kind of line
  // first seen before the save is still new.
  it('keeps which templates are new since training across a save/load round trip', async () => {
    const model = (await trainModel(routineLog(500), { config: { neural: { enabled: false } } })) as LadModel;
    const novel = 'level=warn msg="replica set failed over, primary lost" shard=7';
    model.score(novel); // makes its template, after training
    expect(model.components(novel).newEvent).toBe(true);
    const modelDir = path.join(dir, 'boundary');
    await saveModel(model, modelDir);
    const loaded = (await loadModel(modelDir)) as LadModel;
    expect(loaded.miner.size).toBe(model.miner.size);
    expect(loaded.components(novel).newEvent).toBe(true);
    expect(loaded.components(routineLog(1)[0]).newEvent).toBe(false);
  });

  it('rejects a model directory with an unknown format version, naming the version', async () => {
    const model = await trainModel(routineLog(200), { config: { neural: { enabled: false } } });
    const modelDir = path.join(dir, 'future');
    await saveModel(model, modelDir);
    const manifest = JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
    manifest.version = 99;
    writeFileSync(path.join(modelDir, 'model.json'), JSON.stringify(manifest));
    await expect(loadModel(modelDir)).rejects.toThrow(ModelFormatError);
    await expect(loadModel(modelDir)).rejects.toThrow(/version 99/);
    await expect(loadModel(path.join(dir, 'missing'))).rejects.toThrow(/does not exist/);
    // a file given as the model (lad score --model app.log) is named as a file, not as missing
    await expect(loadModel(path.join(modelDir, 'model.json'))).rejects.toThrow(/is a file, not a model directory/);
  });

  it('names rate.json when it is not JSON', async () => {
    const model = await trainModel(routineLog(200), { config: { neural: { enabled: false } } });
    const modelDir = path.join(dir, 'bad-rate');
    await saveModel(model, modelDir);
    writeFileSync(path.join(modelDir, RATE_FILE), '{"version":2,');
    await expect(loadBaseline(modelDir)).rejects.toThrow(`${path.join(modelDir, RATE_FILE)} is not valid JSON`);
  });

  it('learns lines marked false positive (normalLines) as normal', async () => {
    const fp = '2024-05-02T12:00:00Z level=error msg="upstream reset by peer, retrying" upstream=billing attempt=3';
    const before = await trainModel(routineLog(2000), { config: { neural: { enabled: false } } });
    expect(before.score(fp).anomaly).toBe(true);
    const after = await trainModel(routineLog(2000), { config: { neural: { enabled: false } }, normalLines: [fp] });
    expect(after.score(fp.replace('attempt=3', 'attempt=4')).anomaly).toBe(false);
  });

  it('trains in a worker thread and reports progress', async () => {
    const phases = new Set<string>();
    const model = await trainModelInWorker(routineLog(1000), {
      config: { neural: { epochs: 1, somWidth: 4, somHeight: 4, somEpochs: 2 } },
      onProgress: (p) => phases.add(p.phase),
    });
    const direct = await trainModel(routineLog(1000), { config: { neural: { epochs: 1, somWidth: 4, somHeight: 4, somEpochs: 2 } } });
    expect(phases.has('tokenize')).toBe(true);
    expect(model.info.threshold).toBeCloseTo(direct.info.threshold, 6);
    const line = routineLog(1001)[1000];
    expect(model.score(line).score).toBeCloseTo(direct.score(line).score, 6);
  });

  it('rejects a bad config with the field name', async () => {
    await expect(trainModel(['a'], { config: { thresholdK: -1 } })).rejects.toThrow(/thresholdK/);
    await expect(trainModel([])).rejects.toThrow(/zero lines/);
  });

  it('is deterministic: the same seed gives the same model and scores', async () => {
    const lines = readSample('loghub/Zookeeper_2k.log');
    const cfg = { neural: { epochs: 2, somWidth: 6, somHeight: 6, somEpochs: 3, seed: 7 } };
    const a = await trainModel(lines.slice(0, 1000), { config: cfg });
    const b = await trainModel(lines.slice(0, 1000), { config: cfg });
    expect(b.info.threshold).toBe(a.info.threshold);
    for (const line of lines.slice(1000, 1100)) expect(b.score(line).score).toBe(a.score(line).score);
  });

  it('copes with very long lines, many tokens, non-ASCII text and empty lines', async () => {
    const model = await trainModel(routineLog(500), { config: { neural: { enabled: false } } });
    const long = 'level=error msg="' + 'x1 '.repeat(5000) + '"';
    const r1 = model.score(long);
    expect(Number.isFinite(r1.score)).toBe(true);
    expect(r1.template.length).toBeLessThan(long.length);
    const r2 = model.score('level=error msg="Ошибка подключения к базе данных: таймаут"');
    expect(r2.template).toContain('Ошибка');
    expect(Number.isFinite(r2.score)).toBe(true);
    const r3 = model.score('');
    expect(r3.template).toBe('');
    expect(r3.anomaly).toBe(false);
  });

  it('reports a training failure inside the worker as a rejected promise', async () => {
    await expect(trainModelInWorker([], {})).rejects.toThrow(/zero lines/);
  });
});
