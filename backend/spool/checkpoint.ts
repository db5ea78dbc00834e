/**
 * The spool's checkpoint (<spool dir>/checkpoint.json, replaced durably): per source, `next`, the spool sequence
 * number of its first line not yet scored and stored, and `resultsSeq`, the results store's last line sequence
 * number at that moment. Lines scored after the checkpoint was written are found again at start-up as the
 * results store's lines after `resultsSeq` (one per spooled line, in spool order), so none is scored twice.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { replaceFileDurably } from '../store/durable-write';

const entrySchema = z.object({ next: z.number().int().nonnegative(), resultsSeq: z.number().int() });
const fileSchema = z.object({ version: z.literal(1), sources: z.record(z.string(), entrySchema) });

export type CheckpointEntry = z.infer<typeof entrySchema>;
export type Checkpoint = Map<string, CheckpointEntry>;

const FILE = 'checkpoint.json';

/** The checkpoint in `dir`; empty when there is none yet. A file that does not parse is an error naming it. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const file = path.join(dir, FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  let parsed: z.infer<typeof fileSchema>;
  try {
    parsed = fileSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new Error(`spool checkpoint ${file} is unreadable (${(err as Error).message.slice(0, 200)}); move it away to replay the whole spool`);
  }
  return new Map(Object.entries(parsed.sources));
}

/** Writes the checkpoint so a crash leaves the old or the new one (temp file, fsync, rename, fsync of the dir). */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const text = JSON.stringify({ version: 1, sources: Object.fromEntries(checkpoint) });
  await replaceFileDurably(path.join(dir, FILE), path.join(dir, `${FILE}.tmp`), text);
}
