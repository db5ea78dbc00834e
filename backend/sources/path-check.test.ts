/**
 * Start-up checks of file-source paths: errors (missing directory, a directory as the path, a file where the
 * directory should be) name the source and the resolved path and stop the source's start; a file or a match that
 * does not exist yet is a warning and the source waits for it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, promises as fs, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CapacitySink } from '../testing/capacity-sink';
import { removeDir, tempDir } from '../testing/temp-dir';
import { FileGlobSource, globToRegExp } from './file-glob';
import { FileTailSource } from './file-tail';
import { checkFileSourcePath } from './path-check';

let dir: string;
beforeEach(() => {
  dir = tempDir('lad-path-check-');
});
afterEach(() => removeDir(dir));

test('a missing directory is an error naming the source, the resolved path and the directory', async () => {
  const relative = path.relative(process.cwd(), path.join(dir, 'nope', 'app.log'));
  expect(await checkFileSourcePath('app', relative)).toEqual({
    level: 'error',
    message: `file source "app": path ${path.join(dir, 'nope', 'app.log')}: directory ${path.join(dir, 'nope')} does not exist (create it, or correct the path)`,
  });
});

test('a directory given as the file, or a file given as the directory, is an error', async () => {
  mkdirSync(path.join(dir, 'logs'));
  writeFileSync(path.join(dir, 'plain'), '');
  expect(await checkFileSourcePath('app', path.join(dir, 'logs'))).toMatchObject({ level: 'error', message: expect.stringMatching(/is a directory, not a file/) });
  expect(await checkFileSourcePath('app', path.join(dir, 'plain', 'x.log'))).toMatchObject({ level: 'error', message: expect.stringMatching(/plain is not a directory/) });
});

test('a file or a pattern match that does not exist yet is a warning; an existing readable file is fine', async () => {
  expect(await checkFileSourcePath('app', path.join(dir, 'later.log'))).toMatchObject({ level: 'warning', message: expect.stringMatching(/does not exist yet/) });
  expect(await checkFileSourcePath('app', path.join(dir, '*.log'), globToRegExp('*.log'))).toMatchObject({ level: 'warning', message: expect.stringMatching(/no file matches \*\.log yet/) });
  writeFileSync(path.join(dir, 'a.log'), 'x\n');
  expect(await checkFileSourcePath('app', path.join(dir, 'a.log'))).toBeNull();
  expect(await checkFileSourcePath('app', path.join(dir, '*.log'), globToRegExp('*.log'))).toBeNull();
});

test('file and glob sources refuse to start on an error and show it in their status', async () => {
  const missing = path.join(dir, 'nope', 'app.log');
  const tail = new FileTailSource({ type: 'file', name: 'app', path: missing, positions: false });
  await expect(tail.start(new CapacitySink())).rejects.toThrow(/file source "app": path .*nope\/app\.log: directory .* does not exist/);
  expect(tail.status()).toMatchObject({ state: 'error', lastError: expect.stringMatching(/does not exist/) });
  const glob = new FileGlobSource({ type: 'file', name: 'many', path: path.join(dir, 'nope', '*.log'), positions: false });
  await expect(glob.start(new CapacitySink())).rejects.toThrow(/file source "many"/);
  expect(glob.status()).toMatchObject({ state: 'error', lastError: expect.stringMatching(/does not exist/) });
});

test('a named pipe or a device is an error, never opened: opening a pipe waits for a writer in a libuv thread', async () => {
  const fifo = path.join(dir, 'pipe.log');
  execFileSync('mkfifo', [fifo]);
  expect(await checkFileSourcePath('app', fifo)).toMatchObject({ level: 'error', message: expect.stringMatching(/pipe\.log: is a named pipe, not a regular file/) });
  expect(await checkFileSourcePath('app', '/dev/null')).toMatchObject({ level: 'error', message: expect.stringMatching(/is a character device/) });
  const tail = new FileTailSource({ type: 'file', name: 'app', path: fifo, positions: false });
  await expect(tail.start(new CapacitySink())).rejects.toThrow(/is a named pipe/);
});

test('pipes matched by a pattern are reported, not opened: disk writes of the service go on', async () => {
  // four pipes would take all four of libuv's threads, each waiting in open() for a writer
  const pipes = [1, 2, 3, 4].map((i) => path.join(dir, `p${i}.log`));
  for (const p of pipes) execFileSync('mkfifo', [p]);
  writeFileSync(path.join(dir, 'real.log'), 'hello\n');
  const glob = new FileGlobSource({ type: 'file', name: 'many', path: path.join(dir, '*.log'), positions: false, startAt: 'beginning', pollIntervalMs: 20, multiline: false });
  const sink = new CapacitySink();
  try {
    await glob.start(sink);
    await new Promise((r) => setTimeout(r, 200));
    const write = fs.writeFile(path.join(dir, 'other.txt'), 'x').then(() => 'written');
    expect(await Promise.race([write, new Promise((r) => setTimeout(() => r('blocked'), 2000))])).toBe('written');
    expect(sink.entries.map((e) => e.line)).toEqual(['hello']);
  } finally {
    // without the check, free the threads waiting in open(): a writer that does not wait (no thread needed)
    for (const p of pipes) {
      try {
        closeSync(openSync(p, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting
      }
    }
    await glob.stop();
  }
});
