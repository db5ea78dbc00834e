/**
 * What configured sources (file tail, syslog, pulls, demo) of an ingest replica write to: the JetStream queue,
 * with "NATS away" (503 for a push client) turned into backpressure, so a source waits and retries through the
 * shared delivery helper (backend/sources/deliver.ts) instead of failing: its lines are still in its hands.
 */
import { PushRequestError } from '../../sources/push-http';
import { BackpressureError, type DurableSink, type LogEntry } from '../../sources/source';
import type { IngestQueue } from './ingest-queue';

/** Seconds a source waits before trying again while NATS is away. */
const NATS_AWAY_RETRY_SECONDS = 1;

export function sourceSink(queue: IngestQueue): DurableSink {
  const retryable = (err: unknown): unknown =>
    err instanceof PushRequestError && err.status === 503 ? new BackpressureError(NATS_AWAY_RETRY_SECONDS, err.message) : err;
  return {
    pushDurably: (entries: LogEntry[]) => queue.pushDurably(entries).catch((err: unknown) => Promise.reject(retryable(err))),
    push: (entries) => queue.push(entries),
    get saturated() {
      return queue.saturated;
    },
    onDrain: (listener) => queue.onDrain(listener),
  };
}
