// The mined template id of a line under a trained model, without learning from it: what the rate baseline
// counts the training lines by. Lines are scanned like the scorer scans them, and a masked template's id is
// looked up once (by the scanner's hash), so a second pass over a large training input stays cheap.

import type { LadModel } from '../model';
import { LineScanner } from '../tokenizer';
import { TimestampParser } from '../timestamps';
import { RateBaselineBuilder } from './baseline';
import type { RateBaseline } from './baseline';
import type { RateConfig } from './config';

/** Masked templates remembered before the lookup table is cleared (bounded memory on any input). */
const MAX_KNOWN = 200_000;

export class TemplateIds {
  private readonly scanner: LineScanner;
  private readonly known = new Map<number, number>();

  constructor(private readonly model: LadModel) {
    this.scanner = new LineScanner(model.config.maxLineLength);
  }

  /** The template id of a line; -1 when no mined template matches it (e.g. one evicted since). */
  of(line: string): number {
    return this.idOf(this.scanner.scan(line));
  }

  /** The template id of the ASCII line in bytes[start, end) (`wide`: the chunk as code units); NaN if not ASCII. */
  ofAscii(bytes: Buffer, start: number, end: number, wide: Uint16Array): number {
    return this.scanner.scanAscii(bytes, start, end, wide) ? this.idOf(this.scanner) : NaN;
  }

  private idOf(s: LineScanner): number {
    const h = s.hash;
    let id = this.known.get(h);
    if (id === undefined) {
      const miner = this.model.miner;
      id = miner.match(miner.tokensOf(s.template()))?.id ?? -1;
      if (this.known.size >= MAX_KNOWN) this.known.clear();
      this.known.set(h, id);
    }
    return id;
  }
}

/** The rate baseline of training lines (in order) under the model trained on them. */
export function baselineOf(model: LadModel, lines: Iterable<string>, parser = new TimestampParser()): RateBaseline {
  const ids = new TemplateIds(model);
  const b = new RateBaselineBuilder(model.config.rate);
  for (const line of lines) {
    const id = ids.of(line);
    if (id >= 0) b.add(id, parser.parse(line));
  }
  return b.build();
}

/**
 * The rate baseline of a streamed training (`lad train`): fed by TrainingSet's per-line hook (TrainOptions.onLine)
 * with each line's template id, and timed in place from its code units.
 */
export class TrainingBaseline {
  private readonly builder: RateBaselineBuilder;
  private readonly parser = new TimestampParser();

  constructor(config: RateConfig) {
    this.builder = new RateBaselineBuilder(config);
  }

  readonly onLine = (id: number, line: string | null, codes: Uint16Array, start: number, end: number): void => {
    this.builder.add(id, line !== null ? this.parser.parse(line) : this.parser.parseCodes(codes, start, end));
  };

  build(): RateBaseline {
    return this.builder.build();
  }
}
