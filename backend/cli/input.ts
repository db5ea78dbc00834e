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

async function readAll(file: string): Promise<string> {
  if (file !== '-') return fs.readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readLines(files: readonly string[]): Promise<string[]> {
  for (const f of files) await checkReadable(f);
  const out: string[] = [];
  for (const f of files) for (const line of splitLines(await readAll(f))) out.push(line);
  return out;
}

/**
 * Calls `onChunk` with the input in large chunks (1 MB reads), each ending at a line break except possibly
 * the last, in input order. `onChunk` may return a promise (e.g. waiting for the output to drain).
 */
export async function streamChunks(file: string, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  await checkReadable(file);
  const input = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  // Cut each chunk at its last LF byte: 0x0A never occurs inside a multi-byte UTF-8 character, so both
  // sides decode cleanly and no partial character is ever split.
  let rest: Buffer | null = null;
  for await (const chunk of input) {
    const buf: Buffer = rest === null ? (chunk as Buffer) : Buffer.concat([rest, chunk as Buffer]);
    const cut = buf.lastIndexOf(10);
    if (cut < 0) {
      rest = buf;
      continue;
    }
    rest = cut + 1 < buf.length ? buf.subarray(cut + 1) : null;
    await onChunk(cut + 1 < buf.length ? buf.subarray(0, cut + 1) : buf);
  }
  if (rest !== null && rest.length > 0) await onChunk(rest);
}
