// `lad score --model DIR --input FILE [--format jsonl|text]`.
// jsonl: one object per input line, in input order: {"line","score","anomaly","template","reason","level"}.
// Anomalous lines also carry "incident" (the line that opened their incident) and "repeat" (true when that is
// an earlier line): a burst of one template is one incident (engine/incidents.ts). Text format prints the
// first line of each incident and lists the repeats once at the end.
//
// Hot path (docs/engine.md, "Speed"): input arrives in 1 MB chunks cut at line breaks. A pure-ASCII line is
// scored straight from its bytes, so a line whose template is cached never becomes a string; other lines
// are decoded one by one. The JSON after "line" is the same for every line of a template, so it is encoded
// once per cached score and copied into a 1 MB output buffer with the line number written as digits.
//
// Rate anomalies (engine/rate): with the model's rate.json, each line's time (read from its bytes in place) and
// template id are counted per interval; a line that is part of a surge is anomalous with a surge reason and a
// `rate` field {observed, expected}. Drops (a regular template that stopped) have no line: the text format
// prints them as incidents, jsonl counts them on stderr.

import { createWriteStream, promises as fs } from 'fs';
import type { Writable } from 'stream';
import { DEFAULT_INCIDENT_GAP_LINES, IncidentTracker, loadModel } from '../engine';
import type { LineScore, Model } from '../engine';
import { LadModel } from '../engine/model';
import type { CachedScore } from '../engine/model';
import { loadBaseline } from '../engine/rate/persist';
import { intervalText, RateTracker, roundExpected, surgeReason } from '../engine/rate/tracker';
import type { DropEvent } from '../engine/rate/model';
import { TimestampParser } from '../engine/timestamps';
import { lineBreakAt, lineEndBefore, widenChunk } from '../engine/chunk-lines';
import { CliError, streamChunks } from './input';
import { OutputClosed, OutputSink } from './output';

export interface ScoreCommandOptions {
  model: string;
  input: string;
  format: 'jsonl' | 'text';
  output?: string;
  /** Scored lines without a repeat after which an incident closes (0: every anomalous line is an incident). */
  incidentGap?: number;
}

const OUTPUT_BYTES = 1 << 20;
const LINE_PREFIX = Buffer.from('{"line":');

function jsonTail(s: LineScore): string {
  return (
    `,"score":${Math.round(s.score * 10000) / 10000},"anomaly":${s.anomaly},"template":${JSON.stringify(s.template)},` +
    `"reason":${JSON.stringify(s.reason)},"level":${s.level === null ? 'null' : JSON.stringify(s.level)}}\n`
  );
}

/**
 * Opens the output file, failing with a readable message (not an unhandled stream error). Opening truncates it,
 * so the input itself (`--output app.log --input app.log`, or a link to it) is refused: it would be emptied
 * before a line of it was read.
 */
async function openOutput(file: string, input: string): Promise<Writable> {
  if (input !== '-') {
    const [out, inp] = await Promise.all([fs.stat(file).catch(() => null), fs.stat(input).catch(() => null)]);
    if (out !== null && inp !== null && out.isFile() && out.dev === inp.dev && out.ino === inp.ino) {
      throw new CliError(`--output ${file} is the input file: writing it would erase the input before it is read`);
    }
  }
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(file);
    stream.once('open', () => resolve(stream));
    stream.once('error', (err) => reject(new CliError(`cannot write output ${file}: ${err.message}`)));
  });
}

/**
 * JSONL assembled in a byte buffer: no per-line string building or UTF-8 encoding. A full buffer is handed
 * to the stream as is (the stream may keep it until written) and a new one is started.
 */
class JsonlBuffer {
  /** Buffers the stream has finished with, for reuse (a fresh 1 MB buffer per flush would keep the GC busy). */
  private readonly free: Buffer[] = [];
  private buf: Buffer = Buffer.allocUnsafe(OUTPUT_BYTES);
  private pos = 0;

  constructor(private readonly out: OutputSink) {}

  /** True when the next line may not fit: the caller awaits flush() (the only await of the hot loop). */
  get full(): boolean {
    return this.pos > OUTPUT_BYTES - 64 * 1024;
  }

  /** Appends `{"line":N` + tail; a tail too large for the buffer goes out on its own. */
  add(lineNo: number, tail: Buffer): Promise<void> | void {
    if (this.pos + tail.length + 32 > this.buf.length) return this.addLarge(lineNo, tail);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < 8; i++) buf[p + i] = LINE_PREFIX[i];
    p += 8;
    let digits = 1;
    for (let t = lineNo; t >= 10; t = Math.floor(t / 10)) digits++;
    let n = lineNo;
    for (let i = p + digits - 1; i >= p; i--) {
      buf[i] = 48 + (n % 10);
      n = Math.floor(n / 10);
    }
    p += digits;
    buf.set(tail, p);
    this.pos = p + tail.length;
  }

  private async addLarge(lineNo: number, tail: Buffer): Promise<void> {
    await this.flush();
    await this.out.write(Buffer.concat([LINE_PREFIX, Buffer.from(String(lineNo)), tail]));
  }

  async flush(): Promise<void> {
    if (this.pos === 0) return;
    const written = this.buf;
    this.buf = this.free.pop() ?? Buffer.allocUnsafe(OUTPUT_BYTES);
    const full = written.subarray(0, this.pos);
    this.pos = 0;
    // the stream may keep the buffer until it is written: it is reused only after that
    await this.out.write(full, () => this.free.push(written));
  }
}

export async function runScore(o: ScoreCommandOptions): Promise<void> {
  const model = await loadModel(o.model).catch((err: Error) => {
    throw new CliError(`cannot load model from ${o.model}: ${err.message}`);
  });
  const baseline =
    model instanceof LadModel && model.config.rate.enabled
      ? await loadBaseline(o.model).catch((err: Error) => {
          throw new CliError(`cannot load the rate baseline of ${o.model}: ${err.message}`);
        })
      : null;
  const rate = baseline !== null && model instanceof LadModel ? new RateTracker(model.config.rate, baseline) : null;
  const out = new OutputSink(o.output !== undefined ? await openOutput(o.output, o.input) : process.stdout, o.output ?? 'to stdout');
  try {
    await scoreAll(model, o, out, rate);
  } catch (err) {
    // The reader closed its end (`lad score … | head`): stop quietly with exit 0, like other Unix tools.
    if (err instanceof OutputClosed) return;
    throw err;
  }
}

interface IncidentRepeats {
  template: string;
  repeats: number;
  last: number;
}

/** A line that is part of a surge: its score with the surge's words and counts. */
function surgeScore(s: LineScore, observed: number, expected: number, interval: string): LineScore & { rate: { observed: number; expected: number } } {
  const reason = surgeReason(s.template, observed, expected, interval);
  return { ...s, anomaly: true, reason: s.anomaly ? `${reason}; ${s.reason}` : reason, rate: { observed, expected: roundExpected(expected) } };
}

function dropText(d: DropEvent, template: string, interval: string): string {
  const last = Number.isFinite(d.lastSeen) ? `, last seen in the interval from ${new Date(d.lastSeen).toISOString()}` : '';
  return `drop: ${template} not seen for ${d.emptyIntervals} intervals of ${interval}, expected ${roundExpected(d.expected)} per interval${last}\n\n`;
}

async function scoreAll(model: Model, o: ScoreCommandOptions, out: OutputSink, rate: RateTracker | null): Promise<void> {
  const incidents = new IncidentTracker(o.incidentGap ?? DEFAULT_INCIDENT_GAP_LINES);
  const parser = rate !== null && rate.model.unit === 'ms' ? new TimestampParser() : null;
  const interval = rate !== null ? intervalText(rate.model.unit, rate.model.width) : '';
  let surges = 0;
  let drops = 0;
  const bytesModel = model instanceof LadModel ? model : null;
  const jsonl = o.format === 'jsonl' ? new JsonlBuffer(out) : null;
  // text format: incidents whose repeats were not printed, by the line that opened them
  const repeated = new Map<number, IncidentRepeats>();
  let lineNo = 0;
  let anomalies = 0;
  let text = '';

  /** Writes one scored line: `line`, or else chunk[start, end) (ASCII), is the text, needed only to print an anomaly. */
  const emit = (s: LineScore, line: string | null, chunk: Buffer, start: number, end: number): Promise<void> | void => {
    if (jsonl !== null && 'rate' in s) {
      const first = incidents.observe(s.template, lineNo);
      return jsonl.add(lineNo, Buffer.from(jsonTail(s).slice(0, -2) + `,"rate":${JSON.stringify(s.rate)},"incident":${first},"repeat":${first !== lineNo}}\n`));
    }
    if (jsonl !== null) {
      // The model returns its cached object for a known template; its `extra` slot keeps our encoded JSON.
      const cached = s as CachedScore;
      let tail = cached.extra;
      if (tail === undefined) {
        tail = Buffer.from(jsonTail(s));
        cached.extra = tail;
      }
      if (!s.anomaly) return jsonl.add(lineNo, tail);
      // anomalous lines (rare) also say which incident they belong to: `}\n` ends every tail
      const first = incidents.observe(s.template, lineNo);
      const withIncident = Buffer.concat([tail.subarray(0, tail.length - 2), Buffer.from(`,"incident":${first},"repeat":${first !== lineNo}}\n`)]);
      return jsonl.add(lineNo, withIncident);
    }
    if (!s.anomaly) return;
    anomalies++;
    const first = incidents.observe(s.template, lineNo);
    if (first === lineNo) {
      text += `line ${lineNo}  score ${s.score.toFixed(2)}${s.level !== null ? `  ${s.level}` : ''}\n  ${line ?? chunk.toString('latin1', start, end)}\n  why: ${s.reason}\n\n`;
    } else {
      const r = repeated.get(first);
      if (r === undefined) repeated.set(first, { template: s.template, repeats: 1, last: lineNo });
      else {
        r.repeats++;
        r.last = lineNo;
      }
    }
  };
  /** True when the output buffer should be written before the next line (checked without an await). */
  const isFull = (): boolean => (jsonl !== null ? jsonl.full : text.length >= OUTPUT_BYTES);
  const flush = async (): Promise<void> => {
    if (jsonl !== null) return jsonl.flush();
    const t = text;
    text = '';
    await out.write(t);
  };

  // Each chunk is widened to UTF-16 code units once (a native copy), and the scanner reads its lines in place.
  let wide = new Uint16Array(0);
  await streamChunks(o.input, async (chunk) => {
    const n = chunk.length;
    if (bytesModel !== null) wide = widenChunk(chunk, wide);
    let p = 0;
    while (p < n) {
      const lf = lineBreakAt(chunk, p);
      const e = lineEndBefore(chunk, p, lf);
      lineNo++;
      let s = bytesModel !== null ? bytesModel.scoreAscii(chunk, p, e, wide) : null;
      let line: string | null = null;
      if (s === null) {
        // not ASCII: decoded on its own, which gives the same text as decoding the chunk (LF is never
        // part of a multi-byte UTF-8 character)
        line = chunk.toString('utf8', p, e);
        s = model.score(line) as CachedScore;
      }
      if (rate !== null) {
        const id = (s as CachedScore).cluster?.id;
        const time = parser === null ? NaN : line === null ? parser.parseCodes(wide, p, e) : parser.parse(line);
        const observed = id === undefined ? 0 : rate.observe(id, time);
        const dropped = rate.takeDrops();
        if (dropped.length > 0) {
          drops += dropped.length;
          if (jsonl === null) for (const d of dropped) text += dropText(d, templateText(bytesModel, d.id), interval);
        }
        if (observed > 0) {
          surges++;
          s = surgeScore(s, observed, rate.expected, interval) as CachedScore;
        }
      }
      // the common case inline: a normal line whose template's JSON is already encoded
      const tail = s.anomaly ? undefined : (s as CachedScore).extra;
      const pending = jsonl !== null && tail !== undefined ? jsonl.add(lineNo, tail) : emit(s, line, chunk, p, e);
      if (pending) await pending;
      if (isFull()) await flush();
      p = lf + 1;
    }
  });
  if (jsonl !== null) await jsonl.flush();
  else {
    if (repeated.size > 0) {
      text += 'repeats of an open incident (same template, not printed again):\n';
      for (const [first, r] of repeated) text += `  line ${first}: ${r.repeats} more, last at line ${r.last}  ${r.template}\n`;
      text += '\n';
    }
    text +=
      `${anomalies} anomalies in ${lineNo} lines, ${incidents.opened} incidents ` +
      `(threshold ${model.info.threshold.toFixed(3)}, detector ${model.info.config.detector})\n`;
    if (rate !== null) text += `rate: ${surges} surge lines, ${drops} drops (interval ${interval})\n`;
    await out.write(text);
  }
  if (jsonl !== null && rate !== null && (surges > 0 || drops > 0)) {
    process.stderr.write(`rate: ${surges} surge lines, ${drops} drops (interval ${interval}; drops are printed by --format text)\n`);
  }
  await out.end();
}

/** The text of template `id` (a drop's template), or its id when the model no longer has it. */
function templateText(model: LadModel | null, id: number): string {
  return model?.miner.get(id)?.text ?? `template #${id}`;
}
