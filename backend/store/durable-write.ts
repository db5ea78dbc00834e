import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Replaces `file` with `text` so that a crash or power cut leaves the old or the new content, never a torn one:
 * writes `temp` (in the same directory), fsyncs it, renames it over `file` (atomic replace) and fsyncs the
 * directory so the rename itself survives. The caller picks `temp` and keeps writes to one temp file serialised.
 */
export async function replaceFileDurably(file: string, temp: string, text: string): Promise<void> {
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
  const dir = await fs.open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
