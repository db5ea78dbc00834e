/**
 * Start-up checks of file-source paths: errors (missing directory, a directory as the path, a file where the
 * directory should be) name the source and the resolved path and stop the source's start; a file or a match that
 * does not exist yet is a warning and the source waits for it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
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
