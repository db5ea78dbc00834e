/**
 * FakeElasticsearch refuses what Elasticsearch refuses, with its status and error body
 * ({error: {root_cause, type, reason}, status}), and still answers the source's own requests.
 */
import { FakeElasticsearch } from './fake-elasticsearch';

describe('FakeElasticsearch, the stand-in for Elasticsearch', () => {
  let es: FakeElasticsearch;
  let url: string;
  const search = async (path: string, body: unknown, method = 'POST'): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  };
  const query = (q: unknown = { match_all: {} }): Record<string, unknown> => ({
    size: 10,
    query: { bool: { filter: [q, { range: { '@timestamp': { gte: 0, lt: Date.now(), format: 'epoch_millis' } } }] } },
    sort: [{ '@timestamp': { order: 'asc', numeric_type: 'date' } }],
  });
  const error = (type: string, reason: string, status: number): unknown => ({ error: { root_cause: [{ type, reason }], type, reason }, status });

  beforeEach(async () => {
    es = new FakeElasticsearch();
    url = await es.start();
    es.docs.push({ _index: 'logs-a', _id: '1', _source: { '@timestamp': new Date().toISOString(), message: 'hello' } });
  });
  afterEach(() => es.stop());

  it('answers a missing index with 404 index_not_found_exception unless ignore_unavailable=true', async () => {
    expect(await search('/nope/_search', query())).toEqual({ status: 404, json: error('index_not_found_exception', 'no such index [nope]', 404) });
    expect((await search('/nope/_search?ignore_unavailable=true', query())).json.hits.hits).toEqual([]);
    expect((await search('/nope-*/_search', query())).json.hits.hits).toEqual([]); // a pattern matching nothing: allow_no_indices
    expect((await search('/logs-a/_search', query())).json.hits.hits).toHaveLength(1);
  });

  it('answers 400 for an unknown query, a result window over 10000, a search_after not matching the sort, a body that is not JSON', async () => {
    expect(await search('/logs-*/_search', query({ no_such_query: {} }))).toEqual({ status: 400, json: error('parsing_exception', 'unknown query [no_such_query]', 400) });
    expect((await search('/logs-*/_search', { ...query(), size: 10_001 })).json.error.reason).toMatch(/^Result window is too large, from \+ size must be less than or equal to: \[10000\] but was \[10001\]/);
    expect(await search('/logs-*/_search', { ...query(), search_after: [1, 'x'] })).toEqual({ status: 400, json: error('illegal_argument_exception', 'search_after has 2 value(s) but sort has 1.', 400) });
    expect((await search('/logs-*/_search', '{"size": ')).status).toBe(400);
    // a real query type it does not evaluate is not Elasticsearch's 400: the stand-in says so
    expect(await search('/logs-*/_search', query({ match: { message: 'hello' } }))).toMatchObject({ status: 500, json: { error: { reason: expect.stringContaining('FakeElasticsearch does not evaluate [match]') } } });
  });

  it('refuses with 429 es_rejected_execution_exception when told to, then answers again', async () => {
    es.rejectNext = 1;
    const rejected = await search('/logs-*/_search', query());
    expect(rejected).toMatchObject({ status: 429, json: { status: 429, error: { type: 'es_rejected_execution_exception' } } });
    expect((await search('/logs-*/_search', query())).json.hits.hits).toHaveLength(1);
  });
});
