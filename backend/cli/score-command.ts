// `lad score --model DIR --input FILE [--format jsonl|text]`.
// jsonl: one object per input line, in input order: {"line","score","anomaly","template","reason","level"}.
// The JSON after "line" is the same for every line of a template, so it is built once per cached score.
// Anomalous lines also carry "incident" (the line that opened their incident) and "repeat" (true when that is
// an earlier line): a burst of one template is one incident (engine/incidents.ts). Text format prints the
// first line of each incident and lists the repeats once at the end.

import { createWriteStream } from 'fs';
import type { Writable } from 'stream';
import { DEFAULT_INCIDENT_GAP_LINES, IncidentTracker, loadModel } from '../engine';
import type { LineScore, Model } from '../engine';
import type { CachedScore } from '../engine/model';
import { CliError, streamLines } from './input';
import { OutputClosed, OutputSink } from './output';

export interface ScoreCommandOptions {
  model: string;
  input: string;
  format: 'jsonl' | 'text';
  output?: string;
  /** Scored lines without a repeat after which an incident closes (0: every anomalous line is an incident). */
  incidentGap?: number;
}

const FLUSH_BYTES = 1 << 20;

function jsonTail(s: LineScore): string {
  return (
    `,"score":${Math.round(s.score * 10000) / 10000},"anomaly":${s.anomaly},"template":${JSON.stringify(s.template)},` +
    `"reason":${JSON.stringify(s.reason)},"level":${s.level === null ? 'null' : JSON.stringify(s.level)}}\n`
  );
}

/** Opens the output file, failing with a readable message (not an unhandled stream error). */
function openOutput(file: string): Promise<Writable> {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(file);
    stream.once('open', () => resolve(stream));
    stream.once('error', (err) => reject(new CliError(`cannot write output ${file}: ${err.message}`)));
  });
}

export async function runScore(o: ScoreCommandOptions): Promise<void> {
  const model = await loadModel(o.model).catch((err: Error) => {
    throw new CliError(`cannot load model from ${o.model}: ${err.message}`);
  });
  const out = new OutputSink(o.output !== undefined ? await openOutput(o.output) : process.stdout, o.output ?? 'to stdout');
  try {
    await scoreAll(model, o, out);
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

async function scoreAll(model: Model, o: ScoreCommandOptions, out: OutputSink): Promise<void> {
  const incidents = new IncidentTracker(o.incidentGap ?? DEFAULT_INCIDENT_GAP_LINES);
  // text format: incidents whose repeats were not printed, by the line that opened them
  const repeated = new Map<number, IncidentRepeats>();
  let lineNo = 0;
  let anomalies = 0;
  let buf = '';
  await streamLines(o.input, async (lines) => {
    for (const line of lines) {
      lineNo++;
      const s = model.score(line);
      if (o.format === 'jsonl') {
        // The model returns its cached object for a known template; its `extra` slot keeps our JSON.
        const cached = s as CachedScore;
        let tail = cached.extra;
        if (tail === undefined) {
          tail = jsonTail(s);
          cached.extra = tail;
        }
        if (s.anomaly) {
          // anomalous lines (rare) also say which incident they belong to: `"}\n"` ends every tail
          const first = incidents.observe(s.template, lineNo);
          buf += '{"line":' + lineNo + tail.slice(0, -2) + ',"incident":' + first + ',"repeat":' + (first !== lineNo) + '}\n';
        } else buf += '{"line":' + lineNo + tail;
      } else if (s.anomaly) {
        anomalies++;
        const first = incidents.observe(s.template, lineNo);
        if (first === lineNo) {
          buf += `line ${lineNo}  score ${s.score.toFixed(2)}${s.level !== null ? `  ${s.level}` : ''}\n  ${line}\n  why: ${s.reason}\n\n`;
        } else {
          const r = repeated.get(first);
          if (r === undefined) repeated.set(first, { template: s.template, repeats: 1, last: lineNo });
          else {
            r.repeats++;
            r.last = lineNo;
          }
        }
      }
      if (buf.length >= FLUSH_BYTES) {
        const text = buf;
        buf = '';
        await out.write(text);
      }
    }
  });
  if (o.format === 'text') {
    if (repeated.size > 0) {
      buf += 'repeats of an open incident (same template, not printed again):\n';
      for (const [first, r] of repeated) {
        buf += `  line ${first}: ${r.repeats} more, last at line ${r.last}  ${r.template}\n`;
      }
      buf += '\n';
    }
    buf +=
      `${anomalies} anomalies in ${lineNo} lines, ${incidents.opened} incidents ` +
      `(threshold ${model.info.threshold.toFixed(3)}, detector ${model.info.config.detector})\n`;
  }
  if (buf.length > 0) await out.write(buf);
  await out.end();
}
