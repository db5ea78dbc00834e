/**
 * A `type: file` source configured in a real config file (LAD_CONFIG, YAML) and run by the real service:
 * lines appended to the tailed file (a stack trace among them) are scored and queryable.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../server/config';
import { startService, type Service } from '../../server/service';
import {
  anomalyLines,
  normalLines,
  query,
  removeDir,
  rowsOf,
  tempDir,
  waitFor,
  waitScored,
} from '../../../tests/service-helpers';
import { fetchHealth } from '../../testing/health';

let dir: string;
let service: Service | null = null;

beforeEach(() => {
  dir = tempDir('lad-tail-service-');
});
afterEach(async () => {
  await service?.close();
  service = null;
  removeDir(dir);
});

it('scores the lines of a tailed file configured in LAD_CONFIG, a stack trace as one entry', async () => {
  const logFile = path.join(dir, 'shop.log');
  writeFileSync(logFile, 'an old line that is before the start position\n');
  const configFile = path.join(dir, 'lad.yaml');
  writeFileSync(
    configFile,
    [
      'sources:',
      '  - type: file',
      '    name: shop-file',
      `    path: ${JSON.stringify(logFile)}`,
      '    pollIntervalMs: 50',
      '    multilineFlushMs: 200',
      '    labels: { env: e2e }',
      '',
    ].join('\n')
  );
  const config = loadConfig({
    LAD_CONFIG: configFile,
    LAD_PORT: '0',
    LAD_DATA_DIR: path.join(dir, 'data'),
    LAD_DEMO: 'false',
    LAD_TRAIN_LINES: '300',
    LAD_TRAIN_IN_WORKER: 'false',
    LAD_LOG_LEVEL: 'silent',
  });
  service = await startService(config, { logger: pino({ level: 'silent' }) });
  const source = () => service!.pipelines.source('shop-file');
  await waitFor(
    () => (source()?.status().state === 'connected' ? true : undefined),
    'the file source to open its file'
  );

  const trace = [
    'ERROR [main] c.s.ShopApplication - request failed',
    '\tat c.s.api.CartController.add(CartController.java:88)',
    'Caused by: java.lang.NullPointerException',
  ];
  const entries = [
    ...normalLines.slice(0, 350),
    trace.join('\n'),
    ...normalLines.slice(350, 380),
    anomalyLines[1],
    ...normalLines.slice(380, 400),
  ];
  appendFileSync(logFile, `${normalLines.slice(0, 350).join('\n')}\n${trace.join('\n')}\n`);
  appendFileSync(
    logFile,
    `${normalLines.slice(350, 380).join('\n')}\n${anomalyLines[1]}\n${normalLines.slice(380, 400).join('\n')}\n`
  );

  await waitScored(service, 'shop-file', entries.length);
  expect(service.pipelines.get('shop-file')!.stats().linesScored).toBe(entries.length);
  expect(source()!.status()).toMatchObject({ state: 'connected', linesTotal: entries.length, lastError: null });

  const { results } = await query(service.url, [
    { refId: 'A', queryType: 'anomalies', source: 'shop-file', limit: 1000 },
  ]);
  const flagged = rowsOf(results.A.frames[0]).map((row) => row.line as string);
  expect(flagged).toContain(anomalyLines[1]);
  for (const line of flagged) {
    expect(entries).toContain(line); // the stack trace, if flagged, arrives as one joined entry
  }
  const health = await fetchHealth(service.url);
  expect(health.sources).toEqual(
    expect.arrayContaining([expect.objectContaining({ name: 'shop-file', kind: 'file', state: 'connected' })])
  );
}, 60_000);

it('resumes a tailed file after a service restart: lines written while it was down are scored, none twice', async () => {
  const logFile = path.join(dir, 'app.log');
  writeFileSync(logFile, '');
  const configFile = path.join(dir, 'lad.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      sources: [{ type: 'file', name: 'app-file', path: logFile, pollIntervalMs: 50, multiline: false }],
    })
  );
  const start = () =>
    startService(
      loadConfig({
        LAD_CONFIG: configFile,
        LAD_PORT: '0',
        LAD_DATA_DIR: path.join(dir, 'data'), // the service hands this to the file source for its position
        LAD_DEMO: 'false',
        LAD_TRAIN_LINES: '300',
        LAD_TRAIN_IN_WORKER: 'false',
        LAD_LOG_LEVEL: 'silent',
      }),
      { logger: pino({ level: 'silent' }) }
    );
  service = await start();
  await waitFor(
    () => (service!.pipelines.source('app-file')?.status().state === 'connected' ? true : undefined),
    'the file source'
  );
  appendFileSync(logFile, `${normalLines.slice(0, 320).join('\n')}\n`);
  await waitScored(service, 'app-file', 320);
  await service.close();
  service = null;

  appendFileSync(logFile, `${normalLines.slice(320, 350).join('\n')}\n`); // written while Scorpio is down
  service = await start();
  appendFileSync(logFile, `${normalLines.slice(350, 360).join('\n')}\n`);
  const { results } = await waitFor(async () => {
    const answer = await query(service!.url, [{ refId: 'R', queryType: 'rate', source: 'app-file' }]);
    const lines = rowsOf(answer.results.R.frames[0]).reduce((sum, row) => sum + (row.lines as number), 0);
    return lines >= 360 ? answer : undefined;
  }, '360 scored lines across the restart');
  await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show up by now
  const again = await query(service.url, [{ refId: 'R', queryType: 'rate', source: 'app-file' }]);
  const total = (r: typeof results) => rowsOf(r.R.frames[0]).reduce((sum, row) => sum + (row.lines as number), 0);
  expect(total(results)).toBe(360);
  expect(total(again.results)).toBe(360);
}, 60_000);
