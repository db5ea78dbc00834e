/** FileGlobSource: a `type: file` source whose path has wildcards in the file name, on real files. */
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileGlobSource, globToRegExp } from '../file-glob';
import type { FileTailConfig } from '../file-tail';
import { createSource, parseSourceConfig, SourceConfigError } from '../registry';
import { RecordingSink } from './recording-sink';
import { removeDir, tempDir } from '../../testing/temp-dir';
import { waitUntil } from '../../testing/wait';

let dir: string;
let sink: RecordingSink;
let source: FileGlobSource | null = null;

beforeEach(() => {
  dir = tempDir('lad-glob-');
  sink = new RecordingSink();
});
afterEach(async () => {
  await source?.stop();
  source = null;
  removeDir(dir);
});

async function glob(options: Partial<FileTailConfig> = {}): Promise<FileGlobSource> {
  source = new FileGlobSource({
    type: 'file',
    name: 'apps',
    path: join(dir, '*.log'),
    pollIntervalMs: 20,
    multiline: false,
    ...options,
  });
  await source.start(sink);
  return source;
}

it.each([
  ['*.log', ['app.log', '.log', 'x.y.log'], ['app.log.1', 'app.txt', 'a/b.log']],
  ['app-?.log', ['app-1.log', 'app-a.log'], ['app-10.log', 'app-.log']],
  ['app-[0-9].log', ['app-3.log'], ['app-x.log']],
  ['app-[!0-9].log', ['app-x.log'], ['app-3.log']],
  ['a+b(1).log', ['a+b(1).log'], ['aab1.log']],
])('globToRegExp(%s)', (pattern, matches, misses) => {
  const re = globToRegExp(pattern);
  matches.forEach((name) => expect(re.test(name)).toBe(true));
  misses.forEach((name) => expect(re.test(name)).toBe(false));
});

it('follows every matching file (not the others), each line labelled with its file, and files that appear later', async () => {
  writeFileSync(join(dir, 'a.log'), 'a1\n');
  writeFileSync(join(dir, 'b.log'), 'b1\n');
  writeFileSync(join(dir, 'c.txt'), 'not matched\n');
  await glob({ startAt: 'beginning' });
  await sink.waitForEntries(2);
  writeFileSync(join(dir, 'd.log'), 'd1\nd2\n'); // appears later: read from its start
  appendFileSync(join(dir, 'a.log'), 'a2\n');
  await sink.waitForEntries(5);
  const byFile = (name: string) => sink.entries.filter((e) => e.labels.filename === join(dir, name)).map((e) => e.line);
  expect(byFile('a.log')).toEqual(['a1', 'a2']);
  expect(byFile('b.log')).toEqual(['b1']);
  expect(byFile('d.log')).toEqual(['d1', 'd2']);
  expect(sink.lines()).not.toContain('not matched');
  expect(new Set(sink.entries.map((e) => e.source))).toEqual(new Set(['apps']));
  await waitUntil(() => source!.status().linesTotal === 5, 'linesTotal 5');
  expect(source!.status()).toMatchObject({ state: 'connected', lastError: null });
});

it('starts at the end of files that exist at start-up by default', async () => {
  writeFileSync(join(dir, 'a.log'), 'old\n');
  await glob();
  appendFileSync(join(dir, 'a.log'), 'new\n');
  await sink.waitForEntries(1);
  expect(sink.lines()).toEqual(['new']);
});

it('waits while nothing matches, and says so', async () => {
  await glob();
  expect(source!.status()).toMatchObject({
    state: 'error',
    lastError: expect.stringMatching(/waiting for files matching/),
  });
  writeFileSync(join(dir, 'late.log'), 'hello\n');
  await sink.waitForEntries(1);
  expect(sink.lines()).toEqual(['hello']);
});

it('follows at most maxFiles files and reports the rest', async () => {
  for (const name of ['1.log', '2.log', '3.log']) {
    writeFileSync(join(dir, name), `${name}\n`);
  }
  await glob({ startAt: 'beginning', maxFiles: 2 });
  await sink.waitForEntries(2);
  await new Promise((r) => setTimeout(r, 100));
  expect(sink.lines().sort()).toEqual(['1.log', '2.log']);
  expect(source!.status().lastError).toMatch(/maxFiles \(2\)/);
});

it('keeps a read position per file across restarts', async () => {
  const dataDir = join(dir, 'data');
  writeFileSync(join(dir, 'a.log'), '');
  writeFileSync(join(dir, 'b.log'), '');
  await glob({ dataDir });
  appendFileSync(join(dir, 'a.log'), 'a1\n');
  appendFileSync(join(dir, 'b.log'), 'b1\n');
  await sink.waitForEntries(2);
  await source!.stop();
  appendFileSync(join(dir, 'a.log'), 'a2 while stopped\n');
  appendFileSync(join(dir, 'b.log'), 'b2 while stopped\n');
  sink = new RecordingSink();
  await glob({ dataDir });
  await sink.waitForEntries(2);
  expect(sink.lines().sort()).toEqual(['a2 while stopped', 'b2 while stopped']);
  // one position file per followed file (a save may be in flight: ignore its temp file)
  expect(readdirSync(join(dataDir, 'checkpoints')).filter((f) => f.endsWith('.json'))).toHaveLength(2);
});

it('is what the registry builds for a pattern; wildcards in directories are refused at config time', () => {
  expect(createSource({ type: 'file', name: 'g', path: join(dir, 'app-*.log') })).toBeInstanceOf(FileGlobSource);
  expect(createSource({ type: 'file', name: 'g', path: join(dir, 'app.log') })).not.toBeInstanceOf(FileGlobSource);
  expect(() => parseSourceConfig({ type: 'file', name: 'g', path: '/var/log/*/app.log' })).toThrow(SourceConfigError);
  expect(() => parseSourceConfig({ type: 'file', name: 'g', path: '/var/log/*/app.log' })).toThrow(
    /path: wildcards are allowed in the file name only/
  );
});
