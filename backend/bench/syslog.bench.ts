/**
 * Syslog TCP ingestion, end to end: the built server (backend/dist/server/main.js, pinned to ctx.cpu when
 * taskset exists) runs a syslog source; this process sends RFC 5424 octet-counted frames over TCP connections
 * as fast as the sockets take them (the source pauses a connection while the pipeline queue is full, so the
 * sender is throttled by TCP itself). Measured: lines sent ÷ the time from the first byte until the service
 * has scored all of them. Also the framer + parser alone, in this process (the source's own cost per line).
 */
import { readFileSync, writeFileSync } from 'fs';
import { connect } from 'net';
import { join } from 'path';
import type { SourceHealth } from '../api/health';
import { SyslogFramer } from '../sources/syslog-framing';
import { parseSyslog } from '../sources/syslog-parse';
import { startBuiltServer } from '../testing/built-server';
import { freePort } from '../testing/loopback';
import { waitForValue } from '../testing/wait';
import type { BenchContext, BenchRow } from './bench-api';
import { tasksetAvailable } from './measure';
import { fetchSourceHealth } from '../testing/health';

const TARGET_LINES_PER_SECOND = 30_000;
const CONNECTIONS = 4;
const TRAIN_LINES = 2000;

/** The server is polled while it works flat out: a failed request is a miss, not a failure. */
const waitUntil = <T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> =>
  waitForValue(() => check().catch(() => undefined), what, timeoutMs, 20);

/** Octet-counted RFC 5424 frames of the given lines, as one buffer. */
function frames(lines: string[], app: string): Buffer {
  const parts: string[] = [];
  for (const line of lines) {
    const msg = `<134>1 2026-11-25T10:00:00.000Z web1 ${app} 4242 - - ${line}`;
    parts.push(`${Buffer.byteLength(msg)} ${msg}`);
  }
  return Buffer.from(parts.join(''));
}

/** Writes `buffer` `times` times on one connection, respecting the socket's backpressure. */
async function send(port: number, buffer: Buffer, times: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('error', reject));
  for (let i = 0; i < times; i++) {
    if (!socket.write(buffer)) await new Promise((r) => socket.once('drain', r));
  }
  await new Promise<void>((resolve) => socket.end(() => resolve()));
}

function parseOnly(lines: string[]): BenchRow {
  const buffer = frames(lines, 'shop');
  const rounds = Math.max(1, Math.round(200_000 / lines.length));
  let count = 0;
  let checksum = 0;
  const framer = new SyslogFramer(64 * 1024, {
    onMessage: (text) => {
      const m = parseSyslog(text);
      checksum += m.message.length;
      count++;
    },
    onOversize: () => undefined,
  });
  const started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    // 64 KiB chunks, as a socket delivers them.
    for (let off = 0; off < buffer.length; off += 65536) framer.push(buffer.subarray(off, off + 65536));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    name: 'syslog framer + RFC 5424 parser alone (in process)',
    value: Math.round(count / seconds),
    unit: 'lines/s',
    note: `${count.toLocaleString('en-US')} frames in 64 KiB chunks (checksum ${checksum})`,
  };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const demo = join(ctx.repoRoot, 'backend', 'demo');
  const normal = readFileSync(join(demo, 'webshop.txt'), 'utf8').trim().split('\n');
  const anomalies = readFileSync(join(demo, 'anomalies.txt'), 'utf8').trim().split('\n');
  const rows: BenchRow[] = [parseOnly(normal)];

  // One repeated 1,000-line block with one anomaly, like the HTTP ingest bench.
  const block = Array.from({ length: 1000 }, (_, i) => (i === 500 ? anomalies[3] : normal[(i * 7) % normal.length]));
  const total = Math.max(100_000, Math.min(ctx.lines, 1_000_000));
  const perConnection = Math.ceil(total / CONNECTIONS / block.length);
  const sent = perConnection * CONNECTIONS * block.length;

  const syslogPort = await freePort();
  const configFile = join(ctx.tmpDir, 'lad.json');
  writeFileSync(configFile, JSON.stringify({ sources: [{ type: 'syslog', name: 'bench-syslog', tcpPort: syslogPort, udpPort: null }] }));
  const server = await startBuiltServer({
    launcher: ctx.cpu !== null && tasksetAvailable() ? ['taskset', '-c', String(ctx.cpu)] : [],
    env: {
      LAD_CONFIG: configFile,
      LAD_DATA_DIR: join(ctx.tmpDir, 'data'),
      LAD_DEMO: 'false',
      LAD_TRAIN_LINES: String(TRAIN_LINES),
      LAD_QUEUE_MAX_LINES: '200000',
      LAD_RETRAIN_INTERVAL_SECONDS: '0',
      LAD_LOG_LEVEL: 'info',
    },
  });
  const url = server.url;
  const health = (): Promise<SourceHealth | undefined> => fetchSourceHealth(url, 'bench-syslog');
  try {
    await waitUntil(async () => ((await health())?.state === 'connected' ? true : undefined), 30_000, 'the syslog source');
    ctx.log(`syslog: training the first model (${TRAIN_LINES} lines over syslog)`);
    await send(syslogPort, frames(normal.slice(0, TRAIN_LINES), 'shop'), 1);
    await waitUntil(async () => ((await health())?.modelState === 'ready' ? true : undefined), 180_000, 'the first model');
    const before = (await health())!;

    ctx.log(`syslog: sending ${sent.toLocaleString('en-US')} lines over ${CONNECTIONS} TCP connections`);
    const payload = frames(block, 'shop');
    const started = Date.now();
    await Promise.all(Array.from({ length: CONNECTIONS }, () => send(syslogPort, payload, perConnection)));
    const sendSeconds = (Date.now() - started) / 1000;
    const target = before.linesScored + sent;
    const done = await waitUntil(async () => {
      const h = await health();
      return h && h.linesScored >= target ? Date.now() : undefined;
    }, 900_000, 'every line to be scored');
    const after = (await health())!;
    rows.push({
      name: 'syslog TCP (RFC 5424, octet-counted) → scored, end to end',
      value: Math.round(sent / ((done - started) / 1000)),
      unit: 'lines/s',
      target: { op: '>=', value: TARGET_LINES_PER_SECOND },
      note: `${sent.toLocaleString('en-US')} lines over ${CONNECTIONS} connections, written by the senders in ${sendSeconds.toFixed(1)} s (the source pauses TCP while the queue is full), ingested ${(after.linesIngested - before.linesIngested).toLocaleString('en-US')}, server pinned to ${ctx.cpu ?? 'no'} core`,
    });
    return rows;
  } finally {
    await server.stop();
  }
}
