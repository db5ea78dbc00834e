/**
 * Continuous detection per source, through the real service and the real engine: the training window (lines
 * and time), backpressure while the first model trains, retraining in a worker thread that swaps the model
 * while scoring goes on, periodic retraining, false positives trained as normal, and models saved per source.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Service } from '../backend/server/service';
import { modelDir } from '../backend/pipeline/source-pipeline';
import { anomalyLines, normalLines, postJson, pushLines, query, removeDir, rowsOf, startTestService, tempDir, waitFor, waitScored } from './service-helpers';
import { fetchSourceHealth } from '../backend/testing/health';

jest.setTimeout(90_000);

let dir: string;
let service: Service | null = null;

beforeEach(() => {
  dir = tempDir('lad-pipeline-');
});

afterEach(async () => {
  await service?.close();
  service = null;
  removeDir(dir);
});

/** 3× the demo corpus: big enough that a worker training takes a noticeable while. */
const manyLines = [...normalLines, ...normalLines, ...normalLines];

test('lines wait for the training window, then all of them (the window too) are scored, once', async () => {
  service = await startTestService(dir);
  expect((await pushLines(service.url, 'w', normalLines.slice(0, 299))).status).toBe(204);
  // One line short of the window: nothing is scored, the model is still collecting.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(service.pipelines.get('w')!.stats()).toMatchObject({ modelState: 'collecting', linesIngested: 299, linesScored: 0 });
  expect((await pushLines(service.url, 'w', normalLines.slice(299, 310))).status).toBe(204);
  await waitScored(service, 'w', 310);
  const stats = service.pipelines.get('w')!.stats();
  expect(stats.linesScored).toBe(310);
  const rate = rowsOf((await query(service.url, [{ refId: 'R', queryType: 'rate', source: 'w' }])).results.R.frames[0]);
  expect(rate.reduce((s, r) => s + (r.lines as number), 0)).toBe(310);
  // The model was saved where a restart looks for it.
  expect(existsSync(modelDir(dir, 'w'))).toBe(true);
  expect(modelDir(dir, 'w')).toBe(path.join(dir, 'models', 'w'));
});

test('the training window also closes by time when at least minLines arrived', async () => {
  service = await startTestService(dir, { LAD_TRAIN_LINES: '100000', LAD_TRAIN_SECONDS: '1', LAD_TRAIN_MIN_LINES: '200' });
  expect((await pushLines(service.url, 't', normalLines.slice(0, 250))).status).toBe(204);
  await waitScored(service, 't', 250);
  expect(service.pipelines.get('t')!.stats().modelState).toBe('ready');
});

test('while the first model trains the bounded queue fills: 429 + Retry-After, then it drains and accepts again', async () => {
  service = await startTestService(dir, { LAD_TRAIN_LINES: '3000', LAD_QUEUE_MAX_LINES: '1000', LAD_TRAIN_IN_WORKER: 'true' });
  const url = service.url;
  const pipeline = () => service!.pipelines.get('bp')!;
  // Fill the training window (in queue-sized batches), which starts the (worker) training...
  for (let i = 0; i < 3000; i += 1000) {
    await waitFor(async () => ((await pushLines(url, 'bp', normalLines.slice(i, i + 1000))).status === 204 ? true : undefined), 'window batch accepted');
  }
  await waitFor(() => (pipeline().stats().modelState === 'training' ? true : undefined), 'training to start');
  // ...so lines pile up in the queue until the bound.
  expect((await pushLines(url, 'bp', manyLines.slice(0, 1000))).status).toBe(204);
  let drained = 0;
  service.pipelines.onDrain(() => drained++);
  const refused = await pushLines(url, 'bp', manyLines.slice(0, 10));
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(service.pipelines.saturated).toBe(true);
  // Once the model is there the queue drains, the drain listeners fire and pushes are accepted again.
  await waitScored(service, 'bp', 4000);
  await waitFor(() => (drained > 0 ? true : undefined), 'drain notification');
  expect((await pushLines(url, 'bp', manyLines.slice(0, 10))).status).toBe(204);
  await waitScored(service, 'bp', 4010);
  const text = await (await fetch(`${url}/metrics`)).text();
  expect(text).toMatch(/lad_refused_lines_total\{source="bp"\} 10/);
  // Refused and retried is not lost.
  expect(text).not.toMatch(/lad_dropped_lines_total\{source="bp"/);
});

test('retraining runs in a worker and swaps the model while scoring goes on', async () => {
  service = await startTestService(dir, { LAD_TRAIN_IN_WORKER: 'true' }, (c) => ({ ...c, training: { ...c.training, retrainLines: manyLines.length } }));
  const url = service.url;
  for (let i = 0; i < manyLines.length; i += 3000) {
    expect((await pushLines(url, 'rt', manyLines.slice(i, i + 3000))).status).toBe(204);
  }
  await waitScored(service, 'rt', manyLines.length);
  const pipeline = service.pipelines.get('rt')!;
  const firstTrainedAt = pipeline.stats().lastTrainedAt;
  await new Promise((resolve) => setTimeout(resolve, 5)); // a later createdAt for the next model
  const retrain = pipeline.retrain('drift');
  expect(pipeline.stats().retraining).toBe(true);
  expect(await fetchSourceHealth(url, 'rt')).toMatchObject({ retraining: true, modelState: 'ready' });
  // Lines pushed now are scored by the old model while the worker trains.
  expect((await pushLines(url, 'rt', normalLines.slice(0, 20))).status).toBe(204);
  await waitScored(service, 'rt', manyLines.length + 20);
  expect(pipeline.stats().retraining).toBe(true);
  expect(pipeline.stats().lastTrainedAt).toBe(firstTrainedAt);
  await retrain;
  expect(pipeline.stats().retraining).toBe(false);
  expect(pipeline.stats().lastTrainedAt).not.toBe(firstTrainedAt);
  const text = await (await fetch(`${url}/metrics`)).text();
  expect(text).toMatch(/lad_training_runs_total\{source="rt",result="ok",reason="drift"\} 1/);
  expect(text).toMatch(/lad_training_duration_seconds_count\{source="rt"\} 2/);
});

test('periodic retraining fires on its interval', async () => {
  service = await startTestService(dir, { LAD_RETRAIN_INTERVAL_SECONDS: '1' });
  expect((await pushLines(service.url, 'p', normalLines.slice(0, 300))).status).toBe(204);
  await waitScored(service, 'p', 300);
  const first = service.pipelines.get('p')!.stats().lastTrainedAt;
  await waitFor(() => (service!.pipelines.get('p')!.stats().lastTrainedAt !== first ? true : undefined), 'a periodic retraining');
  const text = await (await fetch(`${service.url}/metrics`)).text();
  expect(text).toMatch(/lad_training_runs_total\{source="p",result="ok",reason="periodic"\} [1-9]/);
});

test('a reported false positive is trained as normal by the next model', async () => {
  service = await startTestService(dir);
  const url = service.url;
  const fpLine = anomalyLines[4]; // disk almost full: a warning this team decided is fine
  expect((await pushLines(url, 'fp', [...normalLines.slice(0, 300), fpLine])).status).toBe(204);
  await waitScored(service, 'fp', 301);
  const flagged = rowsOf((await query(url, [{ refId: 'A', queryType: 'anomalies', source: 'fp', search: 'capacity' }])).results.A.frames[0]);
  expect(flagged).toHaveLength(1);
  expect((await postJson(`${url}/api/feedback`, { message: fpLine, kind: 'false_positive', anomalyId: flagged[0].id })).status).toBe(201);
  await service.pipelines.get('fp')!.retrain('periodic');
  const suppressedBefore = service.pipelines.get('fp')!.stats().suppressed;
  expect((await pushLines(url, 'fp', [fpLine.replace('97%', '98%')])).status).toBe(204);
  await waitScored(service, 'fp', 302);
  // The new model does not flag it at all (not even as a suppressed anomaly).
  const after = rowsOf((await query(url, [{ refId: 'A', queryType: 'anomalies', source: 'fp', search: '98%', includeSuppressed: true }])).results.A.frames[0]);
  expect(after).toEqual([]);
  expect(service.pipelines.get('fp')!.stats().suppressed).toBe(suppressedBefore);
});

test('pipelines of different sources are independent; sources beyond maxSources are refused with 400', async () => {
  service = await startTestService(dir, {}, (c) => ({ ...c, maxSources: 2 }));
  expect((await pushLines(service.url, 'a', normalLines.slice(0, 10))).status).toBe(204);
  expect((await pushLines(service.url, 'b', normalLines.slice(0, 20))).status).toBe(204);
  const third = await pushLines(service.url, 'c', normalLines.slice(0, 5));
  expect(third.status).toBe(400);
  expect(((await third.json()) as any).field).toBe('source');
  expect(service.pipelines.get('a')!.stats().linesIngested).toBe(10);
  expect(service.pipelines.get('b')!.stats().linesIngested).toBe(20);
  expect(service.pipelines.get('c')).toBeUndefined();
});

test('a clean shutdown scores every accepted line first, and the counts are on disk', async () => {
  service = await startTestService(dir);
  const url = service.url;
  expect((await pushLines(url, 'sd', normalLines.slice(0, 300))).status).toBe(204);
  await waitScored(service, 'sd', 300);
  const bulk = [...manyLines, ...manyLines, ...manyLines, ...manyLines].slice(0, 30_000);
  expect((await pushLines(url, 'sd', bulk)).status).toBe(204);
  const pipeline = service.pipelines.get('sd')!;
  // Close while accepted lines still wait to be scored.
  expect(pipeline.queueDepth).toBeGreaterThan(0);
  const closing = service.close();
  service = null;
  await closing;
  const stats = pipeline.stats();
  expect(stats.linesIngested).toBe(300 + bulk.length);
  expect(stats.linesScored).toBe(stats.linesIngested);
  // Reopened, the per-interval counts account for every line.
  service = await startTestService(dir);
  const rate = rowsOf((await query(service.url, [{ refId: 'R', queryType: 'rate', source: 'sd' }])).results.R.frames[0]);
  expect(rate.reduce((s, r) => s + (r.lines as number), 0)).toBe(300 + bulk.length);
});

test('a drift in the anomaly ratio triggers a retraining on its own', async () => {
  service = await startTestService(dir, {}, (c) => ({ ...c, training: { ...c.training, driftWindowLines: 100, driftRatio: 0.2, minRetrainGapSeconds: 0 } }));
  const url = service.url;
  expect((await pushLines(url, 'dr', normalLines.slice(0, 300))).status).toBe(204);
  await waitScored(service, 'dr', 300);
  const first = service.pipelines.get('dr')!.stats().lastTrainedAt;
  // A new kind of traffic: most of these lines are unlike anything in training.
  const shifted = Array.from({ length: 100 }, (_, i) => `${anomalyLines[i % anomalyLines.length]} [shard ${i}]`);
  expect((await pushLines(url, 'dr', shifted)).status).toBe(204);
  await waitScored(service, 'dr', 400);
  expect(service.pipelines.get('dr')!.stats().anomalies).toBeGreaterThan(20);
  await waitFor(() => (service!.pipelines.get('dr')!.stats().lastTrainedAt !== first ? true : undefined), 'a drift retraining');
  const text = await (await fetch(`${url}/metrics`)).text();
  expect(text).toMatch(/lad_training_runs_total\{source="dr",result="ok",reason="drift"\} 1/);
});

test('a retraining window full by characters (long lines) retrains with fewer than minLines', async () => {
  // retrainChars 4096: the window holds a few dozen of these lines, far below minLines (200)
  service = await startTestService(dir, { LAD_TRAIN_MIN_LINES: '200' }, (c) => ({ ...c, training: { ...c.training, retrainChars: 4096 } }));
  expect((await pushLines(service.url, 'long', normalLines.slice(0, 400))).status).toBe(204);
  await waitScored(service, 'long', 400);
  const pipeline = service.pipelines.get('long')!;
  const firstTrainedAt = pipeline.stats().lastTrainedAt;
  await new Promise((resolve) => setTimeout(resolve, 5)); // a later createdAt for the next model
  await pipeline.retrain('drift');
  expect(pipeline.stats().lastTrainedAt).not.toBe(firstTrainedAt);
  const text = await (await fetch(`${service.url}/metrics`)).text();
  expect(text).toMatch(/lad_training_runs_total\{source="long",result="ok",reason="drift"\} 1/);
});
