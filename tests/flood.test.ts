/**
 * Flood against the running service (the built backend as a child process, loopback only): HTTP push
 * clients that ignore Retry-After and a syslog TCP sender writing as fast as the socket lets it, both far
 * faster than scoring. The service must answer 429 + Retry-After instead of buffering, pause the syslog
 * connection, keep its RSS under a bound, and lose no line it accepted (accepted = ingested = scored).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import type { SourceHealth } from '../backend/api/health';
import { startBuiltServer, type BuiltServer } from '../backend/testing/built-server';
import { freePort } from '../backend/testing/loopback';
import { waitForValue } from '../backend/testing/wait';
import { removeDir, tempDir } from './service-helpers';

const DEMO = path.join(__dirname, '..', 'backend', 'demo', 'webshop.txt');
/** Bound on the service's resident memory during the flood (idle ~70 MB; the queue bound is what keeps it flat). */
const RSS_BOUND_MB = 450;
const QUEUE_MAX_LINES = 5000;
const FLOOD_MS = 12_000;
const MAX_REQUESTS = 1500;
const SYSLOG_LINES = 60_000;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Health and /metrics are polled while the service is flooded: a failed request is a miss, not a failure. */
const waitFor = <T>(check: () => Promise<T | undefined>, what: () => string, timeoutMs: number): Promise<T> =>
  waitForValue(() => check().catch(() => undefined), what, timeoutMs, 100);

describe('flood against the running service (push endpoint and syslog TCP)', () => {
  let dir: string;
  let server: BuiltServer | null = null;

  beforeAll(() => {
    dir = tempDir('lad-flood-');
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(dir);
  });

  it('answers 429 + Retry-After, pauses syslog, keeps RSS bounded, and loses no accepted line', async () => {
    const syslogPort = await freePort();
    const configFile = path.join(dir, 'lad.json');
    writeFileSync(configFile, JSON.stringify({ sources: [{ type: 'syslog', name: 'flood-syslog', tcpPort: syslogPort, udpPort: null }] }));
    server = await startBuiltServer({
      env: {
        LAD_CONFIG: configFile,
        LAD_DATA_DIR: path.join(dir, 'data'),
        LAD_DEMO: 'false',
        LAD_TRAIN_LINES: '300',
        LAD_TRAIN_IN_WORKER: 'false',
        LAD_QUEUE_MAX_LINES: String(QUEUE_MAX_LINES),
        LAD_LOG_LEVEL: 'info',
      },
      keepOutputChars: 4000,
    });
    const { child, url } = server;
    const output = (): string => server!.output();
    const health = async (): Promise<Map<string, SourceHealth>> => {
      const res = await fetch(`${url}/api/health`);
      const body = (await res.json()) as { sources: SourceHealth[] };
      return new Map(body.sources.map((s) => [s.name, s]));
    };
    await waitFor(async () => ((await health()).get('flood-syslog')?.state === 'connected' ? true : undefined), () => `service up: ${output()}`, 20_000);
    const pid = child.pid!;
    const rssAtStart = rssMb(pid);

    const normal = readFileSync(DEMO, 'utf8').trim().split('\n');
    const body = (from: number, n: number): string => Array.from({ length: n }, (_, i) => normal[(from + i) % normal.length]).join('\n');

    // RSS sampled through the flood.
    let maxRss = rssAtStart;
    const syslogStates = new Set<string>();
    const sampler = setInterval(() => {
      if (child?.exitCode !== null) return;
      maxRss = Math.max(maxRss, rssMb(pid));
      health()
        .then((h) => syslogStates.add(h.get('flood-syslog')?.state ?? 'missing'))
        .catch(() => undefined);
    }, 100);

    // Syslog TCP sender: octet-counted frames, writing whenever the socket takes more (kernel + paused source = backpressure).
    let syslogSent = 0;
    const socket: Socket = connect(syslogPort, '127.0.0.1');
    await new Promise<void>((r, j) => socket.once('connect', () => r()).once('error', j));
    const syslogDone = (async () => {
      while (syslogSent < SYSLOG_LINES) {
        let chunk = '';
        for (let k = 0; k < 500 && syslogSent < SYSLOG_LINES; k++, syslogSent++) {
          const msg = `<14>1 2026-11-25T10:00:00.000Z web1 shop - - - ${normal[syslogSent % normal.length]}`;
          chunk += `${Buffer.byteLength(msg)} ${msg}`;
        }
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
      }
      await new Promise<void>((r) => socket.end(() => r()));
    })();

    // HTTP push clients that ignore Retry-After (bounded by count and time).
    let accepted = 0;
    let rejected = 0;
    let requests = 0;
    const retryAfter = new Set<string>();
    const floodUntil = Date.now() + FLOOD_MS;
    const pusher = async (id: number): Promise<void> => {
      while (Date.now() < floodUntil && requests < MAX_REQUESTS) {
        requests += 1;
        const n = 1000;
        const res = await fetch(`${url}/api/push?source=flood-push`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: body(id * 7919 + requests, n) });
        await res.arrayBuffer();
        if (res.status === 204) accepted += n;
        else if (res.status === 429) {
          rejected += n;
          retryAfter.add(res.headers.get('retry-after') ?? 'missing');
          await new Promise((r) => setTimeout(r, 10));
        } else throw new Error(`unexpected ${res.status}`);
      }
    };
    await Promise.all([0, 1, 2, 3].map(pusher));
    await syslogDone;

    // Everything accepted is ingested and, once the backlog drains, scored.
    const final = await waitFor(
      async () => {
        const h = await health();
        const p = h.get('flood-push');
        const s = h.get('flood-syslog');
        return p && s && p.linesScored === accepted && s.linesScored === SYSLOG_LINES ? h : undefined;
      },
      () => `backlog to drain: accepted ${accepted}, syslog ${SYSLOG_LINES}; ${output()}`,
      40_000
    );
    clearInterval(sampler);
    const push = final.get('flood-push')!;
    const sys = final.get('flood-syslog')!;
    process.stdout.write(
      `flood: ${requests} pushes, ${accepted} lines accepted, ${rejected} refused (429, Retry-After ${[...retryAfter].join('/')}); ` +
        `syslog ${SYSLOG_LINES} lines (states ${[...syslogStates].join('/')}); RSS ${rssAtStart.toFixed(0)} → max ${maxRss.toFixed(0)} MB\n`
    );

    expect(rejected).toBeGreaterThan(0); // the flood outran scoring and was told to back off
    expect([...retryAfter].every((v) => /^\d+$/.test(v) && Number(v) >= 1)).toBe(true);
    expect(push.linesIngested).toBe(accepted);
    expect(push.linesScored).toBe(accepted);
    expect(syslogStates.has('paused')).toBe(true); // the TCP connection was held back, not buffered
    expect(sys.linesIngested).toBe(SYSLOG_LINES);
    expect(sys.linesScored).toBe(SYSLOG_LINES);
    expect(maxRss).toBeLessThan(RSS_BOUND_MB);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/lad_refused_lines_total\{source="flood-push"\} [1-9]/);
    // Refused lines were retried, paused syslog TCP lost none: nothing counts as dropped.
    expect(metrics).not.toMatch(/lad_dropped_lines_total\{source="flood-(push|syslog)"/);
  }, 90_000);
});
