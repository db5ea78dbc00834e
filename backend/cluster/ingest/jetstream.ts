/**
 * Cluster mode's ingest queue: every accepted line is published to the LAD_LINES stream on its source's
 * subject, and a batch is acknowledged (the push answered 204) only once JetStream has stored every line of
 * it. What cannot be stored is refused so the sender retries: a full stream or an ack slower than
 * ackTimeoutMs is backpressure (429 + Retry-After, as the embedded queue does), NATS unreachable is a 503
 * naming NATS. Nothing here throws past the route: when NATS returns, publishes succeed again.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { PushRequestError } from '../../sources/push-http';
import { BackpressureError, type LogEntry } from '../../sources/source';
import type { NatsLink } from '../nats/connection';
import { linesSubject, SOURCES_SUBJECT, type StreamLine } from '../ports';
import type { IngestQueue } from './ingest-queue';

export interface JetStreamQueueOptions {
  js: JetStreamClient;
  link: NatsLink;
  logger: Logger;
  /** A publish not acknowledged within this is refused with 429 (JetStream is behind). */
  ackTimeoutMs?: number;
  /** Publishes in flight per batch (pipelined: one round trip per window, not per line). */
  window?: number;
}

/** Seconds a refused sender waits: long enough for a full stream to age out or workers to catch up. */
const RETRY_AFTER_SECONDS = 2;

/** Why a publish failed, as the push answer says it. */
export function classifyPublishError(err: unknown, downReason: string | null): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (/maximum (bytes|messages)|insufficient resources|storage/i.test(message)) {
    return new BackpressureError(RETRY_AFTER_SECONDS, `lines not accepted: the JetStream stream is full (${message}); retry later`);
  }
  if (downReason !== null) {
    return new PushRequestError(503, `lines not accepted: ${downReason}; nothing of this request is acknowledged, retry later`);
  }
  if (/timeout|timed out/i.test(message)) {
    return new BackpressureError(RETRY_AFTER_SECONDS, `lines not accepted: JetStream did not acknowledge in time (${message}); retry later`);
  }
  return new PushRequestError(503, `lines not accepted: NATS JetStream refused the publish (${message}); retry later`);
}

export class JetStreamQueue implements IngestQueue {
  private readonly ackTimeoutMs: number;
  private readonly window: number;
  private readonly encoder = new TextEncoder();
  private readonly announced = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly opts: JetStreamQueueOptions) {
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 5000;
    this.window = opts.window ?? 2000;
  }

  pushDurably(entries: LogEntry[]): Promise<void> {
    if (this.closed) return Promise.reject(new PushRequestError(503, 'lines not accepted: this ingest replica is stopping; retry on another'));
    const down = this.opts.link.downReason();
    if (down !== null) return Promise.reject(new PushRequestError(503, `lines not accepted: ${down}; retry later`));
    const p = this.publishAll(entries);
    this.inFlight.add(p);
    void p.catch(() => undefined).finally(() => this.inFlight.delete(p));
    return p;
  }

  /** Sources that cannot wait: published in the background, a failure only logged. */
  push(entries: LogEntry[]): void {
    this.pushDurably(entries).catch((err: Error) => this.opts.logger.error({ err: err.message, lines: entries.length }, 'publishing to JetStream failed'));
  }

  /** JetStream holds the backlog; an ingest replica itself is never saturated. */
  get saturated(): boolean {
    return false;
  }

  onDrain(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private async publishAll(entries: LogEntry[]): Promise<void> {
    const { js } = this.opts;
    for (let start = 0; start < entries.length; start += this.window) {
      const slice = entries.slice(start, start + this.window);
      const results = await Promise.allSettled(
        slice.map((e) => {
          const wire: StreamLine = { source: e.source, t: e.timestampMs, line: e.line, labels: e.labels };
          return js.publish(linesSubject(e.source), this.encoder.encode(JSON.stringify(wire)), { timeout: this.ackTimeoutMs });
        })
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw classifyPublishError(failed.reason, this.opts.link.downReason());
    }
    this.announce(entries);
  }

  /** Tells workers listening on SOURCES_SUBJECT about a source the first time this replica stores one of its lines. */
  private announce(entries: LogEntry[]): void {
    for (const e of entries) {
      if (this.announced.has(e.source)) continue;
      this.announced.add(e.source);
      try {
        this.opts.link.nc.publish(SOURCES_SUBJECT, this.encoder.encode(JSON.stringify({ source: e.source })));
      } catch {
        this.announced.delete(e.source);
      }
    }
  }
}
