import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { replaceFileDurably } from './durable-write';

/**
 * A lowdb adapter that makes every acknowledged write durable: it writes a temp file, fsyncs it, renames it
 * over the target (atomic replace) and fsyncs the directory so the rename itself survives a crash.
 * lowdb's default JSONFile (steno) renames without fsync: that survives kill -9 but not a power cut.
 * Writes are serialised here, so overlapping write() calls never interleave their temp files.
 */
export class DurableJSONFile<T> implements Adapter<T> {
  private chain: Promise<void> = Promise.resolve();
  private readonly tmp: string;

  constructor(private readonly file: string) {
    this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  }

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return null;
      }
      throw err;
    }
    return JSON.parse(text) as T;
  }

  write(data: T): Promise<void> {
    const text = JSON.stringify(data);
    const run = this.chain.then(() => this.writeNow(text));
    // Keep the chain alive after a failure; the caller of this write still sees its own rejection.
    this.chain = run.catch(() => undefined);
    return run;
  }

  private writeNow(text: string): Promise<void> {
    return replaceFileDurably(this.file, this.tmp, text);
  }
}
