import pino from 'pino';
import { startNatsServer, type NatsServer } from '../../../tests/cluster/nats-server';
import { PushRequestError } from '../../sources/push-http';
import { BackpressureError, type LogEntry } from '../../sources/source';
import { connectNats, type NatsLink } from '../nats/connection';
import { ensureClusterResources, type ClusterResources } from '../nats/resources';
import { LINES_STREAM, linesSubject } from '../ports';
import { deliver } from '../../sources/deliver';
import { JetStreamQueue } from './jetstream';
import { sourceSink } from './source-sink';

const logger = pino({ level: 'silent' });
const lines = (source: string, n: number, from = 0): LogEntry[] =>
  Array.from({ length: n }, (_, i) => ({ source, timestampMs: 1_700_000_000_000 + i, line: `line ${from + i} of ${source} ${'x'.repeat(100)}`, labels: {} }));

describe('JetStream ingest queue', () => {
  let nats: NatsServer;
  let link: NatsLink;
  let res: ClusterResources;

  beforeAll(async () => {
    nats = await startNatsServer();
    link = await connectNats(nats.url, logger, 'test');
    res = await ensureClusterResources(link.nc, 5, { maxAgeMs: 3600_000, maxBytes: 256 * 1024 });
  });
  afterAll(async () => {
    await link?.close();
    await nats?.stop();
  });

  it('stores every line of a batch on its source subject before resolving, and a full stream is backpressure', async () => {
    const q = new JetStreamQueue({ link, logger });
    await q.pushDurably([...lines('web', 300), ...lines('db/1', 200)]);
    const info = await res.jsm.streams.info(LINES_STREAM, { subjects_filter: '>' });
    expect(info.state.messages).toBe(500);
    expect(info.state.subjects?.[linesSubject('web')]).toBe(300);
    expect(info.state.subjects?.[linesSubject('db/1')]).toBe(200);
    // 256 KiB of ~170-byte lines: a few thousand more do not fit
    const err = await q.pushDurably(lines('web', 3000, 300)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackpressureError);
    expect((err as Error).message).toMatch(/stream is full/);
    await res.jsm.streams.purge(LINES_STREAM);
  });

  it('answers 503 naming NATS while nats-server is down and recovers when it returns', async () => {
    const q = new JetStreamQueue({ link, logger, ackTimeoutMs: 1000 });
    await nats.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (link.downReason() === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const err = await q.pushDurably(lines('web', 10)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushRequestError);
    expect((err as PushRequestError).status).toBe(503);
    expect((err as Error).message).toMatch(/NATS at 127\.0\.0\.1:\d+ is unreachable/);
    await nats.restart();
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await q.pushDurably(lines('web', 10)).then(() => true, () => false);
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ok).toBe(true);
  });

  it('a configured source (through sourceSink and deliver) waits while NATS is away and delivers once it is back', async () => {
    const q = new JetStreamQueue({ link, logger, ackTimeoutMs: 1000 });
    await nats.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (link.downReason() === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const refusals: string[] = [];
    const delivered = deliver(sourceSink(q), lines('tail', 5), { onRefused: (err) => refusals.push(err.message) });
    await new Promise((r) => setTimeout(r, 1500));
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals[0]).toMatch(/NATS at 127\.0\.0\.1:\d+ is unreachable/);
    await nats.restart();
    await expect(delivered).resolves.toBe(true);
    const info = await res.jsm.streams.info(LINES_STREAM, { subjects_filter: '>' });
    expect(info.state.subjects?.[linesSubject('tail')]).toBe(5);
  });
});

describe('the lines stream', () => {
  it('is made as large as the JetStream server holds when asked for more, with a warning', async () => {
    const nats = await startNatsServer();
    const link = await connectNats(nats.url, logger, 'test');
    try {
      const warnings: string[] = [];
      const res = await ensureClusterResources(link.nc, 5, { maxAgeMs: 3600_000, maxBytes: 2 ** 50 }, (m) => warnings.push(m));
      const info = await res.jsm.streams.info(LINES_STREAM);
      expect(info.config.max_bytes).toBeLessThan(2 ** 50);
      expect(info.config.max_bytes).toBeGreaterThan(0);
      expect(warnings.join('\n')).toMatch(/cannot hold 1125899906842624 bytes/);
    } finally {
      await link.close();
      await nats.stop();
    }
  });
});
