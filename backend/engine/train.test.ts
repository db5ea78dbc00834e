import { splitLines } from '../cli/input';
import { trainModelInWorker, trainingsInWorkers, workerScriptPath } from './in-worker';
import type { LadModel } from './model';
import { TrainingSet, trainModelSync } from './train';

const NO_NEURAL = { neural: { enabled: false } };

/** Routine lines of a few templates, plus the odd line in other scripts, a CRLF and an empty line. */
function mixedLog(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 97 === 0) out.push(`level=warn msg="Ошибка ${i}: таймаут" attempt=${i % 5}`);
    else if (i % 301 === 0) out.push('');
    else if (i % 3 === 0) out.push(`2024-05-02T12:00:${String(i % 60).padStart(2, '0')}Z level=info msg="request done" id=${i} took=${i % 90}ms`);
    else out.push(`level=debug msg="cache refreshed" entries=${i * 3} shard=${i % 7}`);
  }
  return out;
}

/** What a model learned, without the creation time. */
function learned(m: LadModel): unknown {
  return { rarity: m.rarity.toJSON(), threshold: m.info.threshold, stats: m.info.stats, trainedLines: m.info.trainedLines };
}

describe('TrainingSet: training from a stream', () => {
  it('learns the same model from byte chunks, cut anywhere between lines, as from the lines as strings', () => {
    const lines = mixedLog(3000);
    const text = lines.map((l, i) => (i % 50 === 7 ? `${l}\r` : l)).join('\n') + '\n';
    const fromStrings = trainModelSync(splitLines(text), { config: NO_NEURAL, normalLines: [lines[1]] });
    const set = new TrainingSet({ config: NO_NEURAL, normalLines: [lines[1]] });
    const bytes = Buffer.from(text, 'utf8');
    // chunks end at line breaks (streamChunks' contract): after lines 1, 2, 500 and 2999, and the last one
    // without the final line break
    const breaks: number[] = [];
    for (let p = bytes.indexOf(10); p >= 0; p = bytes.indexOf(10, p + 1)) breaks.push(p + 1);
    let start = 0;
    for (const after of [1, 2, 500, 2999]) {
      set.addChunk(bytes.subarray(start, breaks[after - 1]));
      start = breaks[after - 1];
    }
    set.addChunk(bytes.subarray(start, bytes.length - 1));
    expect(set.lineCount).toBe(lines.length);
    expect(learned(set.finish())).toEqual(learned(fromStrings));
  });

  it('keeps at most maxTrainTemplates templates and maxVocabulary words, dropping the rarest', () => {
    const lines: string[] = [];
    const letters = (i: number): string => i.toString(26).replace(/[0-9]/g, (d) => 'qrstuvwxyz'[Number(d)]);
    for (let i = 0; i < 4000; i++) {
      lines.push(i % 2 === 0 ? `level=info msg="request done" took=${i}ms` : `level=info msg="session ${letters(i)} opened"`);
    }
    const model = trainModelSync(lines, { config: { ...NO_NEURAL, maxTrainTemplates: 100, maxVocabulary: 300, maxStatTemplates: 40 } });
    const s = model.info.stats;
    expect(s.templates).toBeLessThanOrEqual(100);
    expect(s.templatesDropped).toBeGreaterThan(1800);
    expect(s.vocabulary).toBeLessThanOrEqual(300);
    expect(s.wordsForgotten).toBeGreaterThan(0);
    // every line still counts, and the frequent template keeps its exact count
    expect(model.rarity.lines).toBe(4000);
    expect(model.rarity.templates.get('level=info msg="request done" took=<DUR>')).toBe(2000);
    expect(Number.isFinite(model.info.threshold)).toBe(true);
    expect(model.score('level=info msg="request done" took=5ms').anomaly).toBe(false);
  });

  it('refuses to train on zero lines and to finish twice', () => {
    expect(() => new TrainingSet({ config: NO_NEURAL }).finish()).toThrow(/zero lines/);
    const set = new TrainingSet({ config: NO_NEURAL });
    set.add('a line');
    set.finish();
    expect(() => set.finish()).toThrow(/twice/);
  });
});

describe('the training worker', () => {
  it('runs the TypeScript source under jest, not a compiled copy that may be stale', async () => {
    expect(workerScriptPath()).toMatch(/train-worker\.ts$/);
    const model = await trainModelInWorker(mixedLog(500), { config: { ...NO_NEURAL, maxTrainTemplates: 2 } });
    // figures only this version of train.ts reports
    expect(model.info.stats.templatesDropped).toBeGreaterThan(0);
  });

  it('runs at most one training a core at once, process-wide; the others wait their turn and all finish', async () => {
    const { slots } = trainingsInWorkers();
    const n = slots + 3;
    let most = 0;
    let mostWaiting = 0;
    const sampler = setInterval(() => {
      const now = trainingsInWorkers();
      most = Math.max(most, now.running);
      mostWaiting = Math.max(mostWaiting, now.waiting);
    }, 1);
    try {
      const started = Array.from({ length: n }, () => trainModelInWorker(mixedLog(300), { config: NO_NEURAL }));
      const models = await Promise.all(started);
      expect(models).toHaveLength(n);
    } finally {
      clearInterval(sampler);
    }
    expect(most).toBe(slots);
    expect(mostWaiting).toBeGreaterThanOrEqual(3);
    expect(trainingsInWorkers()).toMatchObject({ running: 0, waiting: 0 });
  });
});
