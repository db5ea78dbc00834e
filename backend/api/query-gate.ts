/**
 * How many POST /api/query requests run at once. A query's answer is built whole in memory (up to rowsPerQuery
 * rows: about 40 MB of JSON, and its string and buffer copies), so concurrent ones add up: measured on the built
 * service, 100 concurrent queries of 100,000 anomalies each took it from 470 MB to 2.3 GB (50: 1.4 GB), and the
 * event loop gains nothing from running more than a few at once on 2 cores. Beyond `concurrent`, requests wait
 * their turn, their bodies still unread (mounted before express.json); beyond `waiting` more, 429 with Retry-After.
 *
 * Hand-written rather than p-limit: a slot is held until the answer is sent or the client has gone (res
 * 'close'), not until the handler's promise settles, and the queue of waiting requests is bounded.
 */
import type { RequestHandler } from 'express';
import { sendError } from './http-error';

export const QUERY_GATE = {
  /** Queries answered at once: their answers, at most ~40 MB each (rowsPerQuery), are what is held. */
  concurrent: 4,
  /** Queries waiting for a turn (a dashboard sends one per panel; Grafana's browser holds ~6 at once). */
  waiting: 64,
} as const;

export function queryGate(limits: { concurrent: number; waiting: number } = QUERY_GATE): RequestHandler {
  let active = 0;
  const queue: (() => void)[] = [];
  const release = (): void => {
    const next = queue.shift();
    if (next) next(); // the slot passes on
    else active--;
  };
  return (_req, res, next) => {
    const start = (): void => {
      let held = true;
      res.once('close', () => {
        if (held) {
          held = false;
          release();
        }
      });
      next();
    };
    if (active < limits.concurrent) {
      active++;
      start();
      return;
    }
    if (queue.length >= limits.waiting) {
      res.set('Retry-After', '1');
      sendError(res, 429, `${limits.concurrent} queries are running and ${limits.waiting} waiting (the query gate's limits): retry shortly`);
      return;
    }
    queue.push(start);
    // a client that gives up while waiting leaves the queue (after its turn came, the index is -1)
    res.once('close', () => {
      const i = queue.indexOf(start);
      if (i >= 0) queue.splice(i, 1);
    });
  };
}
