// `lad train --input FILE [--input FILE …] --model DIR`: train on the lines of the inputs, save to DIR.

import { saveModel, trainModel } from '../engine';
import { readLines } from './input';
import { configFromOptions } from './options';
import type { ModelOptionValues } from './options';
import { progressReporter } from './progress';

export interface TrainCommandOptions extends ModelOptionValues {
  input: string[];
  model: string;
  normal?: string[];
}

export async function runTrain(o: TrainCommandOptions): Promise<void> {
  const config = configFromOptions(o);
  const lines = await readLines(o.input);
  const normalLines = o.normal !== undefined ? await readLines(o.normal) : [];
  const progress = progressReporter(o.quiet !== true);
  const started = Date.now();
  const model = await trainModel(lines, { config, normalLines, onProgress: progress.onProgress });
  progress.stop();
  await saveModel(model, o.model);
  const s = model.info.stats;
  process.stderr.write(
    `trained on ${lines.length} lines (${s.templates} templates, vocabulary ${s.vocabulary}) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `detector ${model.info.config.detector}, threshold ${model.info.threshold.toFixed(3)}; saved to ${o.model}\n`,
  );
}
