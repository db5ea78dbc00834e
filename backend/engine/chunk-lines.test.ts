import { lineBreakAt, lineEndBefore, widenChunk } from './chunk-lines';

/** The lines of a chunk as the readers walk them. */
function lines(chunk: Buffer): string[] {
  const out: string[] = [];
  for (let p = 0; p < chunk.length; ) {
    const lf = lineBreakAt(chunk, p);
    out.push(chunk.toString('utf8', p, lineEndBefore(chunk, p, lf)));
    p = lf + 1;
  }
  return out;
}

it('splits at LF, leaves the CR of CRLF out and keeps a last line without a break', () => {
  expect(lines(Buffer.from('a b\r\nc\n\nd\re\nlast'))).toEqual(['a b', 'c', '', 'd\re', 'last']);
  expect(lines(Buffer.from('\r\n'))).toEqual(['']);
});

it('widens into the buffer it is given, growing it only when too small, with a 0 after the last byte', () => {
  const wide = new Uint16Array(16).fill(7);
  const same = widenChunk(Buffer.from('abc'), wide);
  expect(same).toBe(wide);
  expect([...same.subarray(0, 4)]).toEqual([97, 98, 99, 0]);
  const grown = widenChunk(Buffer.alloc(40, 120), wide);
  expect(grown).not.toBe(wide);
  expect(grown.length).toBeGreaterThanOrEqual(41);
  expect(grown[40]).toBe(0);
});
