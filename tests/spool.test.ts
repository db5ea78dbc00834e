/**
 * The write-ahead spool against the built service as a child process (spool on): what a push was answered 204
 * for is scored exactly once, across a kill -9 in the middle of a push flood and across a SIGTERM while the
 * lines sit in the first training window; a torn spool tail is cut at start-up, with a log line. Lines are
 * counted by content in the results store's files after a clean stop.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import type { HealthResponse, SourceHealth } from '../backend/api/health';
import { startBuiltServer, type BuiltServer } from '../backend/testing/built-server';
import { waitForValue } from '../backend/testing/wait';
import { removeDir, tempDir } from './service-helpers';

const FLOOD_MS = 3000;
const BATCH = 500;

function env(dataDir: string, configFile?: string): Record<string, string> {
  return {
    ...(configFile ? { LAD_CONFIG: configFile } : {}),
    LAD_DATA_DIR: dataDir,
    LAD_DEMO: 'false',
    LAD_SPOOL: 'true',
    LAD_TRAIN_LINES: '300',
    LAD_TRAIN_IN_WORKER: 'false',
    LAD_QUEUE_MAX_LINES: '50000',
    LAD_LOG_LEVEL: 'info',
  };
}

/** How often each line of `source` is in the results store's files (read after a clean stop). */
function storedLineCounts(dataDir: string, source: string): Map<string, number> {
  const counts = new Map<string, number>();
  const root = path.join(dataDir, 'results');
  for (const dir of readdirSync(root)) {
    const meta = JSON.parse(readFileSync(path.join(root, dir, 'source.json'), 'utf8')) as { name: string };
    if (meta.name !== source) continue;
    for (const file of readdirSync(path.join(root, dir)).filter((f) => f.startsWith('lines-'))) {
      const records = readFileSync(path.join(root, dir, file), 'utf8').split('\n');
      records.forEach((text, i) => {
        if (text === '') return;
        // a kill -9 can cut the results store's last write of a file short (the store skips that record too)
        const record = i === records.length - 1 ? parseOrNull(text) : (JSON.parse(text) as { l: string });
        if (record) counts.set(record.l, (counts.get(record.l) ?? 0) + 1);
      });
    }
  }
  return counts;
}

function parseOrNull(text: string): { l: string } | null {
  try {
    return JSON.parse(text) as { l: string };
  } catch {
    return null;
  }
}

async function sourceHealth(url: string, source: string): Promise<SourceHealth | undefined> {
  const res = await fetch(`${url}/api/health`);
  const body = (await res.json()) as { sources: SourceHealth[] };
  return body.sources.find((s) => s.name === source);
}

/** Waits until the source has a model and nothing is waiting in its queue. */
function allScored(server: BuiltServer, source: string, timeoutMs = 60_000): Promise<SourceHealth> {
  return waitForValue(
    async () => {
      const h = await sourceHealth(server.url, source).catch(() => undefined);
      return h && h.modelState === 'ready' && h.queueDepth === 0 && h.linesScored === h.linesIngested ? h : undefined;
    },
    () => `${source} scored: ${server.output().slice(-2000)}`,
    timeoutMs,
    100
  );
}

function push(url: string, source: string, lines: string[]): Promise<Response> {
  return fetch(`${url}/api/push?source=${source}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines.join('\n') });
}

/** A TCP port free right now (the syslog source needs a fixed one across the restart). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Sends `payload` on one TCP connection and closes it. */
function sendTcp(port: number, payload: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(payload));
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/** Unique, log-like lines: the n-th of client c. */
const line = (c: number, n: number): string => `GET /api/items/${c}-${n} 200 ${n % 97}ms user=u${n % 13} client=${c}`;

describe('write-ahead spool, built service', () => {
  let dir: string;
  let server: BuiltServer | null = null;

  beforeEach(() => {
    dir = tempDir('lad-spool-');
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = null;
    removeDir(dir);
  });

  it('kill -9 during a push flood, then a restart: every line answered 204 is scored exactly once', async () => {
    const data = path.join(dir, 'data');
    // Checkpoints at about 1.3 s and 2.6 s, the kill at about 3 s: the results store wrote lines since the last one.
    const configFile = path.join(dir, 'lad.json');
    writeFileSync(configFile, JSON.stringify({ spool: { checkpointIntervalMs: 1300 } }));
    server = await startBuiltServer({ env: env(data, configFile), keepOutputChars: 6000 });
    const first = server;
    const acked: string[] = [];
    let refused = 0;
    let failed = 0;
    const pusher = async (c: number): Promise<void> => {
      for (let n = 0; ; n += BATCH) {
        const lines = Array.from({ length: BATCH }, (_, i) => line(c, n + i));
        let res: Response;
        try {
          res = await push(first.url, 'flood', lines);
          await res.arrayBuffer();
        } catch {
          failed += 1; // the kill: no answer, so not acknowledged
          return;
        }
        if (res.status === 204) acked.push(...lines);
        else if (res.status === 429) refused += 1;
        else throw new Error(`unexpected ${res.status}: ${await res.text()}`);
      }
    };
    const pushers = [0, 1, 2, 3].map(pusher);
    await new Promise((r) => setTimeout(r, FLOOD_MS));
    await first.stop('SIGKILL');
    await Promise.all(pushers);
    server = null;
    expect(acked.length).toBeGreaterThan(10_000);

    server = await startBuiltServer({ env: env(data, configFile), keepOutputChars: 6000 });
    const opened = server.output().split('\n').find((l) => l.includes('spool opened')) ?? '';
    process.stdout.write(`${opened}\n`);
    await allScored(server, 'flood');
    expect(await server.stop('SIGTERM')).toBe(0);
    server = null;

    const counts = storedLineCounts(data, 'flood');
    const lost = acked.filter((l) => !counts.has(l)).length;
    const twice = [...counts.values()].filter((n) => n > 1).length;
    process.stdout.write(`spool kill -9: ${acked.length} lines acknowledged (4 clients, ${refused} batches 429, ${failed} cut by the kill); ${counts.size} distinct lines scored; lost ${lost}, scored twice ${twice}\n`);
    // the kill left work for both halves of the recovery: lines to replay and lines scored after the checkpoint
    expect(opened).toMatch(/"replayLines":[1-9]/);
    expect(opened).toMatch(/"scoredSinceCheckpoint":[1-9]/);
    expect(lost).toBe(0);
    expect(twice).toBe(0);
    expect(acked.every((l) => counts.get(l) === 1)).toBe(true);
  }, 150_000);

  it('syslog over TCP goes through the spool: lines it read are scored exactly once after a kill -9 and a restart', async () => {
    const data = path.join(dir, 'data');
    const port = await freePort();
    const configFile = path.join(dir, 'lad.json');
    writeFileSync(configFile, JSON.stringify({ sources: [{ type: 'syslog', name: 'sys', tcpPort: port, udpPort: null }] }));
    // A training window it cannot fill: every line read is still unscored at the kill.
    server = await startBuiltServer({ env: { ...env(data, configFile), LAD_TRAIN_LINES: '1000000', LAD_TRAIN_SECONDS: '3600' }, keepOutputChars: 6000 });
    const sent = Array.from({ length: 3000 }, (_, n) => line(5, n));
    await sendTcp(port, sent.map((l) => `<14>1 - host app - - - ${l}\n`).join(''));
    const first = server;
    await waitForValue(async () => ((await metric(first.url, 'lad_spool_lines_appended_total')) >= sent.length ? true : undefined), 'the syslog lines spooled');
    await first.stop('SIGKILL');
    server = await startBuiltServer({ env: env(data, configFile), keepOutputChars: 6000 });
    expect(server.output()).toMatch(/"replayLines":3000/);
    expect(await metric(server.url, 'lad_spool_replayed_lines_total')).toBe(3000);
    await allScored(server, 'sys');
    expect(await server.stop('SIGTERM')).toBe(0);
    server = null;
    const counts = storedLineCounts(data, 'sys');
    expect(sent.filter((l) => counts.get(l) !== 1)).toEqual([]);
    expect(counts.size).toBe(sent.length);
  }, 90_000);

  it('SIGTERM in the first training window keeps the lines; a torn tail is cut with a log line; all are scored once after the restart', async () => {
    const data = path.join(dir, 'data');
    server = await startBuiltServer({ env: env(data) });
    const before = Array.from({ length: 150 }, (_, n) => line(9, n));
    expect((await push(server.url, 'window', before)).status).toBe(204);
    expect((await sourceHealth(server.url, 'window'))?.modelState).toBe('collecting');
    expect(await server.stop('SIGTERM')).toBe(0);
    server = null;

    // A record cut by a crash: a header promising more bytes than follow.
    const spoolDir = path.join(data, 'spool');
    const segments = readdirSync(spoolDir).filter((f) => f.endsWith('.spool')).sort();
    const last = path.join(spoolDir, segments[segments.length - 1]);
    const torn = Buffer.alloc(20);
    torn.writeUInt32LE(5000, 0);
    appendFileSync(last, torn);

    server = await startBuiltServer({ env: env(data) });
    expect(server.output()).toMatch(/spool: torn tail truncated/);
    expect(server.output()).toMatch(/"replayLines":150/);
    const after = Array.from({ length: 200 }, (_, n) => line(9, 1000 + n));
    expect((await push(server.url, 'window', after)).status).toBe(204);
    const h = await allScored(server, 'window');
    expect(h.linesScored).toBe(350);
    expect(await server.stop('SIGTERM')).toBe(0);
    server = null;

    const counts = storedLineCounts(data, 'window');
    expect([...before, ...after].every((l) => counts.get(l) === 1)).toBe(true);
    expect(counts.size).toBe(350);
  }, 90_000);

  // A real full disk: a small tmpfs (needs mount, i.e. root in a container; skipped, and said so, without it).
  it('a full disk answers 503 naming ENOSPC, never 204, and pushes are taken again once space returns, with no torn record', async () => {
    const mnt = path.join(dir, 'mnt');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]).status !== 0) {
      process.stdout.write('spool full disk: skipped, mount -t tmpfs is not allowed here\n');
      return;
    }
    try {
      const data = path.join(mnt, 'data');
      server = await startBuiltServer({ env: env(data) });
      const { bavail, bsize } = statfsSync(mnt);
      const filler = path.join(mnt, 'filler');
      writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 256 * 1024)));
      const statuses: number[] = [];
      let refusal = '';
      for (let k = 0; k < 40 && refusal === ''; k++) {
        const res = await push(server.url, 'full', Array.from({ length: 1000 }, (_, n) => line(7, k * 1000 + n)));
        statuses.push(res.status);
        if (res.status === 503) refusal = ((await res.json()) as { error: string }).error;
        else await res.arrayBuffer();
      }
      expect(statuses.every((s) => s === 204 || s === 503)).toBe(true);
      expect(refusal).toMatch(/spool.*ENOSPC/);
      // health says degraded with the reason, /metrics counts the failed writes
      const degraded = (await (await fetch(`${server.url}/api/health`)).json()) as HealthResponse;
      expect(degraded.status).toBe('degraded');
      expect(degraded.problems.join(' ')).toMatch(/spool cannot write.*ENOSPC/);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(Number(/^lad_spool_write_errors_total\{what="write"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      expect(Number(/^lad_spool_bytes (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      expect(Number(/^lad_spool_commit_duration_seconds_count (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      rmSync(filler);
      const again = await push(server.url, 'full', [line(7, 999_999)]);
      expect(again.status).toBe(204);
      // ... and back to ok once writes succeed again (the results store's next flush, every 250 ms)
      await waitForValue(async () => {
        const health = (await (await fetch(`${server!.url}/api/health`)).json()) as HealthResponse;
        return health.status === 'ok' ? health : undefined;
      }, 'health ok again');
      process.stdout.write(`spool full disk: ${statuses.filter((s) => s === 204).length} pushes 204, then 503: ${refusal}; 204 again once space returned\n`);
      expect(await server.stop('SIGTERM')).toBe(0);
      server = await startBuiltServer({ env: env(data) });
      expect(server.output()).toMatch(/spool opened/);
      expect(server.output()).not.toMatch(/torn tail/);
      await server.stop('SIGTERM');
      server = null;
    } finally {
      await server?.stop('SIGKILL');
      server = null;
      spawnSync('umount', ['-l', mnt]);
    }
  }, 90_000);
});
