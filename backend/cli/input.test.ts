// Reading the CLI's inputs: every line in order, and a line longer than MAX_LINE_BYTES cut to it.

import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { MAX_LINE_BYTES, readLines, streamChunks } from './input';

describe('CLI input', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'lad-input-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The file's lines as streamChunks hands them over, and the chunks' largest size. */
  async function streamed(file: string): Promise<{ lines: string[]; largest: number }> {
    const parts: Buffer[] = [];
    let largest = 0;
    await streamChunks(file, (chunk) => {
      largest = Math.max(largest, chunk.length);
      parts.push(Buffer.from(chunk));
    });
    return { lines: Buffer.concat(parts).toString('latin1').split('\n'), largest };
  }

  it('cuts a line longer than MAX_LINE_BYTES to it and skips its rest, at any place across the 1 MB reads', async () => {
    // lengths around the bound and across several reads, each followed by a short line
    const lengths = [10, MAX_LINE_BYTES - 1, MAX_LINE_BYTES, MAX_LINE_BYTES + 1, 3 * MAX_LINE_BYTES + 12345, (1 << 20) - 1, 5];
    const lines = lengths.flatMap((n, i) => [String.fromCharCode(97 + i).repeat(n), `short ${i}`]);
    const file = path.join(dir, 'long.log');
    writeFileSync(file, lines.join('\n') + '\ntail');
    const got = await streamed(file);
    expect(got.lines.map((l) => [l[0], l.length])).toEqual([...lines, 'tail'].map((l) => [l[0], Math.min(l.length, MAX_LINE_BYTES)]));
    expect(got.lines.filter((l) => l.startsWith('short'))).toHaveLength(lengths.length);
    // no chunk holds more than a 1 MB read plus one line's bound
    expect(got.largest).toBeLessThanOrEqual(MAX_LINE_BYTES + 1 + (1 << 20));
  });

  it('a file that is one unterminated line, longer than the bound: one cut line', async () => {
    const file = path.join(dir, 'one.log');
    writeFileSync(file, 'z'.repeat(2 * MAX_LINE_BYTES + 7));
    const got = await streamed(file);
    expect(got.lines.map((l) => l.length)).toEqual([MAX_LINE_BYTES, 0]);
  });

  it('readLines: LF and CRLF lines of several files, in order, long lines cut', async () => {
    const a = path.join(dir, 'a.log');
    const b = path.join(dir, 'b.log');
    writeFileSync(a, 'one\r\ntwo\n\nthree');
    writeFileSync(b, 'x'.repeat(MAX_LINE_BYTES + 2) + '\nfour\n');
    const lines = await readLines([a, b]);
    expect(lines.map((l) => (l.length > 100 ? l.length : l))).toEqual(['one', 'two', '', 'three', MAX_LINE_BYTES, 'four']);
  });
});
