/**
 * The HTTP leg of the data-proxy stand-in (./grafanaDataProxy.ts), shared by the jsdom BackendSrv (./wireBackend.ts)
 * and the browser test's host server (tests/browser/host-server.ts): one request forwarded to the backend with the
 * headers Grafana sends, the answer passed back as Grafana passes it, an unreachable backend an empty 502 and one
 * silent for dataproxy.timeout an empty 504.
 */
import http from 'http';
import type { Readable } from 'stream';

import { DATA_PROXY_TIMEOUT_MS, forwardedHeaders, proxiedResponse, upstreamFailure, type Headers, type ProxyDecision } from './grafanaDataProxy';

export interface ProxiedAnswer {
  status: number;
  /** The backend's reason phrase when its status passes through, else Node's name of the status. */
  statusText: string;
  headers: Record<string, string | string[]>;
  body: string;
}

export function forwardOverHttp(
  decision: Extract<ProxyDecision, { kind: 'forward' }>,
  method: string,
  browserHeaders: Headers,
  remoteAddr: string,
  body?: string | Readable
): Promise<ProxiedAnswer> {
  return new Promise((resolve) => {
    const failed = (timedOut: boolean) => {
      const failure = upstreamFailure(timedOut);
      resolve({ status: failure.status, statusText: http.STATUS_CODES[failure.status] ?? '', headers: {}, body: failure.body });
    };
    const headers = forwardedHeaders(browserHeaders, decision, remoteAddr);
    const upstream = http.request(new URL(decision.url), { method, headers }, (res) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const answer = proxiedResponse(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString('utf8'));
        const statusText = answer.status === res.statusCode ? (res.statusMessage ?? '') : (http.STATUS_CODES[answer.status] ?? '');
        resolve({ ...answer, statusText });
      });
    });
    // Grafana waits dataproxy.timeout for the response headers, then answers 504.
    const timer = setTimeout(() => {
      upstream.destroy();
      failed(true);
    }, DATA_PROXY_TIMEOUT_MS);
    upstream.on('error', () => {
      clearTimeout(timer);
      failed(false);
    });
    if (body === undefined || typeof body === 'string') {
      upstream.end(body);
    } else {
      body.pipe(upstream);
    }
  });
}
