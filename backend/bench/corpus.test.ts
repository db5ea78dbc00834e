import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { loadSamples, writeCorpus } from './corpus';
import { TESTDATA_DIR } from '../testdata/paths';

describe('benchmark corpus generator', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lad-corpus-'));
    mkdirSync(join(dir, 'data/loghub'), { recursive: true });
    mkdirSync(join(dir, 'data/modern'), { recursive: true });
    // A labelled file in Loghub's style (first field "-" = normal) and an unlabelled one.
    writeFileSync(
      join(dir, 'data/loghub/Labelled_2k.log'),
      [
        '- 1117838570 node R02-M1 RAS KERNEL INFO cache ok',
        'KERNDTLB 1117838571 node R02-M1 RAS KERNEL FATAL tlb error',
        '- 1117838572 node R03-M1 RAS KERNEL INFO cache ok',
        '',
      ].join('\n')
    );
    writeFileSync(
      join(dir, 'data/modern/app.log'),
      'ts=2024-05-02T12:17:22Z level=info traceID=00545d5c1acae94e msg="served 200 in 12ms"\n'
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('splits labelled files into normal lines and alerts, without the label field', () => {
    const samples = loadSamples(join(dir, 'data'));
    expect(samples.map((s) => s.name)).toEqual(['loghub/Labelled_2k.log', 'modern/app.log']);
    expect(samples[0].lines).toEqual([
      '1117838570 node R02-M1 RAS KERNEL INFO cache ok',
      '1117838572 node R03-M1 RAS KERNEL INFO cache ok',
    ]);
    expect(samples[0].alerts).toEqual(['1117838571 node R02-M1 RAS KERNEL FATAL tlb error']);
    expect(samples[1].alerts).toEqual([]);
    expect(samples[0].ordered).toHaveLength(3);
    expect(samples[0].alertAt).toEqual([false, true, false]);
    expect(samples[1].alertAt).toEqual([false]);
  });

  it('writes exactly the requested number of lines, the same bytes for the same seed', () => {
    const samples = loadSamples(join(dir, 'data'));
    const a = writeCorpus(join(dir, 'a.log'), samples, { lines: 20_000, seed: 3, rareEvery: 500 });
    const b = writeCorpus(join(dir, 'b.log'), samples, { lines: 20_000, seed: 3, rareEvery: 500 });
    writeCorpus(join(dir, 'c.log'), samples, { lines: 20_000, seed: 4, rareEvery: 500 });
    const text = readFileSync(join(dir, 'a.log'), 'utf8');
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(20_000);
    expect(a.lines).toBe(20_000);
    expect(a.bytes).toBe(Buffer.byteLength(text));
    expect(readFileSync(join(dir, 'b.log')).equals(Buffer.from(text))).toBe(true);
    expect(b.rareLines).toEqual(a.rareLines);
    expect(readFileSync(join(dir, 'c.log')).equals(Buffer.from(text))).toBe(false);
    expect(a.perSource['loghub/Labelled_2k.log'] + a.perSource['modern/app.log'] + a.rareLines.length).toBe(20_000);
  });

  it('keeps the masked templates of the samples while varying numbers and ids, and injects rare lines where it says', () => {
    const samples = loadSamples(join(dir, 'data'));
    const result = writeCorpus(join(dir, 'd.log'), samples, { lines: 10_000, seed: 9, rareEvery: 1000 });
    const lines = readFileSync(join(dir, 'd.log'), 'utf8').split('\n');
    const mask = (l: string) => l.replace(/\b(?=[0-9a-f]*[0-9])[0-9a-f]{8,}\b|[0-9]+/gi, '#');
    const normalTemplates = new Set(samples.flatMap((s) => s.lines).map(mask));
    const rare = new Set(result.rareLines);
    expect(rare.size).toBeGreaterThan(3);
    expect(rare.size).toBeLessThan(30);
    const raw = new Set<string>();
    for (let n = 1; n <= 10_000; n++) {
      const line = lines[n - 1];
      if (rare.has(n)) {
        expect(normalTemplates.has(mask(line))).toBe(false);
      } else {
        expect(normalTemplates.has(mask(line))).toBe(true);
        raw.add(line);
      }
    }
    // Three sample lines become hundreds of distinct raw lines.
    expect(raw.size).toBeGreaterThan(300);
    expect(lines.some((l) => l.includes('tlb error'))).toBe(true);
  });

  it('rejects a bad size and an empty data directory', () => {
    const samples = loadSamples(join(dir, 'data'));
    expect(() => writeCorpus(join(dir, 'e.log'), samples, { lines: -1 })).toThrow(/whole number/);
    expect(() => loadSamples(join(dir, 'nothing-here'))).toThrow(/no sample logs/);
  });

  it('builds from the in-repository Loghub and generated samples (backend/testdata)', () => {
    const samples = loadSamples(TESTDATA_DIR);
    const perFolder: Record<string, number> = {};
    for (const s of samples) perFolder[s.name.split('/')[0]] = (perFolder[s.name.split('/')[0]] ?? 0) + 1;
    // every sample log of both folders (a generated format added later counts without editing this test)
    const logsIn = (folder: string): number => readdirSync(join(TESTDATA_DIR, folder)).filter((f) => f.endsWith('.log')).length;
    expect(logsIn('generated')).toBeGreaterThanOrEqual(7);
    expect(perFolder).toEqual({ loghub: 10, generated: logsIn('generated') });
    const labelled = samples.filter((s) => s.alerts.length > 0);
    expect(labelled.length).toBeGreaterThanOrEqual(1);
    const result = writeCorpus(join(dir, 'testdata.log'), samples, { lines: 5000, seed: 1 });
    expect(readFileSync(join(dir, 'testdata.log'), 'utf8').split('\n')).toHaveLength(5001);
    expect(Object.values(result.perSource).every((n) => n > 0)).toBe(true);
  });
});
