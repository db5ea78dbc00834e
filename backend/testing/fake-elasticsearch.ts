/**
 * No Elasticsearch runs here: a stand-in serving the documented POST /<index>/_search request/response shapes
 * (bool filter + range on the time field in epoch_millis, `ids` in must_not, sort asc with an optional
 * tiebreaker, search_after = the previous hit's `sort` values → {hits: {hits: [{_index, _id, _source, sort}]}})
 * from a real HTTP server on loopback, evaluating them over an in-memory index, and refusing what Elasticsearch
 * refuses with its status and error body: 404 index_not_found_exception for a missing index (unless
 * ignore_unavailable), 400 parsing_exception for an unknown query, 400 for from + size over max_result_window
 * (10000) or a search_after not matching the sort, 400 for a body that is not JSON, 429
 * es_rejected_execution_exception on demand (rejectNext).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenLoopback } from './loopback';

export interface Doc {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}
type SortTuple = Array<number | string>;

/** index.max_result_window's default. */
const MAX_RESULT_WINDOW = 10_000;
/** Query types this stand-in evaluates. */
const EVALUATED = new Set(['bool', 'match_all', 'term', 'range', 'ids']);
/** Other real Query DSL types: accepted by Elasticsearch, so not a 400 here (the stand-in says it cannot run them). */
const QUERY_DSL = new Set(['match', 'match_phrase', 'match_phrase_prefix', 'match_none', 'multi_match', 'terms', 'exists', 'prefix', 'wildcard', 'regexp', 'fuzzy', 'query_string', 'simple_query_string', 'nested', 'constant_score', 'dis_max', 'function_score', 'boosting', 'script', 'geo_distance', 'combined_fields', 'intervals']);

/** Elasticsearch's error body: {error: {root_cause: [{type, reason}], type, reason}, status}. */
function refuse(res: ServerResponse, status: number, type: string, reason: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status }));
}

/** The query type names in a Query DSL object, bool clauses included. */
function queryNames(query: unknown): string[] {
  if (!query || typeof query !== 'object') return [];
  return Object.entries(query as Record<string, any>).flatMap(([name, inner]) =>
    name === 'bool'
      ? ['bool', ...['filter', 'must', 'must_not', 'should'].flatMap((clause) => [inner?.[clause] ?? []].flat().flatMap(queryNames))]
      : [name]
  );
}

function compareTuples(a: SortTuple, b: SortTuple): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}

/** The subset of the Query DSL the source sends, evaluated like Elasticsearch does. */
export class FakeElasticsearch {
  readonly docs: Doc[] = [];
  readonly requests: Array<{ path: string; headers: IncomingHttpHeaders; body: Record<string, any> }> = [];
  /** The next requests are refused as a full search thread pool refuses them: 429 es_rejected_execution_exception. */
  rejectNext = 0;
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        let body: Record<string, any>;
        try {
          body = raw ? JSON.parse(raw) : {};
        } catch {
          return void refuse(res, 400, 'x_content_parse_exception', '[1:2] Unexpected character in request body');
        }
        this.requests.push({ path: url.pathname, headers: req.headers, body });
        if (this.rejectNext > 0) {
          this.rejectNext -= 1;
          return void refuse(res, 429, 'es_rejected_execution_exception', 'rejected execution of TimedRunnable on EsThreadPoolExecutor[name = node-1/search, queue capacity = 1000]');
        }
        const m = /^\/([^/]+)\/_search$/.exec(url.pathname);
        if (!m) return void refuse(res, 400, 'illegal_argument_exception', `request [${url.pathname}] contains unrecognized parameter or path`);
        if (req.method !== 'POST' && req.method !== 'GET') {
          res.writeHead(405, { 'content-type': 'application/json', allow: 'GET,POST' });
          return void res.end(JSON.stringify({ error: `Incorrect HTTP method for uri [${req.url}] and method [${req.method}], allowed: [POST, GET]`, status: 405 }));
        }
        const names = decodeURIComponent(m[1]).split(',');
        const missing = names.find((n) => !n.includes('*') && !this.docs.some((d) => d._index === n));
        if (missing && url.searchParams.get('ignore_unavailable') !== 'true') {
          return void refuse(res, 404, 'index_not_found_exception', `no such index [${missing}]`);
        }
        const pattern = new RegExp(`^(${names.map((n) => n.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')).join('|')})$`);
        const refusal = this.invalid(body);
        if (refusal) return void refuse(res, refusal.status, refusal.type, refusal.reason);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.search(body, pattern)));
      });
    });
    return listenLoopback(this.server);
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }

  /** Elasticsearch's 400s for a request it cannot run (checked before searching, as it does). */
  private invalid(body: Record<string, any>): { status: number; type: string; reason: string } | null {
    const window = (body.from ?? 0) + (body.size ?? 10);
    if (window > MAX_RESULT_WINDOW) {
      return {
        status: 400,
        type: 'illegal_argument_exception',
        reason: `Result window is too large, from + size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${window}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.`,
      };
    }
    if (body.search_after && body.search_after.length !== (body.sort ?? []).length) {
      return { status: 400, type: 'illegal_argument_exception', reason: `search_after has ${body.search_after.length} value(s) but sort has ${(body.sort ?? []).length}.` };
    }
    const unknown = queryNames(body.query).find((name) => !EVALUATED.has(name));
    if (unknown && !QUERY_DSL.has(unknown)) return { status: 400, type: 'parsing_exception', reason: `unknown query [${unknown}]` };
    if (unknown) return { status: 500, type: 'fake_elasticsearch_exception', reason: `FakeElasticsearch does not evaluate [${unknown}] queries (Elasticsearch does)` };
    return null;
  }

  private search(body: Record<string, any>, index: RegExp): unknown {
    const sortFields: string[] = body.sort.map((s: Record<string, unknown>) => Object.keys(s)[0]);
    const sortOf = (d: Doc): SortTuple =>
      sortFields.map((f, i) => (i === 0 ? Date.parse(d._source[f] as string) : (d._source[f] as string)));
    const bool = body.query.bool;
    const excluded = new Set<string>((bool.must_not ?? []).flatMap((q: any) => q.ids.values));
    let hits = this.docs
      .filter((d) => index.test(d._index))
      .filter((d) => bool.filter.every((q: any) => this.matches(d, q)))
      .filter((d) => !excluded.has(d._id))
      .map((d) => ({ ...d, sort: sortOf(d) }))
      .sort((a, b) => compareTuples(a.sort, b.sort));
    if (body.search_after) hits = hits.filter((h) => compareTuples(h.sort, body.search_after) > 0);
    return { took: 1, timed_out: false, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 }, hits: { max_score: null, hits: hits.slice(0, body.size) } };
  }

  private matches(d: Doc, q: any): boolean {
    if (q.match_all) return true;
    if (q.term) {
      const [field, value] = Object.entries(q.term)[0];
      return d._source[field] === value;
    }
    if (q.range) {
      const [field, r] = Object.entries(q.range)[0] as [string, any];
      if (r.format !== 'epoch_millis') throw new Error('test server expects epoch_millis bounds');
      const t = Date.parse(d._source[field] as string);
      return (r.gte === undefined || t >= r.gte) && (r.lt === undefined || t < r.lt);
    }
    if (q.ids) return q.ids.values.includes(d._id);
    if (q.bool) return (q.bool.filter ?? []).every((f: any) => this.matches(d, f));
    throw new Error(`query not supported by the test server: ${JSON.stringify(q)}`);
  }
}
