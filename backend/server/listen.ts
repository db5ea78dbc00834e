/**
 * Listening for HTTP the way every mode does it (embedded service, cluster roles): on config.host:port, with
 * timeouts so slow or stuck clients cannot hold sockets forever, JSON answers to requests Node's parser refuses
 * (client-error.ts), and a close that also drops keep-alive sockets.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { answerClientError } from './client-error';

export interface Listening {
  readonly server: Server;
  readonly port: number;
  /** http://host:port (IPv6 hosts in brackets). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A request's headers must arrive within 20 s and the whole request within 60 s (Node's defaults: 60 s and 300 s),
 * else 408. Node checks them every connectionsCheckingInterval (default 30 s, so a request lived up to 90 s);
 * every second makes them the limits they say. Bodies that trickle are cut sooner (body-budget.ts, SLOW_BODY).
 */
export const SERVER_TIMEOUTS = { headersTimeout: 20_000, requestTimeout: 60_000, connectionsCheckingInterval: 1_000 } as const;

export async function listen(app: Express, host: string, port: number): Promise<Listening> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = createServer(SERVER_TIMEOUTS, app);
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
  server.on('clientError', answerClientError);
  // Node answers `Expect: 100-continue` itself, at once, unless someone listens: then the sender transmits a body
  // the body budget may refuse. With this listener the app decides (body-budget.ts admitBodies sends the 100 only to
  // a body it admits), so a refused sender (curl sends the header for bodies over 1 MiB) never sends its body.
  server.on('checkContinue', (req, res) => server.emit('request', req, res));
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
