/**
 * The one way a source hands a batch to the pipeline: push it and, while the sink pushes back, wait for the
 * sink to drain or for its Retry-After, then push again. File tail, demo, the pulls and syslog all use it, so
 * they share one floor and one cap on the wait, and a stop ends any wait at once.
 *
 * A sink that can make a batch durable (DurableSink: the spool) is asked to, and the promise resolves only
 * once the batch is on disk: a source that records a read position (file tail, pulls) then records it after
 * its lines are durable, not merely queued. A failed spool write (disk full) kept nothing and is retried after
 * the cap, as backpressure is: the lines are still in the source's hands.
 */
import { SpoolWriteError } from '../spool/spool';
import { isBackpressureError, type DurableSink, type LogEntry, type LogSink } from './source';

/** Shortest wait between attempts: a Retry-After of 0 must not become a busy loop. */
export const DELIVERY_FLOOR_MS = 50;
/**
 * Longest wait between attempts. The pipeline says up to 30 s when its queue is long; the drain event normally
 * wakes the source first, and this bounds how late a missed drain can make it.
 */
export const DELIVERY_CAP_MS = 5000;

export interface DeliverOptions {
  /** Aborting ends a wait at once; deliver then resolves false (the batch was not accepted). */
  signal?: AbortSignal;
  /** Called at each refusal, before the wait (sources show 'paused' and count refused lines). */
  onRefused?: (err: Error, waitMs: number) => void;
}

export function isDurableSink(sink: LogSink): sink is DurableSink {
  return typeof (sink as Partial<DurableSink>).pushDurably === 'function';
}

/** The wait before the next attempt: the sink's Retry-After, within [floor, cap]. */
export function retryDelayMs(retryAfterSeconds: number): number {
  const ms = Number.isFinite(retryAfterSeconds) ? retryAfterSeconds * 1000 : DELIVERY_CAP_MS;
  return Math.min(DELIVERY_CAP_MS, Math.max(DELIVERY_FLOOR_MS, ms));
}

/**
 * Pushes `batch` until the sink accepts it whole. Resolves true once accepted (durably for a DurableSink), false
 * when refused after the signal aborted. Errors other than backpressure and a failed spool write are thrown (nothing was accepted).
 * For a plain sink the first attempt happens synchronously, before deliver returns its promise.
 */
export async function deliver(sink: LogSink, batch: LogEntry[], options: DeliverOptions = {}): Promise<boolean> {
  const { signal } = options;
  for (;;) {
    // Even when already aborted, one attempt is made: a stopping source still hands over what it read if the
    // sink takes it at once; only the waiting is cut short.
    let waitMs: number;
    let untilDrain: boolean;
    try {
      if (isDurableSink(sink)) await sink.pushDurably(batch);
      else sink.push(batch);
      return true;
    } catch (err) {
      if (isBackpressureError(err)) {
        waitMs = retryDelayMs(err.retryAfterSeconds);
        untilDrain = true;
      } else if (err instanceof SpoolWriteError) {
        waitMs = DELIVERY_CAP_MS;
        untilDrain = false;
      } else {
        throw err;
      }
      if (signal?.aborted) return false;
      options.onRefused?.(err, waitMs);
    }
    await waitForRoom(sink, waitMs, { untilDrain, signal });
  }
}

/**
 * Resolves after `ms`, or earlier when the sink drains (untilDrain, the default) or the signal aborts. Also
 * what a source uses to hold off reading while the sink reports `saturated`.
 */
export function waitForRoom(sink: LogSink, ms: number, opts: { untilDrain?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  const { signal, untilDrain = true } = opts;
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | null = null;
    const done = (): void => {
      clearTimeout(timer);
      unsubscribe?.();
      unsubscribe = null;
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(DELIVERY_CAP_MS, Math.max(DELIVERY_FLOOR_MS, ms)));
    timer.unref?.();
    if (untilDrain) unsubscribe = sink.onDrain(done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * One attempt, no waiting, for a sender that cannot be slowed down (UDP syslog): resolves once accepted (durably
 * for a DurableSink), rejects with the refusal (BackpressureError, a failed spool write) for the caller to count.
 */
export function pushOnce(sink: LogSink, batch: LogEntry[]): Promise<void> {
  if (isDurableSink(sink)) return sink.pushDurably(batch);
  try {
    sink.push(batch);
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  }
}
