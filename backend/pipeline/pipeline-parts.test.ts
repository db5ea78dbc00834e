import { mkdtempSync, mkdirSync, readdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DriftWatch } from './drift-watch';
import type { Model } from './engine-port';
import { DirectoryModelStore, modelDir } from './model-directory';
import type { LogEntry } from '../sources/source';
import { charsOf, LineQueue } from './line-queue';
import { RecentLines } from './recent-lines';
import { RETRAIN_BACKOFF_MS, RetrainPolicy } from './retrain-policy';
import { Throughput } from './throughput';

describe('RecentLines', () => {
  it('holds enough to retrain at minLines, or when long lines fill its character bound first (at least 10)', () => {
    const short = new RecentLines(1000, 10_000);
    for (let i = 0; i < 199; i++) short.push('x'.repeat(20));
    expect(short.holdsEnoughToRetrain(200)).toBe(false); // 199 short lines: neither bound reached
    short.push('x'.repeat(20));
    expect(short.holdsEnoughToRetrain(200)).toBe(true);
    const long = new RecentLines(1000, 10_000);
    for (let i = 0; i < 9; i++) long.push('y'.repeat(1000));
    expect(long.holdsEnoughToRetrain(200)).toBe(false); // full by characters, but 9 lines
    long.push('y'.repeat(1000)); // 10 lines of 1,000: another would pass 10,000
    expect(long.holdsEnoughToRetrain(200)).toBe(true);
  });

  it('keeps the newest lines, oldest first, and never more than its capacity', () => {
    const r = new RecentLines(3);
    expect(r.lines()).toEqual([]);
    for (const l of ['a', 'b']) r.push(l);
    expect(r.lines()).toEqual(['a', 'b']);
    for (const l of ['c', 'd', 'e']) r.push(l);
    expect(r.size).toBe(3);
    expect(r.lines()).toEqual(['c', 'd', 'e']);
  });

  it('starts over after clear', () => {
    const r = new RecentLines(2);
    r.push('a', 1);
    r.clear();
    expect(r.size).toBe(0);
    r.push('b', 2);
    expect(r.lines()).toEqual(['b']);
    expect([...r.times()]).toEqual([2]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RecentLines(0)).toThrow(/positive integer/);
  });

  it('keeps at most maxChars characters: the oldest lines go first, the newest always stays', () => {
    const r = new RecentLines(100, 10);
    for (const [l, t] of [['aaaa', 1], ['bbbb', 2], ['cc', 3]] as const) r.push(l, t);
    expect(r.lines()).toEqual(['aaaa', 'bbbb', 'cc']);
    expect(r.totalChars).toBe(10);
    r.push('d', 4); // 11 characters: 'aaaa' goes
    expect(r.lines()).toEqual(['bbbb', 'cc', 'd']);
    expect([...r.times()]).toEqual([2, 3, 4]);
    expect(r.totalChars).toBe(7);
    r.push('x'.repeat(25), 5); // longer than the bound alone: kept alone
    expect(r.lines()).toEqual(['x'.repeat(25)]);
    expect(r.totalChars).toBe(25);
    r.push('ee', 6);
    expect(r.lines()).toEqual(['ee']);
    expect(r.size).toBe(1);
  });

  it('counts characters right across wrap-around, eviction by count and clear', () => {
    const r = new RecentLines(3, 9);
    let pushed: string[] = [];
    for (let i = 0; i < 200; i++) {
      const line = 'y'.repeat(1 + ((i * 7) % 6));
      r.push(line, i);
      pushed.push(line);
      // what the ring holds: the newest lines within both bounds
      const want: string[] = [];
      let chars = 0;
      for (let k = pushed.length - 1; k >= 0 && want.length < 3; k--) {
        if (want.length > 0 && chars + pushed[k].length > 9) break;
        want.unshift(pushed[k]);
        chars += pushed[k].length;
      }
      expect(r.lines()).toEqual(want);
      expect(r.totalChars).toBe(chars);
      if (i === 100) {
        r.clear();
        pushed = [];
        expect(r.totalChars).toBe(0);
      }
    }
  });

  it('finds the newest kept line with a given text and the value pushed with it', () => {
    const r = new RecentLines(4, 6);
    r.push('ab', 1);
    r.push('cd', 2);
    r.push('ab', 3);
    expect(r.newestArrivalOf('ab')).toBe(3);
    expect(r.newestArrivalOf('cd')).toBe(2);
    r.push('efgh', 4); // 'ab'@1 and 'cd' go
    expect(r.newestArrivalOf('cd')).toBeNull();
    expect(r.newestArrivalOf('ab')).toBe(3);
    r.push('ijkl', 5); // both go
    expect(r.newestArrivalOf('ab')).toBeNull();
    expect(r.newestArrivalOf('efgh')).toBeNull();
    expect(r.newestArrivalOf('ijkl')).toBe(5);
  });
});

describe('LineQueue', () => {
  const entry = (line: string): LogEntry => ({ source: 's', line, timestampMs: 0, labels: {} });
  it('counts the characters of the lines it holds through push, drain and unshift', () => {
    const q = new LineQueue();
    q.push(['aaa', 'bb'].map(entry));
    q.push(['c', 'dddd'].map(entry));
    expect([q.size, q.chars]).toEqual([4, 10]);
    const seen: string[] = [];
    q.drain(3, (e) => (seen.push(e.line), true));
    expect(seen).toEqual(['aaa', 'bb', 'c']);
    expect([q.size, q.chars]).toEqual([1, 4]);
    q.unshift(['eeeee'].map(entry));
    expect([q.size, q.chars]).toEqual([2, 9]);
    q.drain(10, () => true);
    expect([q.size, q.chars]).toEqual([0, 0]);
    expect(charsOf(['ab', 'c'].map(entry))).toBe(3);
  });
});

describe('DriftWatch', () => {
  it('says nothing until its window is full, then compares the flagged share with the ratio', () => {
    const d = new DriftWatch(4, 0.5);
    d.observe(true);
    d.observe(true);
    d.observe(true);
    expect(d.share).toBeNull();
    expect(d.drifted).toBe(false);
    d.observe(false);
    expect(d.share).toBe(0.75);
    expect(d.drifted).toBe(true);
    // the oldest flags leave the window
    d.observe(false);
    d.observe(false);
    expect(d.share).toBe(0.25);
    expect(d.drifted).toBe(false);
  });

  it('starts over after reset, and ratio 0 turns it off', () => {
    const d = new DriftWatch(2, 0.1);
    d.observe(true);
    d.observe(true);
    expect(d.drifted).toBe(true);
    d.reset();
    expect(d.share).toBeNull();
    const off = new DriftWatch(2, 0);
    off.observe(true);
    off.observe(true);
    expect(off.drifted).toBe(false);
  });
});

describe('Throughput', () => {
  it('averages the lines of the last ticks', () => {
    const t = new Throughput(2);
    t.tick(100);
    t.tick(300);
    expect(t.linesPerSecond).toBe(150);
    t.tick(300);
    expect(t.linesPerSecond).toBe(100);
  });
});

/** A stand-in engine that writes and reads one JSON file: the store's job is the directories, not the model. */
const fileEngine = {
  async saveModel(model: Model, dir: string): Promise<void> {
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ createdAt: model.info.createdAt }));
  },
  async loadModel(dir: string): Promise<Model> {
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { createdAt: string };
    return { info: { createdAt: json.createdAt } } as unknown as Model;
  },
};
const modelAt = (createdAt: string): Model => ({ info: { createdAt } }) as unknown as Model;

describe('DirectoryModelStore', () => {
  it('saves by swapping directories and loads the last model; none saved is null', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lad-models-'));
    const store = new DirectoryModelStore(dataDir, fileEngine);
    expect(await store.load('app/api')).toBeNull();
    await store.save('app/api', modelAt('one'));
    await store.save('app/api', modelAt('two'));
    expect((await store.load('app/api'))?.info.createdAt).toBe('two');
    expect(readdirSync(path.join(dataDir, 'models'))).toEqual([encodeURIComponent('app/api')]);
  });

  it('loads .old when a crash hit between the two renames', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lad-models-'));
    const store = new DirectoryModelStore(dataDir, fileEngine);
    await store.save('s', modelAt('kept'));
    const dir = modelDir(dataDir, 's');
    const { renameSync } = await import('node:fs');
    renameSync(dir, `${dir}.old`);
    expect((await store.load('s'))?.info.createdAt).toBe('kept');
  });

  it('moves an unusable model aside, reports it, and loads nothing', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lad-models-'));
    const told: string[] = [];
    const store = new DirectoryModelStore(dataDir, fileEngine, undefined, (message, _dir, keptAs) => told.push(`${message} -> ${keptAs}`));
    const dir = modelDir(dataDir, 's');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.json'), '{not json');
    expect(await store.load('s')).toBeNull();
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/JSON/);
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(path.join(dataDir, 'models')).some((f) => f.startsWith('s.corrupt-'))).toBe(true);
  });

  it('saves and loads its companion files inside the model directory', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lad-models-'));
    const loaded: string[] = [];
    const companion = {
      async save(_m: Model, dir: string): Promise<void> {
        writeFileSync(path.join(dir, 'rate.json'), '"baseline"');
      },
      async load(_m: Model, dir: string): Promise<void> {
        loaded.push(readFileSync(path.join(dir, 'rate.json'), 'utf8'));
      },
    };
    const store = new DirectoryModelStore(dataDir, fileEngine, companion);
    await store.save('s', modelAt('x'));
    await store.load('s');
    expect(loaded).toEqual(['"baseline"']);
  });
});

describe('RetrainPolicy', () => {
  const policy = (): RetrainPolicy => new RetrainPolicy({ retrainIntervalSeconds: 3600, minRetrainGapSeconds: 300 });

  it('retrains on drift only after the minimum gap, and periodically once the model is old enough', () => {
    const p = policy();
    expect(p.due(0, 10, true)).toBeNull();
    expect(p.due(0, 300, true)).toBe('drift');
    expect(p.due(0, 3599, false)).toBeNull();
    expect(p.due(0, 3600, false)).toBe('periodic');
    expect(p.due(0, Infinity, false)).toBe('periodic');
  });

  it('waits out the back-off after a failed training, then allows again', () => {
    const p = policy();
    p.failed(1000);
    expect(p.allowed(1000 + RETRAIN_BACKOFF_MS - 1)).toBe(false);
    expect(p.due(1000 + RETRAIN_BACKOFF_MS - 1, 99_999, true)).toBeNull();
    expect(p.allowed(1000 + RETRAIN_BACKOFF_MS)).toBe(true);
    expect(p.due(1000 + RETRAIN_BACKOFF_MS, 99_999, true)).toBe('drift');
  });

  it('never retrains periodically with an interval of 0', () => {
    const p = new RetrainPolicy({ retrainIntervalSeconds: 0, minRetrainGapSeconds: 0 });
    expect(p.due(0, 1e9, false)).toBeNull();
  });
});
