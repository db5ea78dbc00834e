/**
 * Listening for HTTP the way every mode does it (embedded service, cluster roles): on config.host:port, with
 * timeouts so slow, stuck or silent clients cannot hold sockets forever, a cap on open connections, JSON answers to
 * requests Node's parser refuses (client-error.ts), and a close that drains: requests already received are
 * answered before their connections close.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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

/**
 * A connection that has sent not one byte this long after it opened is closed, unanswered (there is no request to
 * answer). Node's headersTimeout alone answered it 408 after 20 s (21 s measured, built service): 20,000 silent
 * connections opened within that time took every file descriptor (the cap, connections.ts, is the bound; this
 * halves how long each holds its slot). Once a byte came, headersTimeout and requestTimeout bound the request; after
 * an answer, an idle keep-alive connection is closed after Node's keepAliveTimeout (5 s).
 */
export const SILENT_CONNECTION_MS = 10_000;

/**
 * close() takes the connections the kernel already queued (up to 1 s), stops accepting, closes idle connections, and
 * gives requests received this long in all to be answered (each with `Connection: close`); connections still busy
 * after it are cut.
 */
export const DRAIN_MS = 5_000;

/**
 * The drain a service gives: DRAIN_MS, or its query deadline and a second more when that is longer, so a query
 * running at the stop gets its answer or the deadline's 503 (api/query-deadline.ts) rather than a reset (the default
 * deadline, 10 s, gives 11 s: within Kubernetes' 30 s grace period).
 */
export function drainTime(queryDeadlineMs: number): number {
  return Math.max(DRAIN_MS, queryDeadlineMs + 1_000);
}

export interface ListenOptions {
  /** server.maxConnections: past it Node closes a new connection at once (connections.ts derives it). */
  maxConnections?: number;
  /** Overrides for tests. */
  silentConnectionMs?: number;
  drainMs?: number;
}

export async function listen(app: Express, host: string, port: number, options: ListenOptions = {}): Promise<Listening> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = createServer(SERVER_TIMEOUTS, app);
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  server.on('clientError', answerClientError);
  // Node answers `Expect: 100-continue` itself, at once, unless someone listens: then the sender transmits a body
  // the body budget may refuse. With this listener the app decides (body-budget.ts admitBodies sends the 100 only to
  // a body it admits), so a refused sender (curl sends the header for bodies over 1 MiB) never sends its body.
  server.on('checkContinue', (req, res) => server.emit('request', req, res));
  closeSilentConnections(server, options.silentConnectionMs ?? SILENT_CONNECTION_MS);
  const drain = drainer(server, options.drainMs ?? DRAIN_MS);
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    close: drain,
  };
}

/** Closes each connection that sent no byte within `ms` of opening (SILENT_CONNECTION_MS). */
function closeSilentConnections(server: Server, ms: number): void {
  server.on('connection', (socket: Socket) => {
    // bytesRead is counted by the stream handle itself, also while Node's HTTP parser consumes it directly
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, ms);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/**
 * The close of a draining server: take the connections the kernel already queued (at most a fifth of `ms`, 1 s),
 * stop listening, close idle connections, answer what was received (each answer closes its connection), cut what is left after `ms`.
 * Resolves once every connection is closed.
 *
 * "Idle" is decided here, not by Node's closeIdleConnections (which server.close() calls too): Node counts a
 * connection idle once its request was read and its answer ended, and destroyed answers still being written
 * (10 queries of 26 MB at SIGTERM: all cut, ECONNRESET or a short body). Here a connection is idle when every
 * answer on it has been handed to the kernel ('close' of the response) and no byte came in after the last. A
 * connection that has not spoken yet is not idle: it was accepted for a request that may be on its way (the
 * silent-connection timer or the drain's bound closes it).
 */
function drainer(server: Server, ms: number): () => Promise<void> {
  const connections = new Map<Socket, { answers: Set<ServerResponse>; readAtLastAnswer: number }>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    connections.set(socket, { answers: new Set(), readAtLastAnswer: 0 });
    socket.once('close', () => connections.delete(socket));
  });
  const idle = (socket: Socket): boolean => {
    const c = connections.get(socket);
    return c !== undefined && c.answers.size === 0 && socket.bytesRead > 0 && socket.bytesRead === c.readAtLastAnswer;
  };
  const closeIdle = (): void => {
    for (const socket of connections.keys()) if (idle(socket)) socket.destroy();
  };
  let draining = false;
  // first, before the app: an answer started while draining says `Connection: close`
  server.prependListener('request', (req, res: ServerResponse) => {
    const socket = req.socket;
    const c = connections.get(socket);
    c?.answers.add(res);
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      c?.answers.delete(res);
      if (c) c.readAtLastAnswer = socket.bytesRead;
      // an answer whose headers went out before the drain leaves its connection open: close it once idle
      if (draining) setImmediate(() => idle(socket) && socket.destroy());
    });
  });
  server.closeIdleConnections = closeIdle;
  /**
   * Closing the listener resets the connections the kernel holds for it, which pile up while the event loop is busy
   * (10 queries sent 150 ms before SIGTERM to a service building 26 MB answers: 6 reset, never seen). So turns of the
   * event loop go by until one accepts nothing (its poll phase found the kernel's queue empty; an immediate set from
   * an immediate runs after the next poll phase), or until `deadline`.
   */
  const takeQueued = (deadline: number, then: () => void): void => {
    const before = accepted;
    setImmediate(() => setImmediate(() => (accepted === before || Date.now() >= deadline ? then() : takeQueued(deadline, then))));
  };
  let closed: Promise<void> | null = null;
  return () =>
    (closed ??= new Promise<void>((resolve) => {
      draining = true;
      for (const c of connections.values()) for (const res of c.answers) if (!res.headersSent) res.setHeader('Connection', 'close');
      const cut = setTimeout(() => server.closeAllConnections(), ms);
      takeQueued(Date.now() + Math.min(ms / 5, 1_000), () =>
        server.close(() => {
          clearTimeout(cut);
          resolve();
        }) // stops listening, and closes idle connections (closeIdle)
      );
    }));
}
