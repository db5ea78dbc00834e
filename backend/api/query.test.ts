/**
 * POST /api/query over real HTTP on loopback: every target's frames come back under its own refId, whatever the
 * refId, and a refId used twice is refused naming the second target (it silently replaced the first's frames);
 * a time string that is neither epoch digits nor ISO 8601 is refused naming its field.
 */
import express from 'express';
import pino from 'pino';
import { listen } from '../server/listen';
import type { FactStore } from '../store/fact-store';
import type { RateHistoryView, ResultsReader } from '../store/results-reader';
import { errorHandler } from './http-error';
import { queryRouter, type QueryDeps } from './query';

const results: ResultsReader = {
  anomalies: () => [],
  getAnomaly: () => undefined,
  // one point at the range's start: the tests read back the time the router parsed
  counts: (_source, fromMs) => [{ time: fromMs, lines: 0, anomalies: 0, suppressed: 0 }],
  context: async () => null,
  sourceNames: () => ['web'],
  bucketMs: 10_000,
  lastError: null,
};
const facts = { isSuppressed: () => false, list: () => [] } as unknown as FactStore;

/** A source with a one-minute rate model and no history: template_rates are costed by the range alone. */
const oneMinuteRates: QueryDeps['rates'] = () => ({ history: { series: () => [], eventsIn: () => [] } as unknown as RateHistoryView, intervalMs: 60_000 });

async function post(targets: object[], range: object = { from: 0, to: 60_000 }, rates: QueryDeps['rates'] = () => null, reader: ResultsReader = results): Promise<{ status: number; text: string }> {
  const app = express()
    .use(express.json())
    .use(queryRouter({ results: reader, facts, sourceNames: () => ['web'], review: () => null, rates }))
    .use(errorHandler(pino({ level: 'silent' })));
  const server = await listen(app, '127.0.0.1', 0);
  try {
    const res = await fetch(`${server.url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ range, targets }),
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

describe('POST /api/query range strings', () => {
  // Date.parse's fallback read these as 2001 dates: a 200 for a range nobody asked for.
  test.each(['+1', '  5 ', '1 2', 'Mon 5', 'now-1h'])('range.from %j → 400 naming range.from', async (from) => {
    const res = await post([{ refId: 'A', queryType: 'anomalies' }], { from, to: '60000' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ error: expect.stringContaining('ISO 8601'), field: 'range.from' });
  });

  test.each([
    ['-1', -1],
    ['0', 0],
    ['1970-01-01', 0],
    ['1970-01-01T00:00:00.001Z', 1],
    ['1970-01-01 01:00:00+01:00', 0],
  ])('range.from %j is %d ms', async (from, ms) => {
    const res = await post([{ refId: 'A', queryType: 'rate' }], { from, to: 60_000 });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { results: { A: { frames: { data: { values: number[][] } }[] } } };
    expect(body.results.A.frames[0].data.values[0][0]).toBe(ms);
  });
});

describe('POST /api/query times beyond a date', () => {
  // ±1.7e308 made the range Infinity wide: on the built service a 500 (RangeError: Invalid array length in countGrid).
  test.each([
    [{ from: -1.7e308, to: 1.7e308 }, 'range.from'],
    [{ from: 0, to: 8.64e15 + 1 }, 'range.to'],
    [{ from: '-8640000000000001', to: 0 }, 'range.from'],
  ])('range %j → 400 naming %s', async (range, field) => {
    const res = await post([{ refId: 'A', queryType: 'rate' }], range);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ error: expect.stringContaining('the year 275760'), field });
  });

  test('the last and first times a date holds are answered', async () => {
    expect((await post([{ refId: 'A', queryType: 'rate' }], { from: -8.64e15, to: 8.64e15 })).status).toBe(200);
  });
});

describe('POST /api/query template_rates points', () => {
  test('a range with more one-minute intervals than pointsPerQuery allows → 400 naming range, not maxDataPoints', async () => {
    // 1 source x 100 templates x 2 series x 7 days of minutes = 2 million points; maxDataPoints changes none of them
    const res = await post([{ refId: 'A', queryType: 'template_rates', limit: 100 }], { from: 0, to: 7 * 86_400_000 }, oneMinuteRates);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ error: expect.stringContaining('select a shorter range'), field: 'range' });
    expect((await post([{ refId: 'A', queryType: 'template_rates', limit: 10 }], { from: 0, to: 7 * 86_400_000 }, oneMinuteRates)).status).toBe(200);
  });
});

describe('POST /api/query tables cut at their limit say so', () => {
  // 5 stored anomalies of 5 templates: the reader answers at most the limit it is asked for, as the stores do
  const five = Array.from({ length: 5 }, (_, i) => ({ id: `${i}-0123456789`, seq: i, time: 1000 + i, source: 'web', score: 10, threshold: 5, line: `line ${i}`, template: `t${i}`, reason: '', suppressed: false }));
  const stored: ResultsReader = { ...results, anomalies: (f) => five.slice(0, f.limit) as unknown as ReturnType<ResultsReader['anomalies']> };
  type Answer = { results: Record<string, { frames: { schema: { meta?: { notices?: { text: string }[] } }; data: { values: unknown[][] } }[] }> };
  const notices = (text: string, refId: string) => (JSON.parse(text) as Answer).results[refId].frames[0].schema.meta?.notices;

  test('an anomalies or templates table with more rows than its limit carries a notice; a complete one none', async () => {
    const res = await post([{ refId: 'A', queryType: 'anomalies', limit: 3 }, { refId: 'B', queryType: 'templates', limit: 2 }, { refId: 'C', queryType: 'anomalies', limit: 5 }], undefined, undefined, stored);
    expect(res.status).toBe(200);
    expect(notices(res.text, 'A')).toEqual([{ severity: 'info', text: expect.stringMatching(/^showing the first 3 anomalies .* more match/) }]);
    expect((JSON.parse(res.text) as Answer).results.A.frames[0].data.values[0]).toHaveLength(3);
    expect(notices(res.text, 'B')).toEqual([{ severity: 'info', text: expect.stringContaining('first 2 of 5 templates') }]);
    expect(notices(res.text, 'C')).toBeUndefined();
  });
});

describe('POST /api/query rows', () => {
  test('table targets asking for more than rowsPerQuery rows together → 400 naming the target that goes over', async () => {
    // 50 such targets were 5 million rows: a 500 (JSON.stringify: Invalid string length) with the service at 1.7 GB.
    const targets = Array.from({ length: 50 }, (_, i) => ({ refId: `R${i}`, queryType: 'anomalies', limit: 100_000 }));
    const res = await post(targets);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ error: expect.stringContaining('rowsPerQuery'), field: 'targets.2.limit' });
  });

  test('two targets at the largest limit, or 50 at the defaults, are answered', async () => {
    expect((await post([{ refId: 'A', queryType: 'anomalies', limit: 100_000 }, { refId: 'B', queryType: 'rate_events', limit: 100_000 }])).status).toBe(200);
    const types = ['anomalies', 'templates', 'feedback', 'rate_events'];
    expect((await post(Array.from({ length: 50 }, (_, i) => ({ refId: `R${i}`, queryType: types[i % 4] })))).status).toBe(200);
  });
});
