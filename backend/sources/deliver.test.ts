/**
 * The delivery helper every source uses: accepted at once, woken by a drain long before the Retry-After, the
 * Retry-After floored and capped, a stop ending the wait, durable sinks awaited, other errors thrown.
 */
import { SpoolWriteError } from '../spool/spool';
import { CapacitySink } from '../testing/capacity-sink';
import { DELIVERY_CAP_MS, DELIVERY_FLOOR_MS, deliver, retryDelayMs } from './deliver';
import { BackpressureError, type DurableSink, type LogEntry } from './source';

const line = (n: number): LogEntry => ({ source: 's', timestampMs: n, line: `line ${n}`, labels: {} });
const batch = (n: number): LogEntry[] => Array.from({ length: n }, (_, i) => line(i));

test('the Retry-After is kept within one floor and one cap', () => {
  expect(retryDelayMs(0)).toBe(DELIVERY_FLOOR_MS);
  expect(retryDelayMs(0.01)).toBe(DELIVERY_FLOOR_MS);
  expect(retryDelayMs(1)).toBe(1000);
  expect(retryDelayMs(30)).toBe(DELIVERY_CAP_MS);
  expect(retryDelayMs(Number.NaN)).toBe(DELIVERY_CAP_MS);
});

test('a plain sink is pushed synchronously, before deliver returns', () => {
  const sink = new CapacitySink();
  void deliver(sink, batch(3));
  expect(sink.entries).toHaveLength(3);
});

test('on backpressure it waits for the drain (not the 30 s Retry-After) and then delivers', async () => {
  const sink = new CapacitySink(2, 30);
  const refusals: number[] = [];
  const started = Date.now();
  const done = deliver(sink, batch(3), { onRefused: (_err, waitMs) => refusals.push(waitMs) });
  expect(sink.entries).toHaveLength(0);
  setTimeout(() => sink.raise(10), 100);
  await expect(done).resolves.toBe(true);
  expect(sink.entries).toHaveLength(3);
  expect(refusals).toEqual([DELIVERY_CAP_MS]);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('without a drain it retries after the Retry-After (capped), never busy-looping', async () => {
  let calls = 0;
  const sink = {
    saturated: false,
    onDrain: () => () => undefined,
    push(): void {
      calls++;
      if (calls < 3) throw new BackpressureError(0);
    },
  };
  const started = Date.now();
  await expect(deliver(sink, batch(1))).resolves.toBe(true);
  expect(calls).toBe(3);
  // two waits at the floor: a Retry-After of 0 does not spin
  expect(Date.now() - started).toBeGreaterThanOrEqual(2 * DELIVERY_FLOOR_MS - 5);
});

test('aborting ends the wait at once and resolves false, leaving no drain listener', async () => {
  const sink = new CapacitySink(0, 30);
  const controller = new AbortController();
  const started = Date.now();
  const done = deliver(sink, batch(1), { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await expect(done).resolves.toBe(false);
  expect(Date.now() - started).toBeLessThan(1000);
  expect((sink as unknown as { listeners: Set<unknown> }).listeners.size).toBe(0);
});

test('a durable sink is awaited; a failed spool write is retried, other errors are thrown', async () => {
  const written: LogEntry[][] = [];
  let fail = 1;
  const durable: DurableSink = {
    saturated: false,
    onDrain: () => () => undefined,
    push: () => {
      throw new Error('push must not be used on a durable sink');
    },
    pushDurably: async (entries) => {
      if (fail-- > 0) throw new SpoolWriteError('ENOSPC: no space left on device');
      written.push(entries);
    },
  };
  jest.useFakeTimers();
  try {
    const done = deliver(durable, batch(2));
    await jest.advanceTimersByTimeAsync(DELIVERY_CAP_MS);
    await expect(done).resolves.toBe(true);
    expect(written).toHaveLength(1);
  } finally {
    jest.useRealTimers();
  }
  const broken = { saturated: false, onDrain: () => () => undefined, push: () => { throw new TypeError('boom'); } };
  await expect(deliver(broken, batch(1))).rejects.toThrow('boom');
});
