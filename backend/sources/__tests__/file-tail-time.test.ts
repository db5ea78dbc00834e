/** FileTailSource stamps a live line with its own time, and a backlog line (or one without a time) with the read time. */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileTailSource } from '../file-tail';
import { RecordingSink } from './recording-sink';
import { removeDir, tempDir } from '../../testing/temp-dir';

let dir: string;
let source: FileTailSource | null = null;

beforeEach(() => {
  dir = tempDir('lad-tail-time-');
});
afterEach(async () => {
  await source?.stop();
  source = null;
  removeDir(dir);
});

it('stamps each line with its own time when a live log would carry it, else with the read time', async () => {
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const sink = new RecordingSink();
  source = new FileTailSource({ type: 'file', name: 'app', path: file, pollIntervalMs: 20, multilineFlushMs: 100 });
  await source.start(sink);
  const before = Date.now();
  const tenMinutesAgo = new Date(before - 600_000);
  appendFileSync(
    file,
    [
      `${tenMinutesAgo.toISOString()} INFO written ten minutes ago`,
      '2005-12-04T04:47:44Z INFO a backlog line from 2005',
      'a line without a time',
    ].join('\n') + '\n',
  );
  await sink.waitForEntries(3);
  const after = Date.now();
  expect(sink.entries[0].timestampMs).toBe(tenMinutesAgo.getTime());
  for (const e of sink.entries.slice(1)) {
    expect(e.timestampMs).toBeGreaterThanOrEqual(before);
    expect(e.timestampMs).toBeLessThanOrEqual(after);
  }
});
