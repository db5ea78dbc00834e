import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { CapacitySink } from '../testing/capacity-sink';
import { waitUntil } from '../testing/wait';
import type { DurableSink, LogEntry, LogSink } from './source';
import { SyslogSource } from './syslog';
import { removeDir, tempDir } from '../testing/temp-dir';

function sendTcp(port: number, payload: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(payload));
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

describe('SyslogSource on loopback', () => {
  let source: SyslogSource;
  afterEach(async () => {
    await source?.stop();
  });

  it('receives octet-counted and LF-framed TCP messages with host/app/severity/facility labels', async () => {
    source = new SyslogSource({ type: 'syslog', name: 'sys', tcpPort: 0, udpPort: null, labels: { env: 'test' } });
    const sink = new CapacitySink(Infinity, 1);
    await source.start(sink);
    const m1 = '<11>1 2026-11-25T10:00:00.000Z db1 postgres 42 - - FATAL: out of memory';
    const m2 = '<30>Nov 25 10:00:01 web1 nginx[7]: GET /index.html 200';
    const headerOnly = '<14>1 - h a - - -';
    await sendTcp(source.tcpAddress()!.port, `${Buffer.byteLength(m1)} ${m1}0 ${headerOnly}\n${m2}\n`);
    await waitUntil(() => sink.entries.length === 2, 'two entries');
    expect(sink.entries[0]).toEqual({
      source: 'sys',
      timestampMs: Date.UTC(2026, 10, 25, 10, 0, 0),
      line: 'FATAL: out of memory',
      labels: { env: 'test', host: 'db1', app: 'postgres', severity: 'err', facility: 'user' },
    });
    expect(sink.entries[1].labels).toEqual({ env: 'test', host: 'web1', app: 'nginx', severity: 'info', facility: 'daemon' });
    expect(sink.entries[1].line).toBe('GET /index.html 200');
    expect(source.status()).toMatchObject({ state: 'connected', linesTotal: 2, lastError: null });
  });

  it('receives UDP datagrams and attributes a message without hostname to the peer address', async () => {
    source = new SyslogSource({ type: 'syslog', name: 'u', tcpPort: null, udpPort: 0 });
    const sink = new CapacitySink(Infinity, 1);
    await source.start(sink);
    const client = createSocket('udp4');
    const port = source.udpAddress()!.port;
    await new Promise<void>((r) => client.send('<13>myapp: hello over udp', port, '127.0.0.1', () => r()));
    await new Promise<void>((r) => client.send('<14>1 - h2 a2 - - - two\n<14>1 - h3 a3 - - - three', port, '127.0.0.1', () => r()));
    await waitUntil(() => sink.entries.length === 3, 'three entries');
    client.close();
    expect(sink.entries.map((e) => [e.line, e.labels.host, e.labels.app])).toEqual([
      ['hello over udp', '127.0.0.1', 'myapp'],
      ['two', 'h2', 'a2'],
      ['three', 'h3', 'a3'],
    ]);
  });

  it('pauses a TCP sender while the sink is saturated and loses nothing once it drains', async () => {
    source = new SyslogSource({ type: 'syslog', name: 'bp', tcpPort: 0, udpPort: null, batchLines: 50 });
    const sink = new CapacitySink(100, 1);
    await source.start(sink);
    const total = 5000;
    const payload = Array.from({ length: total }, (_, i) => `<14>1 - h app - - - line ${i}\n`).join('');
    const sent = sendTcp(source.tcpAddress()!.port, payload);
    await waitUntil(() => sink.refused > 0, 'the sink to refuse a batch');
    expect(source.status().state).toBe('paused');
    expect(sink.entries.length).toBeLessThanOrEqual(100);
    while (sink.entries.length < total) {
      const before = sink.entries.length;
      sink.raise(500);
      await waitUntil(() => sink.entries.length > before || sink.entries.length === total, 'progress after drain');
    }
    await sent;
    expect(sink.entries.map((e) => e.line)).toEqual(Array.from({ length: total }, (_, i) => `line ${i}`));
    expect(source.droppedLines()).toEqual({ oversize: 0, udp_backpressure: 0, shutdown: 0, sink_error: 0 });
    await waitUntil(() => source.status().state === 'connected', 'state back to connected');
  });

  it('counts UDP datagrams dropped under backpressure and oversized messages, never silently', async () => {
    source = new SyslogSource({ type: 'syslog', name: 'd', tcpPort: 0, udpPort: 0, maxMessageBytes: 480 });
    const sink = new CapacitySink(0, 1);
    await source.start(sink);
    const client = createSocket('udp4');
    const port = source.udpAddress()!.port;
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((r) => client.send(`<14>1 - h a - - - dropped ${i}`, port, '127.0.0.1', () => r()));
    }
    await new Promise<void>((r) => client.send('<14>1 - h a - - - ' + 'z'.repeat(600), port, '127.0.0.1', () => r()));
    await waitUntil(() => source.droppedLines().udp_backpressure + source.droppedLines().oversize === 6, 'drops counted');
    client.close();
    await sendTcp(source.tcpAddress()!.port, `700 <14>1 - h a - - - ${'q'.repeat(682)}`);
    await waitUntil(() => source.droppedLines().oversize === 2, 'tcp oversize counted');
    expect(sink.entries).toHaveLength(0);
    expect(source.droppedLines().udp_backpressure).toBe(5);
  });

  it('drops and counts (never hoards) lines when the sink fails with something other than backpressure', async () => {
    source = new SyslogSource({ type: 'syslog', name: 'broken', tcpPort: 0, udpPort: null });
    const sink: LogSink = {
      saturated: false,
      push: () => {
        throw new Error('pipeline stopped');
      },
      onDrain: () => () => undefined,
    };
    await source.start(sink);
    await sendTcp(source.tcpAddress()!.port, Array.from({ length: 30 }, (_, i) => `<14>1 - h a - - - l${i}\n`).join(''));
    await waitUntil(() => source.droppedLines().sink_error === 30, 'sink errors counted');
    expect(source.status().lastError).toBe('pipeline stopped');
  });

  it('receives what util-linux logger sends directly: TCP octet-counted RFC 5424, TCP LF RFC 3164, UDP', async () => {
    source = new SyslogSource({ type: 'syslog', name: 'lg', tcpPort: 0, udpPort: 0 });
    const sink = new CapacitySink(Infinity, 1);
    await source.start(sink);
    const tcp = String(source.tcpAddress()!.port);
    const udp = String(source.udpAddress()!.port);
    const run = (args: string[], input: string): void => {
      const r = spawnSync('logger', ['-n', '127.0.0.1', ...args], { input, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`logger failed: ${r.stderr}`);
    };
    run(['-P', tcp, '-T', '--octet-count', '--rfc5424', '-t', 'api', '-p', 'local0.err'], 'first\nsecond\n');
    run(['-P', tcp, '-T', '--rfc3164', '-t', 'cron', '-p', 'cron.notice'], 'job ran\n');
    run(['-P', udp, '-d', '--rfc3164', '-t', 'ntpd', '-p', 'daemon.warning'], 'udp line\n');
    await waitUntil(() => sink.entries.length === 4, `4 entries, got ${sink.entries.length}`);
    const byLine = new Map(sink.entries.map((e) => [e.line, e.labels]));
    expect(byLine.get('first')).toMatchObject({ app: 'api', severity: 'err', facility: 'local0' });
    expect(byLine.get('second')).toMatchObject({ app: 'api', severity: 'err', facility: 'local0' });
    expect(byLine.get('job ran')).toMatchObject({ app: 'cron', severity: 'notice', facility: 'cron' });
    expect(byLine.get('udp line')).toMatchObject({ app: 'ntpd', severity: 'warning', facility: 'daemon' });
  });

  it('bounds TCP connections: one past maxConnections is closed, a slot frees when a sender leaves', async () => {
    source = new SyslogSource({ type: 'syslog', name: 'mc', tcpPort: 0, udpPort: null, maxConnections: 1 });
    const sink = new CapacitySink(Infinity, 1);
    await source.start(sink);
    const port = source.tcpAddress()!.port;
    const a = connect(port, '127.0.0.1');
    await new Promise<void>((r) => a.once('connect', () => r()));
    a.write('<14>1 - h a - - - from a\n');
    await waitUntil(() => sink.entries.length === 1, 'line from a');
    const b = connect(port, '127.0.0.1');
    b.on('error', () => undefined);
    b.write('<14>1 - h b - - - from b\n');
    await new Promise((r) => b.once('close', r)); // the server closes the connection over the limit
    await new Promise<void>((r) => a.end(() => r()));
    await waitUntil(() => source.openConnections === 0, 'a to leave');
    await sendTcp(port, '<14>1 - h c - - - from c\n');
    await waitUntil(() => sink.entries.length === 2, 'line from c');
    expect(sink.entries.map((e) => e.line)).toEqual(['from a', 'from c']);
  });

  describe('over TLS (RFC 5425) with certificates made by openssl', () => {
    let certDir: string;
    const pem = (name: string): string => path.join(certDir, name);
    beforeAll(() => {
      certDir = tempDir('lad-syslog-tls-');
      for (const who of ['server', 'client']) {
        const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${who}`,
          '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', pem(`${who}.key`), '-out', pem(`${who}.crt`)], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
      }
    });
    afterAll(() => removeDir(certDir));

    function sendTls(port: number, payload: string, withClientCert: boolean): Promise<void> {
      return new Promise((resolve) => {
        const socket = tlsConnect({
          port,
          host: '127.0.0.1',
          ca: readFileSync(pem('server.crt')),
          ...(withClientCert ? { cert: readFileSync(pem('client.crt')), key: readFileSync(pem('client.key')) } : {}),
        });
        socket.on('secureConnect', () => socket.end(payload));
        socket.on('error', () => resolve()); // a refused handshake ends here
        socket.on('close', () => resolve());
      });
    }

    it('receives octet-counted frames over TLS and refuses senders without a client certificate when required', async () => {
      source = new SyslogSource({
        type: 'syslog',
        name: 'tls',
        tcpPort: null,
        udpPort: null,
        tls: { port: 0, certFile: pem('server.crt'), keyFile: pem('server.key'), caFile: pem('client.crt'), requireClientCert: true },
      });
      const sink = new CapacitySink(Infinity, 1);
      await source.start(sink);
      const port = source.tlsAddress()!.port;
      const msg = '<13>1 2026-11-25T10:00:00Z h1 vault - - - sealed';
      await sendTls(port, `${Buffer.byteLength(msg)} ${msg}`, true);
      await waitUntil(() => sink.entries.length === 1, 'the TLS line');
      expect(sink.entries[0]).toMatchObject({ line: 'sealed', labels: { host: 'h1', app: 'vault', severity: 'notice' } });
      await sendTls(port, `${Buffer.byteLength(msg)} ${msg}`, false);
      await waitUntil(() => (source.status().lastError ?? '').startsWith('TLS handshake'), 'the refused handshake noted');
      expect(sink.entries).toHaveLength(1);
    });
  });

  it('with a durable sink (the spool) reads no further while a batch is being spooled, and a stop waits for it', async () => {
    source = new SyslogSource({ type: 'syslog', name: 'spooled', tcpPort: 0, udpPort: null, batchLines: 10 });
    const spooled: LogEntry[] = [];
    const pending: (() => void)[] = [];
    const sink: DurableSink = {
      saturated: false,
      onDrain: () => () => undefined,
      push: () => {
        throw new Error('a durable sink is written with pushDurably');
      },
      pushDurably: (entries) =>
        new Promise<void>((resolve) => {
          pending.push(() => {
            spooled.push(...entries);
            resolve();
          });
        }),
    };
    await source.start(sink);
    const socket = connect(source.tcpAddress()!.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(Array.from({ length: 25 }, (_, i) => `<14>1 - h app - - - line ${i}\n`).join(''));
    await waitUntil(() => pending.length === 1, 'the first batch handed to the spool');
    // one batch in flight at a time: nothing more is handed over until the spool answers
    await new Promise((r) => setTimeout(r, 100));
    expect(pending).toHaveLength(1);
    expect(source.status().state).toBe('paused');
    pending.shift()!();
    await waitUntil(() => pending.length === 1, 'the second batch');
    // stop while the second batch is being spooled: it is read, so it must still get to disk
    // (and so are the lines read after it, if the sink takes them at once)
    let done = false;
    const stopped = source.stop().then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    while (!done) {
      pending.shift()?.();
      await new Promise((r) => setTimeout(r, 10));
    }
    await stopped;
    socket.destroy();
    expect(spooled.map((e) => e.line)).toEqual(Array.from({ length: 25 }, (_, i) => `line ${i}`));
    expect(source.droppedLines().shutdown).toBe(0);
  });

  it('rejects an invalid configuration with the field named', () => {
    expect(() => new SyslogSource({ type: 'syslog', name: 'x', tcpPort: 70000 })).toThrow(/tcpPort/);
  });
});
