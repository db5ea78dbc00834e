/**
 * Messages that say what is wrong and how to fix it: an unusable data dir (was `ENOENT ... mkdir`, or a hang
 * under /proc), a fact-store with a bad entry (was "Cannot read properties of null", no file named), and a
 * corrupt saved model (was overwritten at the next training, no copy kept).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { modelDir } from '../backend/pipeline/source-pipeline';
import { BUILT_MAIN } from '../backend/testing/built-server';
import { FactStore } from '../backend/store/fact-store';
import { normalLines, pushLines, removeDir, startTestService, tempDir, waitFor, waitScored } from './service-helpers';

/** Runs the built server until it exits (5 s at most) and returns its exit code and output. */
async function startUp(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [BUILT_MAIN], { env: { ...process.env, LAD_PORT: '0', LAD_DEMO: 'false', ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  return { code, out };
}

let dir: string;
beforeEach(() => {
  dir = tempDir('lad-messages-');
});
afterEach(() => removeDir(dir));

describe('an unusable data dir stops start-up saying which path, why and how to fix it', () => {
  test('a parent that is a file', async () => {
    writeFileSync(path.join(dir, 'file'), '');
    const { code, out } = await startUp({ LAD_DATA_DIR: path.join(dir, 'file', 'data') });
    expect(code).toBe(1);
    expect(out).toContain(`data dir ${path.join(dir, 'file', 'data')} cannot be created: ${path.join(dir, 'file')} exists and is not a directory`);
    expect(out).toMatch(/Set LAD_DATA_DIR \(dataDir\) to a writable directory/);
  });

  (process.platform === 'linux' ? test : test.skip)('a virtual file system (/proc): an answer, not a hang', async () => {
    const { code, out } = await startUp({ LAD_DATA_DIR: '/proc/lad-data-dir-test' });
    expect(code).toBe(1); // SIGKILL after 5 s would give null
    expect(out).toMatch(/data dir \/proc\/lad-data-dir-test cannot be created: mkdir \/proc\/lad-data-dir-test: .*\(ENOENT\)\. Set LAD_DATA_DIR/);
  });

  test('a read-only file system (a read-only tmpfs where mount is allowed)', async () => {
    const ro = path.join(dir, 'ro');
    mkdirSync(ro);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]).status !== 0) {
      console.warn('mount not permitted here: the read-only case is covered where it is');
      return;
    }
    try {
      const inside = await startUp({ LAD_DATA_DIR: path.join(ro, 'data') });
      expect(inside.code).toBe(1);
      expect(inside.out).toContain(`mkdir ${path.join(ro, 'data')}: the file system is read-only (EROFS)`);
      const itself = await startUp({ LAD_DATA_DIR: ro });
      expect(itself.out).toContain(`data dir ${ro} is not writable: the file system is read-only (EROFS)`);
    } finally {
      spawnSync('umount', [ro]);
    }
  });
});

describe('a fact-store with a bad entry names the file and the entry', () => {
  const good = { id: 'a', time: '2026-01-01T00:00:00Z', source: 'web', message: 'm', template: 'm', score: 1, kind: 'confirmed', comment: null, user: null };
  const cases: Array<[string, unknown, RegExp]> = [
    ['a null entry', { version: 1, feedback: [good, null] }, /is invalid at feedback\[1\]: .*object/],
    ['an unknown kind', { version: 1, feedback: [{ ...good, kind: 'maybe' }] }, /is invalid at feedback\[0\]\.kind/],
    ['no feedback array', { version: 1 }, /is invalid at feedback: /],
  ];
  test.each(cases)('%s', async (_name, data, message) => {
    const file = path.join(dir, 'fact-store.json');
    writeFileSync(file, JSON.stringify(data));
    await expect(FactStore.open(dir)).rejects.toThrow(new RegExp(`fact-store ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} ${message.source}`));
    expect(readFileSync(file, 'utf8')).toBe(JSON.stringify(data)); // left as it was
  });

  test('the built server prints it and exits non-zero', async () => {
    writeFileSync(path.join(dir, 'fact-store.json'), JSON.stringify({ version: 1, feedback: [null] }));
    const { code, out } = await startUp({ LAD_DATA_DIR: dir });
    expect(code).toBe(1);
    expect(out).toContain(`fact-store ${path.join(dir, 'fact-store.json')} is invalid at feedback[0]`);
    expect(out).not.toContain('Cannot read properties');
  });

  test('fields this version does not know are kept', async () => {
    writeFileSync(path.join(dir, 'fact-store.json'), JSON.stringify({ version: 1, feedback: [{ ...good, future: 1 }] }));
    const store = await FactStore.open(dir);
    expect(store.list({})).toEqual([expect.objectContaining({ id: 'a', future: 1 })]);
  });
});

test('a corrupt saved model is kept aside as <dir>.corrupt-<time>, logged, and retraining does not touch it', async () => {
  const first = await startTestService(dir);
  await pushLines(first.url, 'web', normalLines.slice(0, 300));
  await waitScored(first, 'web', 300);
  await first.close();
  const model = modelDir(dir, 'web');
  const files = readdirSync(model);
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) writeFileSync(path.join(model, f), 'garbage');

  const second = await startTestService(dir);
  try {
    // A push source's pipeline (and its model load) starts with its first line.
    await pushLines(second.url, 'web', normalLines.slice(300, 301));
    const lastError = await waitFor(() => second.pipelines.get('web')?.stats().lastError ?? undefined, 'the load failure');
    expect(lastError).toMatch(/saved model at .* unusable: .*; kept as .*\.corrupt-/);
    const kept = readdirSync(path.dirname(model)).filter((n) => n.startsWith('web.corrupt-'));
    expect(kept).toHaveLength(1);
    await pushLines(second.url, 'web', normalLines.slice(301, 600));
    await waitScored(second, 'web', 300);
    await waitFor(() => (existsSync(path.join(model, files[0])) ? true : undefined), 'the retrained model on disk');
    const keptDir = path.join(path.dirname(model), kept[0]);
    expect(readdirSync(keptDir).sort()).toEqual([...files].sort());
    expect(readFileSync(path.join(keptDir, files[0]), 'utf8')).toBe('garbage');
  } finally {
    await second.close();
  }
}, 60_000);
