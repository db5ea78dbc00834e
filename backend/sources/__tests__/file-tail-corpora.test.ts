/**
 * The file tail over real-format log corpora, read in place from backend/testdata (the Loghub samples and the
 * generated logfmt, klog and JSON-lines logs). Single-line logs must come out line for line: the multi-line
 * joiner must not glue real entries together, and a last line without its newline (most Loghub samples end so)
 * still arrives.
 */
import { readFileSync } from 'node:fs';
import { FileTailSource } from '../file-tail';
import { RecordingSink } from './recording-sink';
import { sampleLogPaths } from '../../testdata/paths';

it.each(sampleLogPaths())('tails %s line for line, with multi-line joining on', async (path) => {
  const expected = readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => /\S/.test(l));
  const sink = new RecordingSink();
  const source = new FileTailSource({
    type: 'file',
    name: 'corpus',
    path,
    startAt: 'beginning',
    pollIntervalMs: 20,
    multilineFlushMs: 20,
    partialLineFlushMs: 50,
  });
  try {
    await source.start(sink);
    await sink.waitForEntries(expected.length);
    expect(sink.lines()).toEqual(expected);
  } finally {
    await source.stop();
  }
});
