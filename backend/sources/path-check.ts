/**
 * The start-up check of a file source's configured path. The rule: an **error** for what cannot work until
 * someone changes the system or the configuration (the directory is missing or is not a directory, the path is
 * a directory, the file or directory cannot be read by this process); a **warning** for what resolves by itself
 * once the application writes its log (the file does not exist yet, no file matches the pattern yet), since
 * following a file that appears later is what `tail -F` does. Messages name the source and the resolved path.
 */
import { constants, type Stats } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface PathProblem {
  level: 'error' | 'warning';
  message: string;
}

/**
 * Why a path that is neither a file nor a directory cannot be followed, or null for a regular file. A file
 * source reads up to the size stat reports, which is 0 for a pipe or a device, and opening a named pipe waits
 * for a writer in one of libuv's 4 threads: four such sources stopped every disk write of the service
 * (pushes and feedback unanswered).
 */
export function notRegularFile(st: Stats): string | null {
  if (st.isFile()) return null;
  const kind = st.isFIFO() ? 'a named pipe' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a file';
  return `is ${kind}, not a regular file: a file source follows a file by its size (for a stream, use the syslog source or the push API)`;
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

/** Checks the directory of `configured`, then the file (or, with a pattern, that something matches). */
export async function checkFileSourcePath(source: string, configured: string, matcher?: RegExp): Promise<PathProblem | null> {
  const path = resolve(configured);
  const dir = dirname(path);
  const where = `file source ${JSON.stringify(source)}: path ${path}`;
  const error = (why: string): PathProblem => ({ level: 'error', message: `${where}: ${why}` });
  try {
    if (!(await stat(dir)).isDirectory()) return error(`${dir} is not a directory`);
  } catch (err) {
    if (code(err) === 'ENOENT') return error(`directory ${dir} does not exist (create it, or correct the path)`);
    return error(`directory ${dir} cannot be examined (${code(err)})`);
  }
  try {
    await access(dir, constants.R_OK | constants.X_OK);
  } catch (err) {
    return error(`directory ${dir} cannot be listed by this process (${code(err)}; uid ${process.getuid?.() ?? '?'})`);
  }
  if (matcher) {
    const names = await readdir(dir);
    if (!names.some((name) => matcher.test(name))) {
      return { level: 'warning', message: `${where}: no file matches ${basename(path)} yet; files are followed from their start when they appear` };
    }
    return null;
  }
  try {
    const st = await stat(path);
    if (st.isDirectory()) return error('is a directory, not a file (use a pattern such as dir/*.log)');
    const other = notRegularFile(st);
    if (other !== null) return error(other);
  } catch (err) {
    if (code(err) === 'ENOENT') return { level: 'warning', message: `${where}: does not exist yet; it is followed from its start when it appears` };
    return error(`cannot be examined (${code(err)})`);
  }
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    return error(`cannot be read by this process (${code(err)}; uid ${process.getuid?.() ?? '?'})`);
  }
  return null;
}
