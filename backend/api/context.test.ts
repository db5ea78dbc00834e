/**
 * GET /api/anomalies/:id/context over real HTTP on loopback: before/after are whole numbers written as digits, else
 * a 400 naming the parameter. z.coerce read "" as 0, "0x10" as 16, "1e3" as 1000 and " 5 " as 5, answering 200.
 */
import express from 'express';
import pino from 'pino';
import { listen, type Listening } from '../server/listen';
import type { ResultsReader } from '../store/results-reader';
import { contextRouter } from './context';
import { errorHandler } from './http-error';

const asked: [number, number][] = [];
const row = { id: 'x', time: 1, source: 's', line: 'l', score: 1, anomaly: true, suppressed: false, labels: {} };
const results = {
  context: async (_id: string, before: number, after: number) => {
    asked.push([before, after]);
    return { anomaly: row, before: [], after: [] };
  },
} as unknown as ResultsReader;

let server: Listening;
beforeAll(async () => {
  server = await listen(express().use(contextRouter(results)).use(errorHandler(pino({ level: 'silent' }))), '127.0.0.1', 0);
});
afterAll(() => server.close());

test.each(['', '0x10', '1e3', '%205%20', '-1', '1.5', '1001'])('before=%s → 400 naming before', async (before) => {
  const res = await fetch(`${server.url}/api/anomalies/x/context?before=${before}`);
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ error: expect.any(String), field: 'before' });
});

test('digits are read as given, absent is 10', async () => {
  asked.length = 0;
  expect((await fetch(`${server.url}/api/anomalies/x/context?before=0&after=1000`)).status).toBe(200);
  expect((await fetch(`${server.url}/api/anomalies/x/context`)).status).toBe(200);
  expect(asked).toEqual([
    [0, 1000],
    [10, 10],
  ]);
});
