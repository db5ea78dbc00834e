/**
 * Where the in-repository test corpora lie, from the sources (jest, ts-node) or the build (backend/dist/testdata),
 * so tests and the benchmark fallback never need ../shared. See README.md for what each folder holds.
 */
import { existsSync, readdirSync } from 'fs';
import { join, resolve } from 'path';

/** backend/testdata in the source tree (the data files are not compiled into dist). */
export const TESTDATA_DIR = existsSync(join(__dirname, 'loghub')) ? __dirname : resolve(__dirname, '../../testdata');
/** The ten Loghub *_2k.log samples, each with its *_2k.events.txt ground truth. */
export const LOGHUB_DIR = join(TESTDATA_DIR, 'loghub');
/** Synthetic logfmt, klog and JSON-lines logs written by generate-modern.ts. */
export const GENERATED_DIR = join(TESTDATA_DIR, 'generated');

/** Every *.log under loghub/ and generated/, as absolute paths in name order. */
export function sampleLogPaths(): string[] {
  return [LOGHUB_DIR, GENERATED_DIR].flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort()
      .map((f) => join(dir, f))
  );
}
