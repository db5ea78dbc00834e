/**
 * The bundled demo source: warm-up burst, steady replay stamped with the current time, injected anomalies,
 * pause on backpressure without losing lines; and end to end in the service, anomalies show up.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../server/config';
import { startService, type Service } from '../server/service';
import { sourceKey } from '../store/results-store';
import { removeDir, tempDir, waitFor } from '../../tests/service-helpers';
import { RecordingSink } from './__tests__/recording-sink';
import { bundledDemoDir, DemoSource } from './demo';
import { fetchHealth } from '../testing/health';

jest.setTimeout(60_000);

const demoDir = bundledDemoDir();
const normal = readFileSync(path.join(demoDir, 'webshop.txt'), 'utf8').trim().split('\n');
const anomalies = readFileSync(path.join(demoDir, 'anomalies.txt'), 'utf8').trim().split('\n');

test('the bundled logs are exactly what generate-demo-logs.mjs writes, and free of anomalies', () => {
  const out = tempDir('lad-demo-gen-');
  try {
    execFileSync(process.execPath, [path.join(demoDir, 'generate-demo-logs.mjs'), out]);
    for (const file of ['webshop.txt', 'anomalies.txt']) {
      expect(readFileSync(path.join(out, file), 'utf8')).toBe(readFileSync(path.join(demoDir, file), 'utf8'));
    }
  } finally {
    removeDir(out);
  }
  expect(normal).toHaveLength(3000);
  expect(anomalies.length).toBeGreaterThanOrEqual(10);
  for (const a of anomalies) {
    expect(normal).not.toContain(a);
  }
});

test('warm-up burst of clean lines, then a steady replay with an anomaly every N lines, stamped now', async () => {
  const sink = new RecordingSink();
  const source = new DemoSource({ linesPerSecond: 400, anomalyEvery: 10, warmupLines: 100, warmupSeconds: 60 });
  const started = Date.now();
  await source.start(sink);
  try {
    expect(sink.batches[0]).toHaveLength(100);
    expect(sink.batches[0].map((e) => e.line)).toEqual(normal.slice(0, 100));
    const warmTimes = sink.batches[0].map((e) => e.timestampMs);
    expect(Math.min(...warmTimes)).toBeGreaterThanOrEqual(started - 61_000);
    expect(Math.max(...warmTimes)).toBeLessThanOrEqual(Date.now());
    await waitFor(() => (sink.entries.length >= 160 ? true : undefined), '60 replayed lines');
    const replayed = sink.entries.slice(100, 160);
    const injected = replayed.filter((e) => anomalies.includes(e.line));
    expect(injected).toHaveLength(6);
    expect(replayed[9].line).toBe(anomalies[1]);
    for (const e of replayed) {
      expect(e.source).toBe('demo');
      expect(e.labels).toEqual({ job: 'demo', app: 'webshop' });
      expect(Math.abs(e.timestampMs - Date.now())).toBeLessThan(30_000);
    }
    expect(source.status()).toMatchObject({ state: 'connected', lastError: null });
    expect(source.status().linesTotal).toBe(sink.entries.length);
  } finally {
    await source.stop();
  }
  expect(source.status().state).toBe('stopped');
});

test('on backpressure it pauses, keeps the batch and resends it when the pipeline drains', async () => {
  const sink = new RecordingSink();
  const source = new DemoSource({ linesPerSecond: 200, anomalyEvery: 1000, warmupLines: 0 });
  await source.start(sink);
  try {
    await waitFor(() => (sink.entries.length > 0 ? true : undefined), 'first lines');
    sink.saturate();
    await waitFor(() => (source.status().state === 'paused' ? true : undefined), 'the source to pause');
    const during = sink.entries.length;
    sink.drain();
    await waitFor(() => (sink.entries.length > during + 40 ? true : undefined), 'lines after the drain');
    // Nothing was skipped: the replay continues exactly where it stopped.
    expect(sink.entries.map((e) => e.line)).toEqual(normal.slice(0, sink.entries.length));
    expect(source.status().state).toBe('connected');
  } finally {
    await source.stop();
  }
});

test('a warm-up larger than the pipeline queue still gets in, in batches, in order', async () => {
  const dir = tempDir('lad-demo-q-');
  const config = loadConfig({ LAD_PORT: '0', LAD_DATA_DIR: dir, LAD_TRAIN_LINES: '2500', LAD_QUEUE_MAX_LINES: '1000', LAD_TRAIN_IN_WORKER: 'false' });
  const service = await startService({ ...config, demo: { ...config.demo, linesPerSecond: 1 } }, { logger: pino({ level: 'silent' }) });
  try {
    await waitFor(() => (service.pipelines.get('demo')!.stats().linesScored >= 2500 ? true : undefined), 'the 2,500-line warm-up scored', 45_000);
    expect(service.pipelines.get('demo')!.stats().modelState).toBe('ready');
    // Stored in replay order, nothing lost or doubled between the refused and the retried batches.
    await service.results.flush();
    const linesDir = path.join(dir, 'results', sourceKey('demo'));
    const stored = readdirSync(linesDir)
      .filter((f) => f.startsWith('lines-'))
      .sort()
      .flatMap((f) => readFileSync(path.join(linesDir, f), 'utf8').trim().split('\n'))
      .map((l) => (JSON.parse(l) as { l: string }).l);
    expect(stored.slice(0, 2500)).toEqual(normal.slice(0, 2500));
  } finally {
    await service.close();
    removeDir(dir);
  }
});

describe('in the service (LAD_DEMO on by default)', () => {
  let dir: string;
  let service: Service;
  beforeAll(async () => {
    dir = tempDir('lad-demo-');
    const config = loadConfig({ LAD_PORT: '0', LAD_DATA_DIR: dir, LAD_TRAIN_LINES: '500', LAD_TRAIN_IN_WORKER: 'false', LAD_DEMO_LINES_PER_SECOND: '300' });
    service = await startService({ ...config, demo: { ...config.demo, anomalyEvery: 30 } }, { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await service.close();
    removeDir(dir);
  });

  test('the demo trains on its warm-up and its injected anomalies are queryable in the last minutes', async () => {
    const url = service.url;
    const found = await waitFor(async () => {
      const res = await fetch(`${url}/api/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ range: { from: Date.now() - 15 * 60_000, to: Date.now() + 1000 }, targets: [{ refId: 'A', queryType: 'anomalies', source: 'demo' }] }),
      });
      const body = (await res.json()) as { results: { A: { frames: { data: { values: unknown[][] } }[] } } };
      const lines = body.results.A.frames[0].data.values[5] as string[];
      const injected = lines.filter((l) => anomalies.includes(l));
      return injected.length >= 3 ? injected : undefined;
    }, 'injected demo anomalies', 45_000);
    expect(found.length).toBeGreaterThanOrEqual(3);
    const health = await fetchHealth(url);
    expect(health.sources).toEqual([expect.objectContaining({ name: 'demo', kind: 'demo', modelState: 'ready' })]);
  });
});
