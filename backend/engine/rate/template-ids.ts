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

/**
 * The rate baseline of training lines (in order) under the model trained on them. `arrivals` (epoch ms, one per
 * line) is when each line arrived: the clock of lines that carry no time of their own, as while scoring
 * (RateTracker.observe); once a line has shown a time of its own, a line without takes the previous one's.
 */
export function baselineOf(model: LadModel, lines: readonly string[], parser = new TimestampParser(), arrivals?: ArrayLike<number>): RateBaseline {
  const ids = new TemplateIds(model);
  const b = new RateBaselineBuilder(model.config.rate);
  let own = false;
  for (let i = 0; i < lines.length; i++) {
    const id = ids.of(lines[i]);
    if (id < 0) continue;
    const t = parser.parse(lines[i]);
    if (!Number.isNaN(t)) own = true;
    // as RateTracker.observe: without a time of its own, the previous line's (NaN) once lines have shown
    // times of their own, else the arrival time
    b.add(id, Number.isNaN(t) && !own && arrivals !== undefined ? arrivals[i] : t);
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
