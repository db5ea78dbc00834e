/**
 * The query deadline through the real /api/query router: a query whose reads would take long is stopped at the
 * deadline with a 503 naming queryDeadlineMs (between sources, inside an anomaly scan, and while a promise-based
 * reader never answers), and a quick query is unaffected.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import type { FactStore } from '../store/fact-store';
import type { ResultsReader } from '../store/results-reader';
import type { AnomalyRecord, IntervalCount } from '../store/results-store';
import { errorHandler } from './http-error';
import { queryRouter } from './query';

const DEADLINE_MS = 200;
const sources = Array.from({ length: 20 }, (_, i) => `s${i}`);

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // a synchronous read that takes long (a big scan)
  }
}

const anomaly: AnomalyRecord = { id: '1-abcdef0123', seq: 1, time: 1, source: 's0', line: 'x', score: 9, anomaly: true, suppressed: false, labels: {}, threshold: 1, template: 'x', reason: '', level: null };

function reader(over: Partial<ResultsReader>): ResultsReader {
  return {
    anomalies: () => [],
    getAnomaly: () => undefined,
    counts: (): IntervalCount[] => [],
    context: async () => null,
    sourceNames: () => sources,
    bucketMs: 10_000,
    lastError: null,
    ...over,
  };
}

async function query(results: ResultsReader, body: unknown): Promise<{ status: number; body: { error?: string; field?: string }; ms: number }> {
  const facts = { isSuppressed: () => false, list: () => [] } as unknown as FactStore;
  const app = express()
    .use(express.json())
    .use(queryRouter({ results, facts, sourceNames: () => sources, review: () => null, rates: () => null, deadlineMs: DEADLINE_MS }))
    .use(errorHandler(pino({ level: 'silent' })));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: string; field?: string }, ms: Date.now() - started };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const range = { from: 0, to: 3600_000 };

test('20 sources whose counts take 60 ms each are stopped at the deadline with a 503 naming it', async () => {
  let read = 0;
  const slow = reader({
    counts: () => {
      read++;
      busy(60);
      return [];
    },
  });
  const answer = await query(slow, { range, targets: [{ refId: 'A', queryType: 'rate', source: sources }] });
  expect(answer.status).toBe(503);
  expect(answer.body.field).toBe('queryDeadlineMs');
  expect(answer.body.error).toMatch(/deadline of 200 ms \(queryDeadlineMs\) while reading counts of "s\d+"/);
  expect(read).toBeLessThan(sources.length);
  expect(answer.ms).toBeLessThan(1000); // all 20 would take 1,200 ms
});

test('an anomaly scan that would run long is stopped from inside', async () => {
  let examined = 0;
  const scanning = reader({
    anomalies: (filter) => {
      for (let i = 0; i < 1e9; i++) {
        examined++;
        filter.isSuppressed(anomaly);
      }
      return [];
    },
  });
  const answer = await query(scanning, { range, targets: [{ refId: 'A', queryType: 'anomalies' }] });
  expect(answer.status).toBe(503);
  expect(answer.body.error).toMatch(/while reading anomalies/);
  expect(examined).toBeLessThan(1e9);
  expect(answer.ms).toBeLessThan(2000);
});

test('a reader that never answers gets a 503 at the deadline, not a hang', async () => {
  const stuck = reader({ anomalies: () => new Promise<AnomalyRecord[]>(() => undefined) });
  const answer = await query(stuck, { range, targets: [{ refId: 'A', queryType: 'anomalies', source: 's1' }] });
  expect(answer.status).toBe(503);
  expect(answer.body.field).toBe('queryDeadlineMs');
  expect(answer.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 20);
  expect(answer.ms).toBeLessThan(2000);
});

test('a quick query is answered as before', async () => {
  const quick = reader({ anomalies: () => [anomaly] });
  const answer = await query(quick, { range, targets: [{ refId: 'A', queryType: 'anomalies', source: 's0' }] });
  expect(answer.status).toBe(200);
});
