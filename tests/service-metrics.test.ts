/**
 * What the configured sources report reaches GET /metrics of the running service: a syslog source's own drop
 * counts (an oversize UDP datagram, a UDP batch the full queue refused) in lad_dropped_lines_total, its lag in
 * lad_source_lag_seconds, and the scoring rate in lad_lines_per_second. Real UDP on loopback, real HTTP scrape.
 */
import { createSocket } from 'node:dgram';
import type { Service } from '../backend/server/service';
import { parseSourceConfig } from '../backend/sources/registry';
import type { SyslogSource } from '../backend/sources/syslog';
import { normalLines, pushLines, removeDir, startTestService, tempDir, waitFor } from './service-helpers';
import { fetchSourceHealth } from '../backend/testing/health';

jest.setTimeout(60_000);

let dir: string;
let service: Service;

beforeAll(async () => {
  dir = tempDir('lad-metrics-');
  service = await startTestService(dir, { LAD_TRAIN_LINES: '10', LAD_TRAIN_MIN_LINES: '10', LAD_QUEUE_MAX_LINES: '100' }, (c) => ({
    ...c,
    sources: [
      parseSourceConfig({ type: 'syslog', name: 'udp-in', tcpPort: null, udpPort: 0, maxMessageBytes: 480 }),
      parseSourceConfig({ type: 'syslog', name: 'udp-full', tcpPort: null, udpPort: 0 }),
    ],
  }));
});

afterAll(async () => {
  await service?.close();
  removeDir(dir);
});

async function sendUdp(payload: string, sourceName = 'udp-in'): Promise<void> {
  const source = service.pipelines.source(sourceName) as SyslogSource;
  const port = await waitFor(() => source.udpAddress()?.port, 'syslog UDP listener');
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.send(Buffer.from(payload), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  socket.close();
}

const scrape = async (): Promise<string> => (await fetch(`${service.url}/metrics`)).text();

/** The sample value of one series in an exposition text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('an oversize UDP syslog datagram is counted in lad_dropped_lines_total{source,reason="oversize"}', async () => {
  expect(sample(await scrape(), 'lad_dropped_lines_total{source="udp-in",reason="oversize"}')).toBeUndefined();
  await sendUdp(`<13>1 ${new Date().toISOString()} host app - - - ${'x'.repeat(600)}`);
  const dropped = await waitFor(async () => sample(await scrape(), 'lad_dropped_lines_total{source="udp-in",reason="oversize"}'), 'oversize drop in /metrics');
  expect(dropped).toBe(1);
  // A second scrape does not count the same drop again.
  expect(sample(await scrape(), 'lad_dropped_lines_total{source="udp-in",reason="oversize"}')).toBe(1);
});

test('a UDP batch the full queue refuses is lost: counted as dropped (udp_backpressure) and as refused', async () => {
  // One datagram of 150 LF-separated messages is one batch: more than the whole queue (100 lines) takes.
  const messages = Array.from({ length: 150 }, (_, i) => `<13>1 ${new Date().toISOString()} host app - - - burst line ${i}`);
  await sendUdp(messages.join('\n'), 'udp-full');
  const dropped = await waitFor(async () => sample(await scrape(), 'lad_dropped_lines_total{source="udp-full",reason="udp_backpressure"}'), 'udp_backpressure drop in /metrics');
  expect(dropped).toBe(150);
  expect(sample(await scrape(), 'lad_refused_lines_total{source="udp-full"}')).toBe(150);
  expect(service.pipelines.get('udp-full')!.stats().linesIngested).toBe(0);
});

test('a source lag reaches lad_source_lag_seconds; push sources have none; lines/s is exported', async () => {
  // Sent with a timestamp 30 s old: the source's lag is at least that.
  const sentAt = new Date(Date.now() - 30_000).toISOString();
  await sendUdp(`<13>1 ${sentAt} host app - - - user login ok`);
  const lag = await waitFor(async () => sample(await scrape(), 'lad_source_lag_seconds{source="udp-in"}'), 'syslog lag in /metrics');
  expect(lag).toBeGreaterThanOrEqual(30);
  expect((await fetchSourceHealth(service.url, 'udp-in'))!.lagMs! / 1000).toBeGreaterThanOrEqual(30);

  expect((await pushLines(service.url, 'pushed', normalLines.slice(0, 50))).status).toBe(204);
  // The rate is averaged over ten 1-second ticks: once a tick has counted the 50 lines it reads 5 for ~9 s.
  await waitFor(() => (service.pipelines.get('pushed')?.stats().linesPerSecond === 5 ? true : undefined), 'pushed lines counted by the rate');
  const text = await scrape();
  expect(sample(text, 'lad_source_lag_seconds{source="pushed"}')).toBeUndefined();
  expect(sample(text, 'lad_lines_per_second{source="pushed"}')).toBe(5);
});
