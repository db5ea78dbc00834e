// `lad train --input FILE [--input FILE …] --model DIR`: train on the lines of the inputs, save to DIR.
// The inputs are streamed (1 MB chunks into a TrainingSet), so their size is bounded by time, not memory.

import { promises as fs } from 'fs';
import { saveModel } from '../engine';
import { saveBaseline } from '../engine/rate/persist';
import { TrainingBaseline } from '../engine/rate/template-ids';
import { TrainingSet } from '../engine/train';
import { checkReadable, CliError, readLines, streamChunks } from './input';
import { configFromOptions } from './options';
import type { ModelOptionValues } from './options';
import { progressReporter } from './progress';

/** The file every model directory holds (engine/persist.ts). */
const MODEL_MANIFEST = 'model.json';

export interface TrainCommandOptions extends ModelOptionValues {
  input: string[];
  model: string;
  normal?: string[];
}

/**
 * Fails unless `dir` may be replaced by a model: absent, an empty directory or a model directory (model.json).
 * saveModel replaces the whole directory and deletes what was there, so `--model .` or `--model logs/` (beside
 * the input) would delete the user's files, and `--model app.log` the log itself.
 */
export async function checkModelTarget(dir: string): Promise<void> {
  const stat = await fs.stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new CliError(`cannot use --model ${dir}: ${err.message}`);
  });
  if (stat === null) return;
  if (!stat.isDirectory()) throw new CliError(`--model ${dir} is a file, not a model directory: not replacing it`);
  const entries = await fs.readdir(dir).catch((err: Error) => {
    throw new CliError(`cannot use --model ${dir}: ${err.message}`);
  });
  if (entries.length > 0 && !entries.includes(MODEL_MANIFEST)) {
    throw new CliError(`--model ${dir} is a directory with ${entries.length} entries and no model (${MODEL_MANIFEST}): not replacing it; name a new or empty directory`);
  }
}

/** Bytes in all the inputs, or 0 when one is stdin (its size is unknown until it ends). */
async function totalBytes(files: readonly string[]): Promise<number> {
  let total = 0;
  for (const f of files) {
    if (f === '-') return 0;
    total += (await fs.stat(f)).size;
  }
  return total;
}

export async function runTrain(o: TrainCommandOptions): Promise<void> {
  const config = configFromOptions(o);
  await checkModelTarget(o.model); // before the work of training, and before saveModel deletes anything
  for (const f of o.input) await checkReadable(f); // every input before the first is read
  // lines marked false positive: a short list people curated, read whole
  const normalLines = o.normal !== undefined ? await readLines(o.normal) : [];
  const progress = progressReporter(o.quiet !== true);
  const started = Date.now();
  // rate anomalies (engine/rate): each line's template and time, counted per interval as training reads it
  const rate = config.rate.enabled ? new TrainingBaseline(config.rate) : null;
  const set = new TrainingSet({ config, normalLines, onProgress: progress.onProgress, onLine: rate?.onLine });
  const total = await totalBytes(o.input);
  let bytes = 0;
  for (const f of o.input) {
    await streamChunks(f, (chunk) => {
      set.addChunk(chunk);
      bytes += chunk.length;
      progress.reading(set.lineCount, bytes, total);
    });
  }
  const model = set.finish();
  progress.stop();
  await saveModel(model, o.model);
  let rateNote = '';
  if (rate !== null) {
    // after saveModel, which replaces the directory
    const baseline = rate.build();
    await saveBaseline(o.model, baseline);
    rateNote = `rate baseline: ${baseline.templates.length} templates over ${baseline.intervals} intervals (${baseline.unit === 'ms' ? 'timestamps' : 'line order'})\n`;
  }
  const s = model.info.stats;
  process.stderr.write(
    `trained on ${set.lineCount} lines (${s.templates} templates, vocabulary ${s.vocabulary}) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `detector ${model.info.config.detector}, threshold ${model.info.threshold.toFixed(3)}; saved to ${o.model}\n` +
      rateNote,
  );
}

