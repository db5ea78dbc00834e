/**
 * The per-source in-memory windows of line text are bounded by characters as well as lines (line-budgets.ts):
 * long lines pushed over HTTP to a real service leave the retraining window, the results store's ring of recent
 * lines and its in-memory anomalies within their character bounds, set here through a LAD_CONFIG file.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../backend/server/config';
import { anomalyChars, LINE_CHARS_BUDGET, queueChars, recentChars, retrainChars, windowChars } from '../backend/server/line-budgets';
import type { Service } from '../backend/server/service';
import { normalLines, pushLines, removeDir, startTestService, tempDir, waitFor, waitScored } from './service-helpers';

let dir: string;
let service: Service | null = null;
beforeEach(() => {
  dir = tempDir('lad-line-budgets-');
});
afterEach(async () => {
  await service?.close();
  service = null;
  removeDir(dir);
});

const BOUNDS = { retrainChars: 100_000, recentChars: 120_000, maxAnomalyChars: 150_000 };

test('long lines leave the retraining window, the recent lines and the anomalies within their character bounds', async () => {
  const configFile = path.join(dir, 'lad.json');
  writeFileSync(
    configFile,
    JSON.stringify({ training: { retrainChars: BOUNDS.retrainChars }, retention: { recentChars: BOUNDS.recentChars, maxAnomalyChars: BOUNDS.maxAnomalyChars } })
  );
  service = await startTestService(path.join(dir, 'data'), { LAD_CONFIG: configFile });
  const url = service.url;
  // a model from ordinary lines (300-line window), then lines of 16,000 characters unlike any of them
  expect((await pushLines(url, 'long', normalLines.slice(0, 300))).status).toBe(204);
  await waitScored(service, 'long', 300);
  const longLines = Array.from({ length: 60 }, (_, i) => `FATAL ${i} ${Math.random().toString(36)} ${'q'.repeat(20)}`.padEnd(16_000, String.fromCharCode(97 + (i % 26))));
  for (let i = 0; i < longLines.length; i += 10) {
    expect((await pushLines(url, 'long', longLines.slice(i, i + 10))).status).toBe(204);
  }
  await waitScored(service, 'long', 300 + longLines.length);
  const pushedChars = longLines.length * 16_000;

  // the counts (20,000 lines, 100,000 anomalies) are far: the character bounds hold, each well below what was pushed
  const window = service.pipelines.get('long')!.retrainWindow();
  expect(window.chars).toBeLessThanOrEqual(BOUNDS.retrainChars);
  expect(window.lines).toBeLessThan(longLines.length);
  const held = service.results.heldInMemory('long');
  expect(held.recentChars).toBeLessThanOrEqual(BOUNDS.recentChars);
  expect(held.recentLines).toBeLessThan(longLines.length);
  expect(held.anomalyChars).toBeLessThanOrEqual(BOUNDS.maxAnomalyChars);
  expect(pushedChars).toBeGreaterThan(4 * BOUNDS.maxAnomalyChars);
  // the long lines were flagged (so the anomaly bound was what held them back) and the newest are kept
  expect(service.pipelines.get('long')!.stats().anomalies).toBeGreaterThan(BOUNDS.maxAnomalyChars / 16_000);
  expect(held.anomalies).toBe(Math.floor(BOUNDS.maxAnomalyChars / 16_000));
  const newest = service.results.anomalies({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER, includeSuppressed: true, isSuppressed: () => false, limit: 1, source: 'long' });
  expect(newest[0].line).toBe(longLines[longLines.length - 1]);
});

test('each bound defaults to its line count × LINE_CHARS_BUDGET, follows a changed count, and is validated', () => {
  const defaults = loadConfig({});
  expect(retrainChars(defaults.training)).toBe(20_000 * LINE_CHARS_BUDGET);
  expect(recentChars(defaults.retention)).toBe(20_000 * LINE_CHARS_BUDGET);
  expect(anomalyChars(defaults.retention)).toBe(100_000 * LINE_CHARS_BUDGET);
  expect(queueChars(defaults.queue)).toBe(200_000 * LINE_CHARS_BUDGET);
  expect(windowChars(defaults.training)).toBe(2000 * LINE_CHARS_BUDGET);
  expect(queueChars(loadConfig({ LAD_QUEUE_MAX_CHARS: '5000' }).queue)).toBe(5000);
  expect(retrainChars({ ...defaults.training, retrainLines: 50 })).toBe(50 * LINE_CHARS_BUDGET);
  const configFile = path.join(dir, 'lad.json');
  writeFileSync(configFile, JSON.stringify({ retention: { maxAnomalyChars: 1000 } }));
  expect(() => loadConfig({ LAD_CONFIG: configFile })).toThrow(ConfigError);
  expect(() => loadConfig({ LAD_CONFIG: configFile })).toThrow(/retention\.maxAnomalyChars/);
});

test('while the first model trains, long lines fill the queue to its character bound: 429, then it drains and accepts again', async () => {
  service = await startTestService(dir, { LAD_TRAIN_LINES: '3000', LAD_QUEUE_MAX_CHARS: '50000', LAD_TRAIN_IN_WORKER: 'true' });
  const url = service.url;
  const pipeline = () => service!.pipelines.get('lq')!;
  // the training window in batches (each taken when the queue is empty, however many characters)...
  for (let i = 0; i < 3000; i += 1000) {
    await waitFor(async () => ((await pushLines(url, 'lq', normalLines.slice(i, i + 1000))).status === 204 ? true : undefined), 'window batch accepted');
  }
  await waitFor(() => (pipeline().stats().modelState === 'training' ? true : undefined), 'training to start');
  // ...then lines of 20,000 characters wait: 40,000 are taken, 20,000 more would pass 50,000 (the line count, 2, is far from 200,000)
  const long = (i: number) => `${normalLines[i]} `.padEnd(20_000, 'z');
  expect((await pushLines(url, 'lq', [long(0), long(1)])).status).toBe(204);
  const refused = await pushLines(url, 'lq', [long(2)]);
  expect(refused.status).toBe(429);
  expect(await refused.text()).toMatch(/queue full \(2 lines, 40000 characters waiting\)/);
  await waitScored(service, 'lq', 3002);
  expect((await pushLines(url, 'lq', [long(2)])).status).toBe(204);
  await waitScored(service, 'lq', 3003);
});

test('the first training window is full at training.windowChars: the model trains on the lines that fit', async () => {
  const configFile = path.join(dir, 'lad.json');
  writeFileSync(configFile, JSON.stringify({ training: { windowChars: 20_000 } }));
  service = await startTestService(path.join(dir, 'data'), { LAD_CONFIG: configFile });
  // 300-line window by count (LAD_TRAIN_LINES), but 50 lines of 1,000 characters pass 20,000 at the 20th
  const lines = normalLines.slice(0, 50).map((l) => l.padEnd(1000, ' '));
  expect((await pushLines(service.url, 'wide', lines)).status).toBe(204);
  await waitScored(service, 'wide', 50);
  expect(service.pipelines.get('wide')!.stats().modelState).toBe('ready');
});
