/**
 * Test support for the jsdom tests (not bundled: no plugin module imports it).
 *
 * - `startWireServer` is a real HTTP server on 127.0.0.1 that answers with the Scorpio backend's documented wire
 *   format (docs/architecture.md "HTTP API"); each test supplies the answers and reads back what arrived.
 *   The browser test (tests/browser/) runs the real backend instead.
 * - `nodeBackendSrv` is a BackendSrv (Grafana's HTTP client interface) doing real HTTP with node's `http`, with
 *   the data-proxy step of a Grafana server: `/api/datasources/proxy/uid/<uid>/lad/...` goes to the server with
 *   the route's Authorization header added, as the plugin.json route tells Grafana to.
 */
import http from 'http';
import type { AddressInfo } from 'net';
import { Observable } from 'rxjs';
import type { BackendSrv, BackendSrvRequest, FetchResponse } from '@grafana/runtime';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface WireReply {
  status?: number;
  body?: unknown;
  /** Hold the answer until this promise settles (to test pending states). */
  delay?: Promise<unknown>;
}

export type WireHandler = (req: RecordedRequest) => WireReply | undefined;

export interface WireServer {
  url: string;
  requests: RecordedRequest[];
  handle(handler: WireHandler): void;
  close(): Promise<void>;
}

export async function startWireServer(initial?: WireHandler): Promise<WireServer> {
  const requests: RecordedRequest[] = [];
  let handler: WireHandler = initial ?? (() => undefined);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const recorded = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      requests.push(recorded);
      const reply = handler(recorded) ?? { status: 404, body: { error: `no route ${recorded.method} ${recorded.path}` } };
      if (reply.delay) {
        await reply.delay.catch(() => undefined);
      }
      const status = reply.status ?? 200;
      if (reply.body === undefined || status === 204) {
        res.writeHead(status).end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const PROXY = /^\/api\/datasources\/proxy\/uid\/[^/]+\/lad(?=\/|$)/;

function send<T>(target: string, options: BackendSrvRequest, token?: string): Promise<FetchResponse<T>> {
  return new Promise((resolve, reject) => {
    const url = new URL(target);
    const method = (options.method ?? 'GET').toUpperCase();
    const payload = options.data === undefined ? undefined : JSON.stringify(options.data);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
    }
    if (token !== undefined) {
      headers.authorization = `Bearer ${token}`;
    }
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let data: unknown = text;
        try {
          data = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text
        }
        const status = res.statusCode ?? 0;
        const response = {
          data: data as T,
          status,
          statusText: res.statusMessage ?? '',
          ok: status < 400,
          headers: {} as Headers,
          redirected: false,
          type: 'basic',
          url: target,
          config: options,
        } as FetchResponse<T>;
        if (status >= 400) {
          reject({ ...response, data });
        } else {
          resolve(response);
        }
      });
    });
    req.on('error', (err) => reject({ status: 502, statusText: 'Bad Gateway', data: { message: err.message }, config: options }));
    if (payload !== undefined) {
      req.write(payload);
    }
    req.end();
  });
}

/** A Grafana BackendSrv over real HTTP whose data proxy forwards to `backendUrl`. */
export function nodeBackendSrv(backendUrl: string, token?: string): BackendSrv {
  const rewrite = (url: string) => {
    if (!PROXY.test(url)) {
      throw new Error(`test BackendSrv only proxies Scorpio datasource URLs, got ${url}`);
    }
    return url.replace(PROXY, backendUrl);
  };
  const request = <T>(options: BackendSrvRequest) => send<T>(rewrite(options.url), options, token);
  const srv = {
    fetch: <T>(options: BackendSrvRequest) =>
      new Observable<FetchResponse<T>>((subscriber) => {
        request<T>(options).then(
          (r) => {
            subscriber.next(r);
            subscriber.complete();
          },
          (e) => subscriber.error(e)
        );
      }),
    datasourceRequest: request,
    request: async <T>(options: BackendSrvRequest) => (await request<T>(options)).data,
    get: async <T>(url: string) => (await request<T>({ url, method: 'GET' })).data,
    delete: async <T>(url: string, data?: unknown) => (await request<T>({ url, method: 'DELETE', data })).data,
    post: async <T>(url: string, data?: unknown) => (await request<T>({ url, method: 'POST', data })).data,
    put: async <T>(url: string, data?: unknown) => (await request<T>({ url, method: 'PUT', data })).data,
    patch: async <T>(url: string, data?: unknown) => (await request<T>({ url, method: 'PATCH', data })).data,
    chunked: () => {
      throw new Error('chunked requests are not used by the Scorpio plugin');
    },
  };
  return srv as unknown as BackendSrv;
}
