// rate.json in a model directory: the rate baseline `lad train` learned beside the model. Written after the
// model (saveModel replaces the directory); a model without one (older, or trained from stdin) scores
// without rate anomalies.

import { promises as fs } from 'fs';
import * as path from 'path';
import { rateBaselineSchema } from './baseline';
import type { RateBaseline } from './baseline';

export const RATE_FILE = 'rate.json';

export async function saveBaseline(dir: string, baseline: RateBaseline): Promise<void> {
  await fs.writeFile(path.join(dir, RATE_FILE), JSON.stringify(baseline));
}

/** The baseline saved in `dir`, null when there is none; throws when it is there but invalid. */
export async function loadBaseline(dir: string): Promise<RateBaseline | null> {
  const file = path.join(dir, RATE_FILE);
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  const parsed = rateBaselineSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}
