import { promises as fs } from 'node:fs';
import path from 'node:path';

/** The data dir cannot be used: the message says which path, why, and how to fix it. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

const WHY: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a parent is a file, not a directory',
  ENOENT: 'the parent cannot hold new directories (a virtual or read-only file system?)',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return `${WHY[code] ?? (err as Error).message} (${code})`;
}

function fix(dir: string): string {
  return `Set LAD_DATA_DIR (dataDir) to a writable directory, or make ${dir} writable by the service's user.`;
}

/**
 * Creates the data dir (and its parents) and proves it writable with a probe file, before any store opens it.
 * One directory at a time rather than mkdir's recursive mode, which reports a read-only file system as ENOENT
 * and, under /proc, never settles (Node 20).
 */
export async function ensureDataDir(dir: string): Promise<void> {
  const absolute = path.resolve(dir);
  if ((await fs.stat(absolute).catch(() => null))?.isDirectory()) {
    await probeWrite(absolute);
    return;
  }
  const chain: string[] = [];
  for (let p = absolute; p !== path.dirname(p); p = path.dirname(p)) {
    chain.unshift(p);
  }
  for (const p of chain) {
    try {
      await fs.mkdir(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DataDirError(`data dir ${absolute} cannot be created: mkdir ${p}: ${reason(err)}. ${fix(absolute)}`);
      }
      const stat = await fs.stat(p).catch(() => null);
      if (!stat?.isDirectory()) {
        throw new DataDirError(`data dir ${absolute} cannot be created: ${p} exists and is not a directory. ${fix(absolute)}`);
      }
    }
  }
  await probeWrite(absolute);
}

async function probeWrite(dir: string): Promise<void> {
  const probe = path.join(dir, `.write-check-${process.pid}`);
  try {
    await fs.writeFile(probe, '');
    await fs.unlink(probe);
  } catch (err) {
    throw new DataDirError(`data dir ${dir} is not writable: ${reason(err)}. ${fix(dir)}`);
  }
}
