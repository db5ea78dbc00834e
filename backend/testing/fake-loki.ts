/**
 * No Loki runs here: a stand-in serving Loki's documented GET /loki/api/v1/query_range request/response shapes
 * (query, start/end in Unix ns, limit (default 100), direction (default backward) → {status, data: {resultType:
 * "streams", result: [{stream, values: [[ns, line]]}]}}) from a real HTTP server on loopback, over an in-memory
 * store, and refusing what Loki refuses with its status and message: limit above max_entries_limit_per_query
 * (5000), a range longer than max_query_length (721h), end before start.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenLoopback } from './loopback';

/** Loki's default limits_config: max_entries_limit_per_query 5000, max_query_length 721h (30d1h). */
export const MAX_ENTRIES_LIMIT_PER_QUERY = 5000;
const MAX_QUERY_LENGTH_NS = 721n * 3600n * 1_000_000_000n;

/** Loki answers errors as http.Error does: text/plain, the message and a newline. */
function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(`${message}\n`);
}

/** Go's time.Duration.String() for a non-negative length in ns: 800h0m0s, 721h0m0.5s. */
function goDuration(ns: bigint): string {
  const h = ns / 3_600_000_000_000n;
  const m = (ns / 60_000_000_000n) % 60n;
  const whole = (ns / 1_000_000_000n) % 60n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${h}h${m}m${whole}${frac ? `.${frac}` : ''}s`;
}

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
        return void refuse(res, 500, 'ingester unavailable');
      }
      if (url.pathname !== '/loki/api/v1/query_range') return void refuse(res, 404, '404 page not found');
      const p = url.searchParams;
      // Loki's own refusals (pkg/loghttp/params.go, pkg/util/validation), as text/plain 400s with its messages
      const limitText = p.get('limit') || '100';
      if (!/^-?\d+$/.test(limitText)) return void refuse(res, 400, `strconv.ParseInt: parsing "${limitText}": invalid syntax`);
      const limit = Number(limitText);
      if (limit <= 0) return void refuse(res, 400, 'limit must be a positive value');
      if (limit > MAX_ENTRIES_LIMIT_PER_QUERY) {
        return void refuse(res, 400, `max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${MAX_ENTRIES_LIMIT_PER_QUERY})`);
      }
      const direction = (p.get('direction') ?? 'backward').toLowerCase();
      if (direction !== 'forward' && direction !== 'backward') return void refuse(res, 400, `invalid direction '${p.get('direction')}'`);
      // (the stand-in reads start/end as Unix ns only; Loki also takes RFC 3339 and seconds)
      if (!/^\d+$/.test(p.get('start') ?? '') || !/^\d+$/.test(p.get('end') ?? '')) return void refuse(res, 400, 'bad request');
      const start = BigInt(p.get('start')!);
      const end = BigInt(p.get('end')!);
      if (end < start) return void refuse(res, 400, 'end timestamp must not be before or equal to start time');
      if (end - start > MAX_QUERY_LENGTH_NS) {
        return void refuse(res, 400, `the query time range exceeds the limit (query length: ${goDuration(end - start)}, limit: 30d1h)`);
      }
      const matchers = [...(p.get('query') ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as const);
      const selected = this.entries
        .filter((e) => e.ns >= start && (this.endInclusive ? e.ns <= end : e.ns < end))
        .filter((e) => matchers.every(([k, v]) => e.labels[k] === v))
        .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0) * (direction === 'forward' ? 1 : -1))
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
