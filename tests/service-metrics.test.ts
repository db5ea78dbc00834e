/**
 * What the configured sources report reaches GET /metrics of the running service: a syslog source's own drop
 * counts (an oversize UDP datagram) in lad_dropped_lines_total. Real UDP on loopback, real HTTP scrape.
 */
import { createSocket } from 'node:dgram';
import type { Service } from '../backend/server/service';
import { parseSourceConfig } from '../backend/sources/registry';
import type { SyslogSource } from '../backend/sources/syslog';
import { removeDir, startTestService, tempDir, waitFor } from './service-helpers';

jest.setTimeout(60_000);

let dir: string;
let service: Service;

beforeAll(async () => {
  dir = tempDir('lad-metrics-');
  service = await startTestService(dir, { LAD_TRAIN_LINES: '10', LAD_TRAIN_MIN_LINES: '10' }, (c) => ({
    ...c,
    sources: [parseSourceConfig({ type: 'syslog', name: 'udp-in', tcpPort: null, udpPort: 0, maxMessageBytes: 480 })],
  }));
});

afterAll(async () => {
  await service?.close();
  removeDir(dir);
});

async function sendUdp(payload: string): Promise<void> {
  const source = service.pipelines.source('udp-in') as SyslogSource;
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
