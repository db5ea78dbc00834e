/**
 * Listening for HTTP the way every mode does it (embedded service, cluster roles): on config.host:port, with
 * timeouts so slow or stuck clients cannot hold sockets forever, JSON answers to requests Node's parser refuses
 * (client-error.ts), and a close that also drops keep-alive sockets.
 */
import type { Server } from 'node:http';
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

export async function listen(app: Express, host: string, port: number): Promise<Listening> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.once('error', reject);
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.on('clientError', answerClientError);
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
