/**
 * No Elasticsearch runs here: a stand-in serving the documented POST /<index>/_search request/response shapes
 * (bool filter + range on the time field in epoch_millis, `ids` in must_not, sort asc with an optional
 * tiebreaker, search_after = the previous hit's `sort` values → {hits: {hits: [{_index, _id, _source, sort}]}})
 * from a real HTTP server on loopback, evaluating them over an in-memory index.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer, listenLoopback } from './loopback';

export interface Doc {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}
type SortTuple = Array<number | string>;

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
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const body = raw ? JSON.parse(raw) : {};
        this.requests.push({ path: url.pathname, headers: req.headers, body });
        const m = /^\/([^/]+)\/_search$/.exec(url.pathname);
        if (req.method !== 'POST' || !m) return void res.writeHead(405).end();
        const pattern = new RegExp(`^${decodeURIComponent(m[1]).replace(/\*/g, '.*')}$`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.search(body, pattern)));
      });
    });
    return listenLoopback(this.server);
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
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
    throw new Error(`query not supported by the test server: ${JSON.stringify(q)}`);
  }
}
