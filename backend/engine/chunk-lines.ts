// Lines of a UTF-8 chunk as byte ranges, for the paths that read them in place (training, `lad score`):
// a line ends at LF and a CR before the LF is not part of it, as cli/input.splitLines splits a string.

/**
 * The chunk widened to UTF-16 code units in `wide` (a native copy; grown when too small), with a 0 after its
 * last byte so a last line without a line break is not followed by a stale code from an earlier chunk.
 */
export function widenChunk(chunk: Buffer, wide: Uint16Array<ArrayBuffer>): Uint16Array<ArrayBuffer> {
  const n = chunk.length;
  const out = wide.length < n + 1 ? new Uint16Array(n + 1 + (n >> 2)) : wide;
  out.set(chunk);
  out[n] = 0;
  return out;
}

/** Where the line starting at `p` breaks: its LF, or the chunk's end for a last line without one. */
export function lineBreakAt(chunk: Buffer, p: number): number {
  const lf = chunk.indexOf(10, p);
  return lf < 0 ? chunk.length : lf;
}

/** The end of the line's text before its break at `lf` (a CR before it is left out). */
export function lineEndBefore(chunk: Buffer, p: number, lf: number): number {
  return lf > p && chunk[lf - 1] === 13 ? lf - 1 : lf;
}
