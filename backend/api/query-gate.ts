/**
 * How many POST /api/query requests run at once. A query's answer is built whole in memory (up to rowsPerQuery
 * rows: about 40 MB of JSON, and its string and buffer copies), so concurrent ones add up: measured on the built
 * service, 100 concurrent queries of 100,000 anomalies each took it from 470 MB to 2.3 GB (50: 1.4 GB), and the
 * event loop gains nothing from running more than a few at once on 2 cores. Beyond `concurrent`, requests wait
 * their turn, their bodies still unread (mounted before express.json); beyond `waiting` more, 429 with Retry-After.
 *
 * Hand-written rather than p-limit: a slot is held until the answer is sent or the client has gone (res
 * 'close'), not until the handler's promise settles, and the queue of waiting requests is bounded.
 *
 * A client that asks and never reads its answer would hold its slot for ever (Node has no send timeout): 4 such
 * clients, each asking for a 66 MB feedback table, kept every other query of the built service waiting past 60 s,
 * the query API down. So a request holds its slot at most `holdMs`, then its connection is cut (the slot passes
 * on): the query deadline (queryDeadlineMs, the gate is given it) and 30 s more to take the answer, the time
 * Grafana's data proxy waits in all by default. A cap, not an idle timeout: Node's socket timeout lets a write
 * in progress postpone it once, so a stalled answer held its slot twice the timeout.
 */
import type { RequestHandler, Router } from 'express';
import { sendError } from './http-error';

export const QUERY_GATE = {
  /** Queries answered at once: their answers, at most ~40 MB each (rowsPerQuery), are what is held. */
  concurrent: 4,
  /** Queries waiting for a turn (a dashboard sends one per panel; Grafana's browser holds ~6 at once). */
  waiting: 64,
  /** Time a running request may hold its slot past its query deadline: to send its answer. */
  sendMs: 30_000,
} as const;

export interface GateLimits {
  concurrent: number;
  waiting: number;
  /** Time a request may hold its slot (its query and sending the answer); past it the connection is cut. */
  holdMs: number;
}

/** The gate's limits for a query deadline: a slot is held at most the deadline and QUERY_GATE.sendMs more. */
export function gateLimits(deadlineMs: number): GateLimits {
  return { concurrent: QUERY_GATE.concurrent, waiting: QUERY_GATE.waiting, holdMs: deadlineMs + QUERY_GATE.sendMs };
}

export function queryGate(limits: GateLimits): RequestHandler {
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
      const cap = setTimeout(() => res.destroy(), limits.holdMs); // 'close' follows and releases
      res.once('close', () => {
        clearTimeout(cap);
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

/**
 * Mounts one gate, shared, on every route whose answer is built whole in memory and grows with what is stored:
 * POST /api/query (up to rowsPerQuery rows) and GET /api/feedback (every record: up to the fact-store's bound,
 * 66 MB). Ungated, 40 clients asking GET /api/feedback of a full store and not reading took the built service
 * to 2.8 GB RSS and its health answer to 7.2 s. Before any body parser: a waiting request has not read its body.
 */
export function mountQueryGate(router: Pick<Router, 'post' | 'get'>, deadlineMs: number): void {
  const gate = queryGate(gateLimits(deadlineMs));
  router.post('/api/query', gate);
  router.get('/api/feedback', gate);
}
