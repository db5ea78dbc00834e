/** FileTailSource on real files in a temp dir: appends, rotation, truncation, multi-line joins, backpressure. */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { FileTailSource, type FileTailConfig } from '../file-tail';
import { RecordingSink } from './recording-sink';
import { removeDir, tempDir } from '../../testing/temp-dir';
import { waitUntil } from '../../testing/wait';

let dir: string;
let file: string;
let sink: RecordingSink;
let source: FileTailSource | null = null;

beforeEach(() => {
  dir = tempDir('lad-tail-');
  file = join(dir, 'app.log');
  sink = new RecordingSink();
});
afterEach(async () => {
  await source?.stop();
  source = null;
  removeDir(dir);
});

async function tail(options: Partial<FileTailConfig> = {}): Promise<FileTailSource> {
  source = new FileTailSource({
    type: 'file',
    name: 'app',
    path: file,
    pollIntervalMs: 20,
    multilineFlushMs: 100,
    ...options,
  });
  await source.start(sink);
  return source;
}

/** Lets the source run a number of poll cycles (used to show that something does NOT happen). */
const polls = (n: number) => new Promise((r) => setTimeout(r, n * 20 + 50));

it('starts at the end by default and follows appends, with filename and configured labels', async () => {
  writeFileSync(file, 'old 1\nold 2\n');
  await tail({ labels: { env: 'test' } });
  appendFileSync(file, 'new 1\nnew 2\r\n');
  await sink.waitForEntries(2);
  appendFileSync(file, 'new 3\n');
  await sink.waitForEntries(3);
  expect(sink.lines()).toEqual(['new 1', 'new 2', 'new 3']);
  expect(sink.entries[0]).toMatchObject({ source: 'app', labels: { env: 'test', filename: file } });
  // counted once deliver() resolves, a turn after the sink took the batch
  await waitUntil(() => source!.status().linesTotal === 3, 'three lines counted');
  const status = source!.status();
  expect(status).toMatchObject({ state: 'connected', lastError: null, linesTotal: 3 });
  expect(status.linesPerSecond).toBeGreaterThan(0);
  expect(status.lagMs).toBe(0);
});

it('reads from the beginning when asked', async () => {
  writeFileSync(file, 'old 1\nold 2\n');
  await tail({ startAt: 'beginning' });
  await sink.waitForEntries(2);
  expect(sink.lines()).toEqual(['old 1', 'old 2']);
});

it('holds an unterminated line until its newline arrives', async () => {
  writeFileSync(file, '');
  await tail({ multiline: false });
  appendFileSync(file, 'first\nhalf a li');
  await sink.waitForEntries(1);
  await polls(5);
  expect(sink.lines()).toEqual(['first']);
  appendFileSync(file, 'ne\n');
  await sink.waitForEntries(2);
  expect(sink.lines()).toEqual(['first', 'half a line']);
});

it('emits an unterminated last line once the file has stopped growing for partialLineFlushMs', async () => {
  writeFileSync(file, 'complete\nno newline at the end');
  await tail({ startAt: 'beginning', multiline: false, partialLineFlushMs: 100 });
  await sink.waitForEntries(2);
  expect(sink.lines()).toEqual(['complete', 'no newline at the end']);
  appendFileSync(file, '\nnext\n'); // the newline that finally comes does not make an empty or repeated entry
  await sink.waitForEntries(3);
  await polls(3);
  expect(sink.lines()).toEqual(['complete', 'no newline at the end', 'next']);
});

it('follows rotation by rename + create: the rest of the old file, then the new file from its start', async () => {
  writeFileSync(file, '');
  await tail({ multiline: false });
  appendFileSync(file, 'before rotation\n');
  await sink.waitForEntries(1);
  renameSync(file, `${file}.1`);
  appendFileSync(`${file}.1`, 'late line in the old file\n'); // the writer still had the old file open
  writeFileSync(file, 'first in new file\nsecond in new file\n');
  await sink.waitForEntries(4);
  appendFileSync(file, 'appended to new file\n');
  await sink.waitForEntries(5);
  expect(sink.lines()).toEqual([
    'before rotation',
    'late line in the old file',
    'first in new file',
    'second in new file',
    'appended to new file',
  ]);
});

it('waits for a file that is missing (rotated away, or not there yet) and reads it from its start', async () => {
  await tail({ multiline: false });
  expect(source!.status().state).toBe('error');
  expect(source!.status().lastError).toMatch(/waiting for .*app\.log/);
  writeFileSync(file, 'hello\n');
  await sink.waitForEntries(1);
  expect(sink.lines()).toEqual(['hello']);
  await waitUntil(() => source!.status().state === 'connected', 'connected');
  expect(source!.status().lastError).toBeNull();
});

it('restarts at the beginning when the file is truncated', async () => {
  writeFileSync(file, '');
  await tail({ multiline: false });
  appendFileSync(file, 'a fairly long line before truncation\nanother long line before truncation\n');
  await sink.waitForEntries(2);
  truncateSync(file, 0);
  appendFileSync(file, 'after\n');
  await sink.waitForEntries(3);
  expect(sink.lines()).toEqual([
    'a fairly long line before truncation',
    'another long line before truncation',
    'after',
  ]);
});

it('joins stack-trace continuation lines to their entry and flushes the last entry after the timeout', async () => {
  writeFileSync(file, '');
  await tail({ multilineFlushMs: 150 });
  const javaTrace = [
    '2024-01-01 12:00:00 ERROR Request failed',
    'java.lang.IllegalStateException: boom',
    '\tat com.example.Service.run(Service.java:42)',
    '\tat com.example.Main.main(Main.java:7)',
    'Caused by: java.io.IOException: disk',
    '\t... 2 more',
  ];
  const nodeTrace = [
    '2024-01-01 12:00:01 ERROR TypeError: x is undefined',
    '    at handler (/app/index.js:3:9)',
    'at Server.emit (node:events:519:28)',
  ];
  appendFileSync(file, ['2024-01-01 12:00:00 INFO starting', ...javaTrace, ...nodeTrace, ''].join('\n'));
  await sink.waitForEntries(4);
  expect(sink.lines()).toEqual([
    '2024-01-01 12:00:00 INFO starting',
    '2024-01-01 12:00:00 ERROR Request failed',
    javaTrace.slice(1).join('\n'),
    nodeTrace.join('\n'), // the last entry: emitted by the flush timeout, with nothing after it
  ]);
});

it('joins by firstLinePattern when one is configured (unindented continuation lines)', async () => {
  writeFileSync(file, '');
  await tail({ firstLinePattern: '^\\d{4}-\\d{2}-\\d{2} ', multilineFlushMs: 100 });
  appendFileSync(file, '2024-01-01 ERROR query failed\nSELECT *\nFROM orders\n2024-01-01 INFO next\n');
  await sink.waitForEntries(2);
  expect(sink.lines()).toEqual(['2024-01-01 ERROR query failed\nSELECT *\nFROM orders', '2024-01-01 INFO next']);
});

it('keeps a multi-byte character whole when a 64 KiB read boundary splits it', async () => {
  const line = `${'a'.repeat(64 * 1024 - 1)}é€ after the boundary`; // é spans bytes 65535 and 65536
  writeFileSync(file, `${line}\nnext\n`);
  await tail({ startAt: 'beginning', multiline: false });
  await sink.waitForEntries(2);
  expect(sink.lines()).toEqual([line, 'next']);
});

it('cuts an over-long line at maxLineBytes and skips its rest', async () => {
  writeFileSync(file, '');
  await tail({ multiline: false, maxLineBytes: 100 });
  appendFileSync(file, `${'x'.repeat(250)}\nshort\n`);
  await sink.waitForEntries(2);
  expect(sink.lines()).toEqual(['x'.repeat(100), 'short']);
  appendFileSync(file, 'y'.repeat(70));
  appendFileSync(file, `${'y'.repeat(70)}\nnext\n`); // grows past the limit across reads
  await sink.waitForEntries(4);
  expect(sink.lines().slice(2)).toEqual(['y'.repeat(100), 'next']);
});

it('pauses reading while the sink is saturated and resumes on drain, losing nothing', async () => {
  writeFileSync(file, '');
  await tail({ multiline: false });
  sink.saturate();
  appendFileSync(file, 'one\ntwo\nthree\n');
  await waitUntil(() => source!.status().state === 'paused', 'paused');
  await polls(5);
  expect(sink.entries).toHaveLength(0);
  expect(sink.drainListenerCount).toBe(1);
  expect(source!.status().lagMs).toBeGreaterThan(0);
  sink.drain();
  await sink.waitForEntries(3);
  expect(sink.lines()).toEqual(['one', 'two', 'three']);
  await waitUntil(() => source!.status().state === 'connected', 'connected again');
});

it('keeps a batch the sink rejected with BackpressureError and delivers it exactly once later', async () => {
  writeFileSync(file, '');
  await tail({ multiline: false });
  sink.retryAfterSeconds = 0.05;
  sink.rejectNextPushes = 2;
  appendFileSync(file, 'a\nb\n');
  await sink.waitForEntries(2);
  await polls(3);
  expect(sink.lines()).toEqual(['a', 'b']);
  expect(sink.pushCalls).toBe(3);
});

it('pushes large files in batches of batchSize', async () => {
  const lines = Array.from({ length: 2500 }, (_, i) => `line ${i}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  await tail({ startAt: 'beginning', multiline: false, batchSize: 1000 });
  await sink.waitForEntries(2500);
  expect(sink.lines()).toEqual(lines);
  expect(Math.max(...sink.batches.map((b) => b.length))).toBe(1000);
});

it('stops cleanly: status stopped, nothing read after stop', async () => {
  writeFileSync(file, '');
  await tail({ multiline: false });
  await source!.stop();
  expect(source!.status().state).toBe('stopped');
  appendFileSync(file, 'after stop\n');
  await polls(5);
  expect(sink.entries).toHaveLength(0);
});

describe('positions across restarts', () => {
  const restart = async (options: Partial<FileTailConfig> = {}) => {
    await source?.stop();
    sink = new RecordingSink();
    return tail({ dataDir: join(dir, 'data'), multiline: false, ...options });
  };

  it('resumes right after the last accepted entry: lines written while stopped arrive, nothing twice', async () => {
    writeFileSync(file, 'before the first start\n');
    await restart();
    appendFileSync(file, 'one\ntwo\n');
    await sink.waitForEntries(2);
    await restart(); // a clean stop saved the position
    expect(sink.entries).toHaveLength(0);
    await source!.stop();
    appendFileSync(file, 'three, while stopped\nfour, while stopped\n');
    await restart();
    await sink.waitForEntries(2);
    await polls(3);
    expect(sink.lines()).toEqual(['three, while stopped', 'four, while stopped']);
    expect(readdirSync(join(dir, 'data', 'checkpoints')).filter((f) => f.endsWith('.json'))).toEqual([
      'file--app.json',
    ]); // a save may be in flight
  });

  it('does not count entries the sink refused as read: they come again after a restart', async () => {
    writeFileSync(file, '');
    await restart();
    appendFileSync(file, 'accepted\n');
    await sink.waitForEntries(1);
    sink.saturate();
    appendFileSync(file, 'refused while saturated\n');
    await polls(3);
    await restart(); // stopped with the line unread or held back: either way not accepted
    await sink.waitForEntries(1);
    expect(sink.lines()).toEqual(['refused while saturated']);
  });

  it('reads a file replaced (rotated) while stopped from its start', async () => {
    writeFileSync(file, '');
    await restart();
    appendFileSync(file, 'old file\n');
    await sink.waitForEntries(1);
    await source!.stop();
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'new file 1\nnew file 2\n');
    await restart();
    await sink.waitForEntries(2);
    expect(sink.lines()).toEqual(['new file 1', 'new file 2']);
  });

  it('refuses to start on a corrupt position file (instead of silently re-reading or skipping), and says so', async () => {
    writeFileSync(file, 'x\n');
    mkdirSync(join(dir, 'data', 'checkpoints'), { recursive: true });
    writeFileSync(join(dir, 'data', 'checkpoints', 'file--app.json'), '{"path": 5');
    source = new FileTailSource({ type: 'file', name: 'app', path: file, dataDir: join(dir, 'data') });
    await expect(source.start(sink)).rejects.toThrow(/not JSON; delete it/);
    expect(source.status()).toMatchObject({ state: 'error', lastError: expect.stringMatching(/file--app\.json/) });
  });

  it('keeps no positions without a data directory, or when turned off', async () => {
    writeFileSync(file, '');
    await tail({ multiline: false });
    appendFileSync(file, 'x\n');
    await sink.waitForEntries(1);
    await source!.stop();
    await restart({ positions: false });
    appendFileSync(file, 'y\n');
    await sink.waitForEntries(1);
    expect(existsSync(join(dir, 'data'))).toBe(false);
    expect(existsSync(join(process.cwd(), 'data', 'checkpoints', 'file--app.json'))).toBe(false);
  });
});
