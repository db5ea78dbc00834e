// Golden tests over real corpora, as Loki's drain_golden_test.go: the mined templates of each in-repo sample
// are pinned by a hash, with the template count and the grouping accuracy against the ground truth beside it
// (Loghub's, or the generator's for the generated samples).
// A change that alters which lines share a template fails here and must be deliberate:
//   UPDATE_GOLDEN=1 npx jest backend/engine/drain/golden.test.ts   rewrites golden.json
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LOGHUB_DIR, sampleLogPaths } from '../../testdata/paths';
import { groupingAccuracy } from './grouping-accuracy';
import { mineLines } from './mine-lines';

interface Golden {
  templates: number;
  hash: string;
  groupingAccuracy?: number;
}

const GOLDEN_FILE = join(__dirname, 'golden.json');
const update = process.env.UPDATE_GOLDEN === '1';
const golden: Record<string, Golden> = existsSync(GOLDEN_FILE) ? JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) : {};
const fresh: Record<string, Golden> = {};

const readLines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);

describe('template miner golden corpora', () => {
  afterAll(() => {
    if (update) writeFileSync(GOLDEN_FILE, JSON.stringify(fresh, null, 2) + '\n');
  });

  it.each(sampleLogPaths().map((p) => [basename(p), p]))('%s', (name, path) => {
    const lines = readLines(path);
    const { templates } = mineLines(lines);
    const result: Golden = {
      templates: new Set(templates).size,
      hash: createHash('sha256').update(templates.join('\n')).digest('hex').slice(0, 16),
    };
    const events = path.replace(/\.log$/, '.events.txt');
    if (existsSync(events)) {
      result.groupingAccuracy = Number(groupingAccuracy(templates, readLines(events)).toFixed(3));
    }
    fresh[name] = result;
    if (!update) expect(result).toEqual(golden[name]);
  });
});

describe('grouping accuracy over the ten Loghub samples (issue target: mean >= 0.90, none below 0.70)', () => {
  it('meets the target', () => {
    const ga = sampleLogPaths()
      .filter((p) => p.startsWith(LOGHUB_DIR))
      .map((p) => groupingAccuracy(mineLines(readLines(p)).templates, readLines(p.replace(/\.log$/, '.events.txt'))));
    expect(ga).toHaveLength(10);
    expect(Math.min(...ga)).toBeGreaterThanOrEqual(0.7);
    expect(ga.reduce((a, b) => a + b, 0) / ga.length).toBeGreaterThanOrEqual(0.9);
  });
});
