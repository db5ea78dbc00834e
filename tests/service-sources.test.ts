/**
 * Configured sources in the running service: a file tail (a real file), a Loki pull and an Elasticsearch pull
 * (against stand-in HTTP servers speaking Loki's documented query_range and Elasticsearch's _search formats: no
 * Loki or Elasticsearch runs here). All are built through the sources registry from LAD_CONFIG, feed their own
 * pipelines, show in /api/sources and /api/health, and keep their positions/checkpoints under the data dir given
 * in the config file (not the environment: LAD_DATA_DIR points elsewhere), unless an entry names its own dataDir.
 */
import { appendFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../backend/server/config';
import { startService, type Service } from '../backend/server/service';
import { FakeElasticsearch } from '../backend/testing/fake-elasticsearch';
import { FakeLoki } from '../backend/testing/fake-loki';
import { normalLines, removeDir, tempDir, waitFor } from './service-helpers';
import { fetchHealth } from '../backend/testing/health';

jest.setTimeout(60_000);

let dir: string;
let loki: FakeLoki;
let es: FakeElasticsearch;
let service: Service;
const lokiLines = normalLines.slice(0, 40);
const esLines = normalLines.slice(40, 70);
const savedDataDirEnv = process.env.LAD_DATA_DIR;

beforeAll(async () => {
  dir = tempDir('lad-sources-');
  // A decoy: a source that only looked at the environment would write its checkpoint here.
  process.env.LAD_DATA_DIR = path.join(dir, 'env-data');
  const baseNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  loki = new FakeLoki();
  loki.entries.push(...lokiLines.map((line, i) => ({ ns: baseNs + BigInt(i) * 1_000_000n, line, labels: { job: 'api' } })));
  const lokiUrl = await loki.start();
  es = new FakeElasticsearch();
  const baseMs = Date.now() - 60_000;
  es.docs.push(...esLines.map((line, i) => ({ _index: 'logs-auth', _id: `d${i}`, _source: { '@timestamp': new Date(baseMs + i).toISOString(), message: line } })));
  const esUrl = await es.start();

  const logFile = path.join(dir, 'app.log');
  writeFileSync(logFile, '');
  const configFile = path.join(dir, 'lad.yaml');
  const dataDir = path.join(dir, 'data');
  writeFileSync(
    configFile,
    [
      `dataDir: ${JSON.stringify(dataDir)}`,
      'demo: { enabled: false }',
      'training: { windowLines: 30, minLines: 10, useWorker: false }',
      'sources:',
      `  - { type: file, name: applog, path: ${JSON.stringify(logFile)}, startAt: beginning, pollIntervalMs: 20, multilineFlushMs: 0 }`,
      `  - { type: loki-pull, name: lokiapi, url: ${JSON.stringify(lokiUrl)}, query: '{job="api"}', pollIntervalSeconds: 0.2, delaySeconds: 0, lookbackSeconds: 3600 }`,
      `  - { type: elasticsearch-pull, name: esauth, url: ${JSON.stringify(esUrl)}, index: 'logs-*', pollIntervalSeconds: 0.2, delaySeconds: 0, lookbackSeconds: 3600 }`,
      // Its own dataDir wins over the service's.
      `  - { type: loki-pull, name: lokiown, url: ${JSON.stringify(lokiUrl)}, query: '{job="api"}', pollIntervalSeconds: 0.2, delaySeconds: 0, lookbackSeconds: 3600, dataDir: ${JSON.stringify(path.join(dir, 'own'))} }`,
    ].join('\n')
  );
  const config = loadConfig({ LAD_CONFIG: configFile, LAD_PORT: '0', LAD_LOG_LEVEL: 'silent' });
  service = await startService(config, { logger: pino({ level: 'silent' }) });
  appendFileSync(logFile, normalLines.slice(100, 150).join('\n') + '\n');
});

afterAll(async () => {
  await service?.close();
  await loki?.stop();
  await es?.stop();
  if (savedDataDirEnv === undefined) delete process.env.LAD_DATA_DIR;
  else process.env.LAD_DATA_DIR = savedDataDirEnv;
  removeDir(dir);
});

test('a tailed file, a Loki pull and an Elasticsearch pull reach their pipelines and get scored', async () => {
  const scored = { applog: 50, lokiapi: lokiLines.length, esauth: esLines.length, lokiown: lokiLines.length };
  await waitFor(
    () => (Object.entries(scored).every(([name, n]) => service.pipelines.get(name)?.stats().linesScored === n) ? true : undefined),
    'every source scored'
  );
  const sources = (await (await fetch(`${service.url}/api/sources`)).json()) as string[];
  expect(sources).toEqual(['applog', 'esauth', 'lokiapi', 'lokiown']); // sorted
  const health = await fetchHealth(service.url);
  expect(health.sources.map((s) => [s.name, s.kind, s.modelState])).toEqual([
    ['applog', 'file', 'ready'],
    ['lokiapi', 'loki-pull', 'ready'],
    ['esauth', 'elasticsearch-pull', 'ready'],
    ['lokiown', 'loki-pull', 'ready'],
  ]);
});

test('positions and checkpoints live under the data dir of the config file, or the entry\'s own dataDir', async () => {
  const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  const checkpoints = path.join(dir, 'data', 'checkpoints');
  const files = await waitFor(() => {
    const names = listing(checkpoints);
    return ['applog', 'lokiapi', 'esauth'].every((s) => names.some((n) => n.includes(s))) ? names : undefined;
  }, 'checkpoint files of the file tail and both pulls');
  expect(files).toEqual(expect.arrayContaining(['loki-pull--lokiapi.json', 'elasticsearch-pull--esauth.json']));
  expect(files.some((n) => n.includes('lokiown'))).toBe(false);
  await waitFor(() => (listing(path.join(dir, 'own', 'checkpoints')).includes('loki-pull--lokiown.json') ? true : undefined), 'own-dataDir checkpoint');
  expect(existsSync(path.join(dir, 'env-data'))).toBe(false);
});
