/**
 * The NATS connection of a cluster-mode process: connects with errors that say what failed and where, keeps
 * reconnecting forever once connected (NATS going away must not end the process), and tracks whether the
 * connection is up so the ingest role can answer 503 naming NATS instead of waiting on a dead socket.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';

export type { NatsConnection };

export class NatsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NatsUnavailableError';
  }
}

export interface NatsLink {
  readonly nc: NatsConnection;
  /** Null while connected; otherwise why not (for a 503's message). */
  downReason(): string | null;
  close(): Promise<void>;
}

/** Host and port of a NATS URL, without credentials (safe to log and to put in an error). */
export function natsEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '4222'}`;
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/**
 * Connects to `url` (retrying for up to `firstConnectMs`: a cluster's processes often start before NATS
 * listens). Rejects with a NatsUnavailableError naming the endpoint when it never answers.
 */
export async function connectNats(url: string, logger: Logger, name: string, firstConnectMs = 30_000): Promise<NatsLink> {
  const endpoint = natsEndpoint(url);
  const deadline = Date.now() + firstConnectMs;
  let nc: NatsConnection | null = null;
  let lastError = '';
  while (nc === null) {
    try {
      nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 2000, pingInterval: 5000 });
    } catch (err) {
      lastError = (err as Error).message;
      if (Date.now() > deadline) {
        throw new NatsUnavailableError(`cannot connect to NATS at ${endpoint} (cluster.natsUrl / LAD_NATS_URL): ${lastError}; is nats-server running with -js?`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  let down: string | null = null;
  const conn = nc;
  void (async () => {
    for await (const s of conn.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') {
        if (down === null) logger.warn({ nats: endpoint }, 'NATS connection lost, reconnecting');
        down = `NATS at ${endpoint} is unreachable (connection lost, reconnecting)`;
      } else if (s.type === 'reconnect') {
        logger.info({ nats: endpoint }, 'NATS connection back');
        down = null;
      } else if (s.type === 'close') {
        down = `NATS connection to ${endpoint} is closed`;
      }
    }
  })().catch(() => undefined);
  return {
    nc: conn,
    downReason: () => down,
    async close() {
      await conn.drain().catch(() => conn.close());
    },
  };
}
