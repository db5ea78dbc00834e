/**
 * Resume state of pull sources, one small JSON file per source under `<dataDir>/checkpoints/`.
 *
 * Written atomically: a temp file in the same directory, fsync'd, renamed over the target, then the
 * directory fsync'd, so a crash or power cut leaves either the old or the new checkpoint, never a torn one.
 * Saves are serialised; a save requested while one is in flight replaces any save still waiting (only the
 * newest position matters), so a fast pull never queues writes without bound.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { replaceFileDurably } from '../store/durable-write';

export class CheckpointError extends Error {
  constructor(
    message: string,
    readonly file: string
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** File of a source's checkpoint; the name is encoded so any source name is one safe path component. */
export function checkpointFile(dataDir: string, kind: string, sourceName: string): string {
  return path.join(dataDir, 'checkpoints', `${encodeURIComponent(kind)}--${encodeURIComponent(sourceName)}.json`);
}

export class CheckpointStore<T> {
  private writing: Promise<void> | null = null;
  private next: { value: T } | null = null;
  private tempCounter = 0;

  constructor(
    readonly file: string,
    private readonly schema: z.ZodType<T>
  ) {}

  /** The saved position, or null when none was saved. A file that does not match the schema is an error, not a silent restart. */
  async load(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CheckpointError(`checkpoint ${this.file} is not JSON; delete it to start over`, this.file);
    }
    const parsed = this.schema.safeParse(json);
    if (!parsed.success) {
      throw new CheckpointError(`checkpoint ${this.file} is invalid (${parsed.error.issues[0]?.message}); delete it to start over`, this.file);
    }
    return parsed.data;
  }

  /** Resolves once this value (or a newer one) is durably on disk. */
  save(value: T): Promise<void> {
    this.next = { value };
    if (!this.writing) this.writing = this.drain();
    return this.writing;
  }

  async clear(): Promise<void> {
    await this.writing;
    await rm(this.file, { force: true });
  }

  private async drain(): Promise<void> {
    try {
      while (this.next) {
        const { value } = this.next;
        this.next = null;
        await this.writeAtomically(JSON.stringify(value));
      }
    } finally {
      this.writing = null;
    }
  }

  private async writeAtomically(text: string): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    await replaceFileDurably(this.file, `${this.file}.${process.pid}.${this.tempCounter++}.tmp`, text);
  }
}
