/**
 * POST /api/query over real HTTP on loopback: every target's frames come back under its own refId, whatever the
 * refId, and a refId used twice is refused naming the second target (it silently replaced the first's frames).
 */
import express from 'express';
import pino from 'pino';
import { listen } from '../server/listen';
import type { FactStore } from '../store/fact-store';
import type { ResultsReader } from '../store/results-reader';
import { errorHandler } from './http-error';
import { queryRouter } from './query';

const results: ResultsReader = {
  anomalies: () => [],
  getAnomaly: () => undefined,
  counts: () => [],
  context: async () => null,
  sourceNames: () => ['web'],
  bucketMs: 10_000,
  lastError: null,
};
const facts = { isSuppressed: () => false, list: () => [] } as unknown as FactStore;

async function post(targets: object[]): Promise<{ status: number; text: string }> {
  const app = express()
    .use(express.json())
    .use(queryRouter({ results, facts, sourceNames: () => ['web'], review: () => null, rates: () => null }))
    .use(errorHandler(pino({ level: 'silent' })));
  const server = await listen(app, '127.0.0.1', 0);
  try {
    const res = await fetch(`${server.url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ range: { from: 0, to: 60_000 }, targets }),
    });
    return { status: res.status, text: await res.text() };
  } finally {
    await server.close();
  }
}

describe('POST /api/query refIds', () => {
  test.each(['__proto__', 'constructor', 'toString'])('refId %s gets its frames (__proto__ was a 200 without them)', async (refId) => {
    const res = await post([{ refId, queryType: 'anomalies' }]);
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { results: Record<string, { frames: { schema: { refId: string } }[] }> };
    expect(Object.keys(body.results)).toEqual([refId]);
    expect(Object.getOwnPropertyDescriptor(body.results, refId)?.value.frames[0].schema.refId).toBe(refId);
  });

  test('a refId used twice is a 400 naming the second target', async () => {
    const res = await post([
      { refId: 'A', queryType: 'anomalies' },
      { refId: 'B', queryType: 'rate' },
      { refId: 'A', queryType: 'rate' },
    ]);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ error: expect.stringContaining('targets.0'), field: 'targets.2.refId' });
  });
});
