/**
 * Configured sources in the running service: a file tail (a real file) and a Loki pull (against a stand-in
 * HTTP server speaking Loki's documented query_range format: no Loki runs here). Both are built through the
 * sources registry from LAD_CONFIG, feed their own pipelines, show in /api/sources and /api/health, and keep
 * their positions/checkpoints under the data dir given in the config file (not the environment).
 */
import { appendFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../backend/server/config';
import { startService, type Service } from '../backend/server/service';
import { normalLines, removeDir, tempDir, waitFor } from './service-helpers';

jest.setTimeout(60_000);

let dir: string;
let loki: Server;
let service: Service;
const lokiLines = normalLines.slice(0, 40);

beforeAll(async () => {
  dir = tempDir('lad-sources-');
  const baseNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  // Loki's GET /loki/api/v1/query_range answer for a log query (resultType "streams").
  loki = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/loki/api/v1/query_range') {
      res.writeHead(404).end();
      return;
    }
    const start = BigInt(url.searchParams.get('start') ?? '0');
    const values = lokiLines.map((line, i) => [String(baseNs + BigInt(i) * 1_000_000n), line] as [string, string]).filter(([ns]) => BigInt(ns) >= start);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'streams', result: values.length ? [{ stream: { job: 'api' }, values }] : [] } }));
  });
  await new Promise<void>((resolve) => loki.listen(0, '127.0.0.1', resolve));
  const lokiUrl = `http://127.0.0.1:${(loki.address() as AddressInfo).port}`;

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
    ].join('\n')
  );
  const config = loadConfig({ LAD_CONFIG: configFile, LAD_PORT: '0', LAD_LOG_LEVEL: 'silent' });
  service = await startService(config, { logger: pino({ level: 'silent' }) });
  appendFileSync(logFile, normalLines.slice(100, 150).join('\n') + '\n');
});

afterAll(async () => {
  await service?.close();
  await new Promise((resolve) => loki?.close(resolve));
  removeDir(dir);
});

test('a tailed file and a Loki pull both reach their pipelines and get scored', async () => {
  await waitFor(() => {
    const file = service.pipelines.get('applog')?.stats();
    const pull = service.pipelines.get('lokiapi')?.stats();
    return file && pull && file.linesScored === 50 && pull.linesScored === lokiLines.length ? true : undefined;
  }, 'both sources scored');
  const sources = (await (await fetch(`${service.url}/api/sources`)).json()) as string[];
  expect(sources).toEqual(['applog', 'lokiapi']);
  const health = (await (await fetch(`${service.url}/api/health`)).json()) as { sources: { name: string; kind: string; state: string; modelState: string }[] };
  expect(health.sources.map((s) => [s.name, s.kind, s.modelState])).toEqual([
    ['applog', 'file', 'ready'],
    ['lokiapi', 'loki-pull', 'ready'],
  ]);
  // Positions and checkpoints live under the data dir of the config file.
  const checkpoints = path.join(dir, 'data', 'checkpoints');
  const files = await waitFor(() => {
    const names = existsSync(checkpoints) ? readdirSync(checkpoints) : [];
    return names.some((n) => n.includes('lokiapi')) && names.some((n) => n.includes('applog')) ? names : undefined;
  }, 'checkpoint files of both sources');
  expect(files.length).toBeGreaterThanOrEqual(2);
});
