/**
 * FakeLoki refuses what Loki refuses, with Loki's status, content type and message (defaults of limits_config:
 * max_entries_limit_per_query 5000, max_query_length 721h; pkg/loghttp/params.go), and pages like it.
 */
import { FakeLoki } from './fake-loki';

describe('FakeLoki, the stand-in for Loki', () => {
  let loki: FakeLoki;
  let url: string;
  const NOW_NS = BigInt(Date.now()) * 1_000_000n;
  const HOUR_NS = 3_600_000_000_000n;
  const get = async (params: Record<string, string>): Promise<{ status: number; type: string | null; text: string }> => {
    const res = await fetch(`${url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{job="api"}', ...params })}`);
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  beforeEach(async () => {
    loki = new FakeLoki();
    url = await loki.start();
    loki.entries.push(...[1n, 2n, 3n].map((i) => ({ ns: NOW_NS - HOUR_NS + i, line: `line ${i}`, labels: { job: 'api' } })));
  });
  afterEach(() => loki.stop());

  const range = { start: (NOW_NS - 2n * HOUR_NS).toString(), end: NOW_NS.toString() };

  it('refuses a limit above max_entries_limit_per_query with 400 and Loki message', async () => {
    expect(await get({ ...range, limit: '6000', direction: 'forward' })).toEqual({
      status: 400,
      type: 'text/plain; charset=utf-8',
      text: 'max entries limit per query exceeded, limit > max_entries_limit_per_query (6000 > 5000)\n',
    });
    expect((await get({ ...range, limit: '5000', direction: 'forward' })).status).toBe(200);
    expect(await get({ ...range, limit: '0' })).toMatchObject({ status: 400, text: 'limit must be a positive value\n' });
  });

  it('refuses a range longer than max_query_length (721h) and an end before the start', async () => {
    expect(await get({ start: (NOW_NS - 800n * HOUR_NS).toString(), end: NOW_NS.toString() })).toMatchObject({
      status: 400,
      text: 'the query time range exceeds the limit (query length: 800h0m0s, limit: 30d1h)\n',
    });
    expect((await get({ start: (NOW_NS - 721n * HOUR_NS).toString(), end: NOW_NS.toString() })).status).toBe(200);
    expect(await get({ start: NOW_NS.toString(), end: (NOW_NS - 1n).toString() })).toMatchObject({
      status: 400,
      text: 'end timestamp must not be before or equal to start time\n',
    });
  });

  it('answers newest first by default (direction=backward, limit 100) and oldest first with direction=forward', async () => {
    const lines = async (params: Record<string, string>): Promise<string[]> =>
      JSON.parse((await get({ ...range, ...params })).text).data.result.flatMap((s: { values: string[][] }) => s.values.map((v) => v[1]));
    expect(await lines({ limit: '2' })).toEqual(['line 3', 'line 2']);
    expect(await lines({ limit: '2', direction: 'forward' })).toEqual(['line 1', 'line 2']);
  });
});
