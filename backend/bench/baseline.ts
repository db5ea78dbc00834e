/**
 * The no-model baseline of the engine benchmark: `node baseline.js FILE` reads FILE line by line, applies one
 * regex (digits masked into a template) and writes the same JSONL shape as `lad score --format jsonl` to
 * stdout. It reads and writes the way a careful Node program would (1 MB chunks, buffered output), so it
 * measures the I/O and JSON cost any scorer pays, and "at least half the baseline" is a fair bar.
 */
import { createReadStream } from 'fs';

const MASK = /[0-9]+/g;
const FLUSH_CHARS = 1 << 20;

function write(text: string): Promise<void> | undefined {
  if (process.stdout.write(text)) return undefined;
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

async function main(file: string): Promise<void> {
  let lineNo = 0;
  let rest = '';
  let out = '';
  // Synchronous per line; only a full output buffer hands back a promise to wait on (no promise per line).
  const emit = (line: string): Promise<void> | undefined => {
    lineNo++;
    const template = line.replace(MASK, '<NUM>');
    out += `{"line":${lineNo},"score":0,"anomaly":false,"template":${JSON.stringify(template)},"reason":"baseline"}\n`;
    if (out.length < FLUSH_CHARS) return undefined;
    const pending = write(out);
    out = '';
    return pending;
  };
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl >= 0) {
      const pending = emit(text.slice(start, nl));
      if (pending) await pending;
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) await emit(rest);

  if (out.length > 0) await write(out);
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node baseline.js FILE\n');
  process.exit(2);
}
main(file).catch((err: unknown) => {
  process.stderr.write(`baseline: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
