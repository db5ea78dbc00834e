/**
 * The file tail over real log corpora, read in place from /work/shared/data (Loghub samples and Loki's
 * pattern-miner test data, which is AGPL: used by path here, never copied into the project). Single-line
 * logs must come out line for line: the multi-line joiner must not glue real entries together, and a last
 * line without its newline (most Loghub samples end so) still arrives.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileTailSource } from '../file-tail';
import { RecordingSink } from './recording-sink';

const DATA = '/work/shared/data';
const files = existsSync(DATA)
  ? ['loghub', 'modern'].flatMap((sub) =>
      readdirSync(join(DATA, sub))
        .filter((f) => f.endsWith('.log'))
        .map((f) => join(DATA, sub, f))
    )
  : [];

(files.length > 0 ? it.each(files) : it.skip.each(['(no sample data on this machine)']))(
  'tails %s line for line, with multi-line joining on',
  async (path) => {
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
  }
);
