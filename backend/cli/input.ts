// Reading log lines for the CLI: whole files for training and evaluation, and a chunked stream for scoring.

import { createReadStream, promises as fs } from 'fs';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** Fails with a readable message when `file` cannot be read ('-' is stdin and always accepted). */
export async function checkReadable(file: string): Promise<void> {
  if (file === '-') return;
  const stat = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(err.code === 'ENOENT' ? `input file not found: ${file}` : `cannot read input ${file}: ${err.message}`);
  });
  if (stat.isDirectory()) throw new CliError(`input ${file} is a directory, not a file`);
  await fs.access(file).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read input ${file}: ${err.message}`);
  });
}

/** Splits text into lines (LF or CRLF); a final line break does not make an empty last line. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
  }
  return lines;
}

export async function readLines(files: readonly string[]): Promise<string[]> {
  for (const f of files) await checkReadable(f);
  const out: string[] = [];
  for (const f of files) {
    await streamChunks(f, (chunk) => {
      for (const line of splitLines(chunk.toString('utf8'))) out.push(line);
    });
  }
  return out;
}

/**
 * A line longer than this many bytes is cut to them and its rest skipped up to its line break, so one line
 * (a binary file, a log without line breaks) never holds more memory than this: a 300 MB line took 31.6 s and
 * 945 MB to score, growing with the square of its length. The engine reads at most maxLineLength + 1
 * (<= 1,000,001) UTF-16 code units of a line, each at most 3 bytes of UTF-8, so a cut line scores and mines
 * exactly as the whole one did.
 */
export const MAX_LINE_BYTES = 4 << 20;

const LF = Buffer.from('\n');

/**
 * Calls `onChunk` with the input in large chunks (1 MB reads), each ending at a line break except possibly
 * the last, in input order. `onChunk` may return a promise (e.g. waiting for the output to drain). Lines are
 * cut to MAX_LINE_BYTES.
 */
export async function streamChunks(file: string, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  await checkReadable(file);
  const input = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  // The unterminated start of a line, in the pieces it arrived in (joined once, when its line break comes).
  let held: Buffer[] = [];
  let heldBytes = 0;
  // True while the rest of a cut line is read and dropped.
  let skipping = false;
  /** Holds `piece`, the start of a line; at the bound, the line is given cut and its rest skipped. */
  const hold = async (piece: Buffer): Promise<void> => {
    if (heldBytes + piece.length <= MAX_LINE_BYTES) {
      if (piece.length > 0) held.push(piece);
      heldBytes += piece.length;
      return;
    }
    held.push(piece.subarray(0, MAX_LINE_BYTES - heldBytes), LF);
    const line = Buffer.concat(held);
    held = [];
    heldBytes = 0;
    skipping = true;
    await onChunk(line);
  };
  // Chunks are cut at their last LF byte: 0x0A never occurs inside a multi-byte UTF-8 character, so both
  // sides decode cleanly and no partial character is ever split.
  for await (const chunk of input) {
    let buf = chunk as Buffer;
    if (skipping) {
      const lf = buf.indexOf(10);
      if (lf < 0) continue;
      skipping = false;
      buf = buf.subarray(lf + 1);
    }
    const first = buf.indexOf(10);
    if (first < 0) {
      await hold(buf);
      continue;
    }
    if (heldBytes > 0) {
      // the held line ends at this chunk's first line break
      await hold(buf.subarray(0, first));
      if (skipping) skipping = false;
      else {
        held.push(LF);
        const line = Buffer.concat(held);
        held = [];
        heldBytes = 0;
        await onChunk(line);
      }
      buf = buf.subarray(first + 1);
    }
    const cut = buf.lastIndexOf(10);
    if (cut >= 0) await onChunk(buf.subarray(0, cut + 1));
    await hold(buf.subarray(cut + 1));
  }
  if (heldBytes > 0) await onChunk(Buffer.concat(held));
}
