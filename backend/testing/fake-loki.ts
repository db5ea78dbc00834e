/**
 * No Loki runs here: a stand-in serving Loki's documented GET /loki/api/v1/query_range request/response shapes
 * (query, start/end in Unix ns, limit, direction=forward → {status, data: {resultType: "streams", result:
 * [{stream, values: [[ns, line]]}]}}) from a real HTTP server on loopback, over an in-memory store.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer, listenLoopback } from './loopback';

export interface StoredEntry {
  ns: bigint;
  line: string;
  labels: Record<string, string>;
}

/** Loki's query_range over an in-memory store, selecting streams by exact label matchers in the query. */
export class FakeLoki {
  readonly entries: StoredEntry[] = [];
  readonly requests: Array<{ params: URLSearchParams; headers: IncomingHttpHeaders }> = [];
  failNext = 0;
  private server: Server | null = null;
  constructor(private readonly endInclusive = false) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      this.requests.push({ params: url.searchParams, headers: req.headers });
      if (this.failNext > 0) {
        this.failNext -= 1;
        res.writeHead(500, { 'content-type': 'text/plain' }).end('ingester unavailable');
        return;
      }
      if (url.pathname !== '/loki/api/v1/query_range') return void res.writeHead(404).end('404 page not found');
      const p = url.searchParams;
      const limit = Number(p.get('limit') ?? '100');
      if (p.get('direction') !== 'forward' || !/^\d+$/.test(p.get('start') ?? '') || !/^\d+$/.test(p.get('end') ?? '')) {
        return void res.writeHead(400).end('bad request');
      }
      const start = BigInt(p.get('start')!);
      const end = BigInt(p.get('end')!);
      const matchers = [...(p.get('query') ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as const);
      const selected = this.entries
        .filter((e) => e.ns >= start && (this.endInclusive ? e.ns <= end : e.ns < end))
        .filter((e) => matchers.every(([k, v]) => e.labels[k] === v))
        .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0))
        .slice(0, limit);
      const streams = new Map<string, { stream: Record<string, string>; values: Array<[string, string]> }>();
      for (const e of selected) {
        const key = JSON.stringify(e.labels);
        if (!streams.has(key)) streams.set(key, { stream: e.labels, values: [] });
        streams.get(key)!.values.push([e.ns.toString(), e.line]);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [...streams.values()], stats: {} } }));
    });
    return listenLoopback(this.server);
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }
}
