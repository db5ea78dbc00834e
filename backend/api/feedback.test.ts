/**
 * POST /api/feedback when the fact-store has no room (FACT_STORE_LIMITS): a JSON 507 naming the bound, the
 * records already acknowledged untouched, and the route serving again once a delete made room.
 */
import express from 'express';
import pino from 'pino';
import type { AddressInfo } from 'node:net';
import { Metrics } from '../metrics/metrics';
import { LowdbFactStore } from '../store/fact-store-lowdb';
import type { ResultsReader } from '../store/results-reader';
import { removeDir, tempDir } from '../testing/temp-dir';
import { feedbackRouter } from './feedback';
import { errorHandler } from './http-error';

let dir: string;
beforeEach(() => {
  dir = tempDir('lad-feedback-route-');
});
afterEach(() => removeDir(dir));

test('a full fact-store answers 507 with the bound named; a delete makes room', async () => {
  const facts = await LowdbFactStore.open(dir, { maxChars: 4000 });
  const app = express();
  app.use(express.json());
  const results = { getAnomaly: () => undefined } as unknown as ResultsReader;
  app.use(feedbackRouter({ facts, results, metrics: new Metrics(), templateOf: (line) => line, maxLineBytes: 65536, requireWrite: (_req, _res, next) => next() }));
  app.use(errorHandler(pino({ level: 'silent' })));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/feedback`;
  const post = (i: number) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `${'m'.repeat(1500)} ${i}`, kind: 'confirmed', source: 'app' }) });
  try {
    expect((await post(0)).status).toBe(201);
    const full = await post(1);
    expect(full.status).toBe(507);
    expect(((await full.json()) as { error: string }).error).toMatch(/^fact-store full: .* the bound is 4000 .* delete records/);
    expect(facts.list()).toHaveLength(1);
    expect((await fetch(`${url}/${facts.list()[0].id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await post(2)).status).toBe(201);
  } finally {
    server.close();
  }
});
