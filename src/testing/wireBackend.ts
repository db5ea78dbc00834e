/**
 * Test support for the jsdom tests (not bundled: no plugin module imports it).
 *
 * - `startWireServer` is a real HTTP server on 127.0.0.1 that answers with the Scorpio backend's documented wire
 *   format (docs/architecture.md "HTTP API"); each test supplies the answers and reads back what arrived.
 *   The browser test (tests/browser/) runs the real backend instead.
 * - `backendSrvViaDataProxyStandIn` is a BackendSrv (Grafana's HTTP client interface) doing real HTTP with node's
 *   `http`, behind the stand-in for Grafana's data proxy (./grafanaDataProxy.ts): routes of the real
 *   src/datasource/plugin.json matched by path and method, reqRole enforced, the token injected from
 *   secureJsonData, the browser's headers forwarded as Grafana forwards them, a backend 401 turned into Grafana's 400,
 *   an unreachable backend an empty 502; errors reshaped as Grafana's BackendSrv does (./grafanaBackendSrv.ts).
 */
import fs from 'fs';
import http from 'http';
import type { AddressInfo } from 'net';
import path from 'path';
import { Observable } from 'rxjs';
import type { BackendSrv, BackendSrvRequest, FetchResponse } from '@grafana/runtime';

import {
  contextSchema,
  feedbackListSchema,
  feedbackRecordSchema,
  healthSchema,
  livenessSchema,
  queryResponseSchema,
  reviewResponseSchema,
  sourcesSchema,
} from '../shared/contract';
import { grafanaErrorData, grafanaResponseData } from './grafanaBackendSrv';
import { forwardOverHttp } from './dataProxyHttp';
import { proxyDecision, type DataProxyConfig, type OrgRole, type PluginRoute } from './grafanaDataProxy';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface WireReply {
  status?: number;
  body?: unknown;
  /** A body the real backend would never send, on purpose (the contract check below lets it through). */
  offContract?: boolean;
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

type Schema = { safeParse(v: unknown): { success: boolean; error?: { message: string } } };

/** The contract's schema of a successful answer per `METHOD path` (backend/contract); context paths end in /context. */
const ANSWERS: Array<[RegExp, Schema]> = [
  [/^GET \/api\/health$/, healthSchema.or(livenessSchema)],
  [/^GET \/api\/sources$/, sourcesSchema],
  [/^GET \/api\/anomalies\/[^/]+\/context$/, contextSchema],
  [/^GET \/api\/review$/, reviewResponseSchema],
  [/^GET \/api\/feedback$/, feedbackListSchema],
  [/^POST \/api\/feedback$/, feedbackRecordSchema],
  [/^POST \/api\/query$/, queryResponseSchema],
];

function answerSchema(method: string, path: string): Schema | undefined {
  const key = `${method} ${path.split('?')[0]}`;
  return ANSWERS.find(([pattern]) => pattern.test(key))?.[1];
}

/**
 * The stand-in answers only what the real backend could: a successful body that breaks the contract becomes a 500
 * naming the problem, so a hand-written answer cannot drift from the backend unnoticed.
 */
function checkedReply(recorded: RecordedRequest, reply: WireReply): WireReply {
  const status = reply.status ?? 200;
  if (reply.offContract || status >= 300 || reply.body === undefined) {
    return reply;
  }
  const result = answerSchema(recorded.method, recorded.path)?.safeParse(reply.body);
  if (!result || result.success) {
    return reply;
  }
  const message = `the stand-in's answer to ${recorded.method} ${recorded.path} breaks the contract: ${result.error?.message}`;
  console.error(message);
  return { status: 500, body: { error: message } };
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
      const reply = checkedReply(recorded, handler(recorded) ?? { status: 404, body: { error: `no route ${recorded.method} ${recorded.path}` } });
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

/** The headers Grafana's BackendSrv sends for a plugin request from a signed-in browser (core/utils/fetch.ts). */
function browserHeaders(method: string): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'application/json, text/plain, */*',
    'x-grafana-org-id': '1',
    cookie: 'grafana_session=stand-in-session; grafana_session_expiry=1',
    referer: 'http://grafana.local/d/scorpio-log-anomalies',
    origin: 'http://grafana.local',
  };
  if (['POST', 'PUT', 'PATCH'].includes(method)) {
    headers['content-type'] = 'application/json';
  }
  return headers;
}

type Answer = { status: number; statusText: string; text: string };

/** The routes of the datasource's plugin.json, as Grafana reads them. */
export function pluginRoutes(): PluginRoute[] {
  const manifest = path.resolve(__dirname, '..', 'datasource', 'plugin.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { routes: PluginRoute[] }).routes;
}

export interface StandInOptions {
  /** The datasource's secureJsonData.token (absent: no token configured). */
  token?: string;
  /** The signed-in user's role; compose's anonymous user is an Editor. */
  role?: OrgRole;
  /** Uids of the Scorpio datasources Grafana knows, all pointing at the same backend. */
  uids?: string[];
}

export type StandInBackendSrv = BackendSrv & {
  /** Every request that reached the backend: `<uid> <METHOD> <backend path>`. */
  proxied: string[];
};

/**
 * A Grafana BackendSrv over real HTTP whose data proxy is the stand-in for Grafana's: requests to
 * `/api/datasources/proxy/uid/<uid>/...` of a known uid reach `backendUrl` as Grafana would forward them, and
 * fail (rejecting like Grafana's BackendSrv: `{status, statusText, data}`) as Grafana's answers would.
 */
export function backendSrvViaDataProxyStandIn(backendUrl: string, options: StandInOptions = {}): StandInBackendSrv {
  const config: DataProxyConfig = {
    routes: pluginRoutes(),
    role: options.role ?? 'Editor',
    datasources: (options.uids ?? ['scorpio-lad']).map((uid) => ({
      uid,
      jsonData: { url: backendUrl },
      secureJsonData: options.token === undefined ? ({} as Record<string, string>) : { token: options.token },
    })),
  };
  const proxied: string[] = [];
  const request = async <T>(opts: BackendSrvRequest): Promise<FetchResponse<T>> => {
    const method = (opts.method ?? 'GET').toUpperCase();
    const decision = proxyDecision(config, method, opts.url);
    let answer: Answer;
    if (decision.kind === 'reply') {
      answer = { status: decision.status, statusText: http.STATUS_CODES[decision.status] ?? '', text: decision.body };
    } else {
      proxied.push(`${decision.datasourceUid} ${method} ${new URL(decision.url).pathname}`);
      const proxiedAnswer = await forwardOverHttp(decision, method, browserHeaders(method), '127.0.0.1', opts.data === undefined ? undefined : JSON.stringify(opts.data));
      answer = { status: proxiedAnswer.status, statusText: proxiedAnswer.statusText, text: proxiedAnswer.body };
    }
    const data = grafanaResponseData(answer.text);
    const response = {
      // A failed answer's data as Grafana's BackendSrv reshapes it (a text body becomes {message, error, response}).
      data: (answer.status >= 400 ? grafanaErrorData(data, answer.statusText) : data) as T,
      status: answer.status,
      statusText: answer.statusText,
      ok: answer.status < 400,
      headers: {} as Headers,
      redirected: false,
      type: 'basic',
      url: opts.url,
      config: opts,
    } as FetchResponse<T>;
    if (answer.status >= 400) {
      throw response;
    }
    return response;
  };
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
  return Object.assign(srv as unknown as BackendSrv, { proxied });
}
