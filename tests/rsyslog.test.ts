/**
 * A real rsyslogd (Debian's /usr/sbin/rsyslogd) forwards lines to Scorpio's syslog source on loopback.
 * rsyslog reads from its own unix socket (imuxsock, the system socket off), where `logger` writes, and
 * forwards every message three ways: TCP octet-counted RFC 5424, TCP LF-framed RSYSLOG_ForwardFormat
 * (RFC 3164 with an RFC 3339 timestamp), and UDP RFC 5424 (one app only: UDP has no flow control).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { parseSourceConfig } from '../backend/sources/registry';
import { SyslogSource } from '../backend/sources/syslog';
import { CapacitySink } from '../backend/testing/capacity-sink';
import { waitForValue, waitUntil } from '../backend/testing/wait';
import { anomalyLines, normalLines, query, removeDir, startTestService, tempDir, waitScored } from './service-helpers';

const RSYSLOGD = '/usr/sbin/rsyslogd';

const forward = (port: number, protocol: string, extra: string, template: string): string =>
  `action(type="omfwd" target="127.0.0.1" port="${port}" protocol="${protocol}" ${extra} template="${template}" ` +
  `action.resumeRetryCount="-1" action.resumeInterval="1" queue.type="LinkedList" queue.size="10000")`;

function rsyslogInput(dir: string): string[] {
  return [
    `global(workDirectory="${dir}/work" maxMessageSize="64k")`,
    'module(load="imuxsock" SysSock.Use="off")',
    // UseSpecialParser off: the regular parser chain reads logger's RFC 5424 messages as RFC 5424.
    `input(type="imuxsock" Socket="${dir}/log.sock" CreatePath="on" RateLimit.Interval="0" UseSpecialParser="off" ParseHostname="on")`,
  ];
}

function rsyslogConfig(dir: string, ports: { octet: number; lf: number; udp: number }): string {
  const out = forward;
  return [
    ...rsyslogInput(dir),
    out(ports.octet, 'tcp', 'TCP_Framing="octet-counted"', 'RSYSLOG_SyslogProtocol23Format'),
    out(ports.lf, 'tcp', 'TCP_Framing="traditional"', 'RSYSLOG_ForwardFormat'),
    // UDP has no flow control: forward one app only, so a burst fits the socket buffer on a loaded machine.
    `if $programname == 'auth' then {`,
    out(ports.udp, 'udp', '', 'RSYSLOG_SyslogProtocol23Format'),
    '}',
    '',
  ].join('\n');
}

function logger(socket: string, args: string[], lines: string[]): void {
  const r = spawnSync('logger', ['-u', socket, ...args], { input: lines.join('\n') + '\n', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`logger failed: ${r.stderr}`);
}

describe('rsyslog (real rsyslogd 8) forwarding to the syslog source', () => {
  let dir: string;
  let rsyslogd: ChildProcess | null = null;
  let rsyslogOutput = '';
  const sources: SyslogSource[] = [];

  beforeAll(() => {
    if (!existsSync(RSYSLOGD)) throw new Error(`${RSYSLOGD} missing: install Debian's rsyslog (scripts/install-system-deps.sh)`);
    dir = mkdtempSync(path.join(tmpdir(), 'lad-rsyslog-'));
  });

  async function stopRsyslog(): Promise<void> {
    if (rsyslogd && rsyslogd.exitCode === null) {
      const exited = new Promise((r) => rsyslogd!.once('exit', r));
      rsyslogd.kill('SIGTERM');
      await exited;
    }
    rsyslogd = null;
  }

  /** Checks and starts rsyslogd on a config; returns the path of its input socket once it exists. */
  async function startRsyslog(config: string): Promise<string> {
    await stopRsyslog();
    const conf = path.join(dir, 'rsyslog.conf');
    rmSync(path.join(dir, 'work'), { recursive: true, force: true });
    mkdirSync(path.join(dir, 'work'));
    rmSync(path.join(dir, 'log.sock'), { force: true });
    writeFileSync(conf, config);
    const check = spawnSync(RSYSLOGD, ['-N1', '-f', conf], { encoding: 'utf8' });
    expect({ status: check.status, output: check.stderr + check.stdout }).toMatchObject({ status: 0 });
    rsyslogd = spawn(RSYSLOGD, ['-f', conf, '-i', path.join(dir, 'rsyslogd.pid'), '-n'], { stdio: ['ignore', 'pipe', 'pipe'] });
    rsyslogd.stdout!.on('data', (d) => (rsyslogOutput += d));
    rsyslogd.stderr!.on('data', (d) => (rsyslogOutput += d));
    const socket = path.join(dir, 'log.sock');
    await waitUntil(() => existsSync(socket) || rsyslogd!.exitCode !== null, 'rsyslogd socket', 15_000);
    expect(rsyslogd.exitCode).toBeNull();
    return socket;
  }

  afterEach(async () => {
    await stopRsyslog();
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every line over TCP octet-counted, TCP LF-framed and UDP with host/app/severity labels, pausing rsyslog under backpressure', async () => {
    const octetSink = new CapacitySink(50, 1); // saturates: rsyslog's TCP connection is paused until it drains
    const lfSink = new CapacitySink();
    const udpSink = new CapacitySink();
    const octet = new SyslogSource({ type: 'syslog', name: 'rs-octet', tcpPort: 0, udpPort: null, batchLines: 20 });
    const lf = new SyslogSource({ type: 'syslog', name: 'rs-lf', tcpPort: 0, udpPort: null });
    const udp = new SyslogSource({ type: 'syslog', name: 'rs-udp', tcpPort: null, udpPort: 0 });
    sources.push(octet, lf, udp);
    await octet.start(octetSink);
    await lf.start(lfSink);
    await udp.start(udpSink);

    const socket = await startRsyslog(rsyslogConfig(dir, { octet: octet.tcpAddress()!.port, lf: lf.tcpAddress()!.port, udp: udp.udpAddress()!.port }));
    expect(readFileSync(path.join(dir, 'rsyslog.conf'), 'utf8')).toContain('octet-counted');

    const perApp = 100;
    const batches = [
      { app: 'api', args: ['--rfc5424', '-t', 'api', '-p', 'local3.warning'], severity: 'warning', facility: 'local3' },
      { app: 'db', args: ['--rfc3164', '-t', 'db', '-p', 'user.err'], severity: 'err', facility: 'user' },
      { app: 'auth', args: ['--rfc5424', '-t', 'auth', '-p', 'auth.info'], severity: 'info', facility: 'auth' },
    ];
    const expected = new Map<string, { app: string; severity: string; facility: string }>();
    for (const b of batches) {
      const lines = Array.from({ length: perApp }, (_, i) => `${b.app} request ${i} finished in ${i * 3} ms`);
      logger(socket, b.args, lines);
      for (const line of lines) expected.set(line, b);
    }
    const total = expected.size;

    await waitUntil(() => lfSink.entries.length >= total && udpSink.entries.length >= perApp, () => `LF and UDP lines (octet ${octetSink.entries.length}, lf ${lfSink.entries.length}, udp ${udpSink.entries.length})`, 30_000);
    // The octet-counted connection was paused at 50 lines; rsyslog keeps the rest queued until we drain.
    await waitUntil(() => octet.status().state === 'paused', () => `the octet-counted connection to pause (${octetSink.entries.length} lines)`, 30_000);
    expect(octetSink.entries.length).toBeLessThanOrEqual(50);
    octetSink.raise(Infinity);
    await waitUntil(() => octetSink.entries.length >= total, () => `octet-counted lines (${octetSink.entries.length})`, 30_000);

    // rsyslog writes the short host name unless PreserveFQDN is on; logger's RFC 5424 header may carry the full one.
    const hosts = [hostname(), hostname().split('.')[0]];
    for (const [name, sink] of [['octet', octetSink], ['lf', lfSink], ['udp', udpSink]] as const) {
      const want = name === 'udp' ? perApp : total;
      expect({ name, lines: sink.entries.length }).toEqual({ name, lines: want });
      const seen = new Set<string>();
      for (const entry of sink.entries) {
        const sent = expected.get(entry.line);
        expect({ name, line: entry.line, known: sent !== undefined }).toEqual({ name, line: entry.line, known: true });
        expect(entry.labels).toMatchObject({ app: sent!.app, severity: sent!.severity, facility: sent!.facility });
        expect(hosts).toContain(entry.labels.host);
        expect(Math.abs(entry.timestampMs - Date.now())).toBeLessThan(10 * 60_000);
        seen.add(entry.line);
      }
      expect(seen.size).toBe(want); // every line once, none twice
    }
    for (const s of sources) expect(s.droppedLines()).toEqual({ oversize: 0, udp_backpressure: 0, shutdown: 0, sink_error: 0 });
  }, 60_000);

  it('feeds the running service: every forwarded line is ingested and scored (pipeline stats and POST /api/query rate)', async () => {
    const dataDir = tempDir('lad-rsyslog-service-');
    const service = await startTestService(dataDir, {}, (c) => ({
      ...c,
      sources: [parseSourceConfig({ type: 'syslog', name: 'rsyslog', tcpPort: 0, udpPort: null })],
    }));
    try {
      const source = service.pipelines.source('rsyslog') as SyslogSource;
      const port = await waitForValue(() => source.tcpAddress()?.port, 'the syslog source to listen');
      const socket = await startRsyslog(
        [...rsyslogInput(dir), forward(port, 'tcp', 'TCP_Framing="octet-counted"', 'RSYSLOG_SyslogProtocol23Format'), ''].join('\n')
      );
      const lines = [...normalLines.slice(0, 400), ...anomalyLines];
      logger(socket, ['--rfc5424', '-t', 'shop', '-p', 'local0.info'], lines);
      await waitScored(service, 'rsyslog', lines.length);
      const stats = service.pipelines.get('rsyslog')!.stats();
      expect(stats.linesIngested).toBe(lines.length);
      expect(stats.linesScored).toBe(lines.length);
      const result = await query(service.url, [{ refId: 'R', queryType: 'rate', source: 'rsyslog' }]);
      const frame = result.results.R.frames[0];
      const linesField = frame.schema.fields.findIndex((f) => f.name === 'lines');
      const total = (frame.data.values[linesField] as number[]).reduce((a, b) => a + b, 0);
      expect(total).toBe(lines.length);
    } finally {
      await service.close();
      removeDir(dataDir);
    }
  }, 60_000);

  afterEach(() => {
    if (rsyslogOutput.trim()) process.stderr.write(`rsyslogd said:\n${rsyslogOutput}\n`);
  });
});
