// The process-wide bound on request body bytes in flight. Every request reads its body whole into memory (up to
// maxBodyBytes after decompression) and parses it there, so N concurrent bodies hold N × 10 MiB: 300 concurrent
// 10 MiB pushes took the built service past 6 GB RSS (docs/service.md, "Memory bounds"). The line budget
// (memory-budget.ts) counts lines only once they are accepted, never the bodies they come in.
import type { Request, RequestHandler, Response } from 'express';
import { getHeapStatistics } from 'node:v8';

/**
 * The share of the heap limit request bodies in flight may reserve by default. Rule, set before measuring: a
 * body costs about 4× its bytes at its peak (its chunks, their concatenation, its decoded text, the lines or
 * JSON parsed from it), so bodies take at most a quarter of the heap, beside line text's quarter
 * (memory-budget.ts HEAP_SHARE). 259 MB with node's default heap of 4,144 MB here: 25 bodies of 10 MiB at once.
 */
export const BODY_HEAP_SHARE = 1 / 16;

export function defaultBodyBytes(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.floor(heapLimitBytes * BODY_HEAP_SHARE);
}

/** The configured bound (memory.bodyBytes, LAD_MEMORY_BODY_BYTES), else the default from the heap limit. */
export function bodyBudgetBytes(memory: { bodyBytes?: number }): number {
  return memory.bodyBytes ?? defaultBodyBytes();
}

/**
 * A body that trickles must not hold its reservation for ever: after GRACE_MS it must have arrived at
 * MIN_BYTES_PER_SECOND on average (Apache's mod_reqtimeout rule, body=10,MinRate). A 1 byte/s sender is cut
 * after 10 s; a 10 MiB body needs a link of about 1 Mbit/s. Node's requestTimeout (listen.ts) bounds the rest.
 */
export const SLOW_BODY = { graceMs: 10_000, minBytesPerSecond: 128 * 1024, checkEveryMs: 1_000 } as const;

export interface BodyBudgetEvents {
  /** A request refused because its body would pass the bound (budget), or cut because it arrived too slowly. */
  refused(reason: 'budget' | 'too_slow'): void;
}

/** One request's share of the budget; release() is idempotent (a request ends once, however it ends). */
export interface BodyReservation {
  readonly bytes: number;
  readonly budget: BodyBudget;
  /**
   * Takes `bytes` more (a snappy block's decompressed size); false, taking nothing and counting a refusal, when
   * the bound would be passed.
   */
  grow(bytes: number): boolean;
  release(): void;
}

export class BodyBudget {
  private held = 0;
  private open = 0;

  constructor(
    readonly maxBytes: number,
    private readonly events?: BodyBudgetEvents
  ) {}

  /** Tells the events (the metrics) of a request refused or cut. */
  refused(reason: 'budget' | 'too_slow'): void {
    this.events?.refused(reason);
  }

  /** Bytes reserved by requests not yet ended. */
  get inFlight(): number {
    return this.held;
  }

  /** Requests holding a reservation. */
  get requests(): number {
    return this.open;
  }

  /**
   * Reserves `bytes`, or null when they would pass the bound. A body is always taken when no other is in flight,
   * so a bound below maxBodyBytes slows bodies down to one at a time and never refuses one for ever.
   */
  reserve(bytes: number): BodyReservation | null {
    if (!this.fits(bytes)) return null;
    this.held += bytes;
    this.open++;
    let held = bytes;
    let released = false;
    return {
      get bytes() {
        return held;
      },
      budget: this,
      grow: (more: number): boolean => {
        if (released) return false;
        // alone, it grows anyway: as reserve(), one body is always taken
        if (this.open > 1 && this.held + more > this.maxBytes) {
          this.refused('budget');
          return false;
        }
        this.held += more;
        held += more;
        return true;
      },
      release: (): void => {
        if (released) return;
        released = true;
        this.held -= held;
        this.open--;
      },
    };
  }

  private fits(bytes: number): boolean {
    return this.open === 0 || this.held + bytes <= this.maxBytes;
  }
}

/** What a request's body may become in memory: its Content-Length when plain, else the most it may inflate to. */
export function bodyBytesToReserve(req: Request, maxBodyBytes: number): number {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  const length = Number(req.headers['content-length']);
  // compressed or chunked: what it becomes is unknown until read, and growing the reservation as it is read
  // would let many bodies each be half read and then refused, none completing
  if (encoding !== 'identity' || req.headers['content-length'] === undefined || !Number.isFinite(length)) return maxBodyBytes;
  return Math.min(length, maxBodyBytes);
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

const reservations = new WeakMap<Request, BodyReservation>();

/** The reservation of a request admitted by admitBodies (none for requests without a body or another app's). */
export function reservationOf(req: Request): BodyReservation | undefined {
  return reservations.get(req);
}

export interface AdmitOptions {
  maxBodyBytes: number;
  slow?: { graceMs: number; minBytesPerSecond: number; checkEveryMs: number };
}

/** The setting to name in answers, so an operator knows what to raise. */
export const BODY_BUDGET_SETTING = 'memory.bodyBytes (LAD_MEMORY_BODY_BYTES)';

export class BodyBudgetFullError extends Error {
  readonly retryAfterSeconds = 1;
  constructor(budget: BodyBudget, bytes: number) {
    super(
      `request bodies in flight fill the body budget (${budget.inFlight} of ${budget.maxBytes} bytes reserved, this body needs ${bytes}: ${BODY_BUDGET_SETTING}), retry later`
    );
    this.name = 'BodyBudgetFullError';
  }
}

/** How long a refused body is read off (and discarded) before the answer, so its sender is not cut mid-write. */
export const LINGER_MS = 2_000;

/**
 * Answers a request whose body is not wanted, and closes its connection. `linger`: the body is first read off and
 * discarded (no memory held) for up to LINGER_MS, so a sender still writing it reads the answer; answered at once
 * and closed mid-body, 87 of 1,000 concurrent 10 MB pushes refused got EPIPE and no answer (node's http client).
 */
export function answerUnread(req: Request, res: Response, status: number, body: object, options: { linger: boolean; retryAfterSeconds?: number }): void {
  const send = (): void => {
    if (res.headersSent || res.destroyed) return;
    res.set('Connection', 'close');
    if (options.retryAfterSeconds !== undefined) res.set('Retry-After', String(options.retryAfterSeconds));
    res.status(status).json(body);
  };
  if (!options.linger || req.complete) {
    send();
    return;
  }
  const timer = setTimeout(send, LINGER_MS);
  req.once('end', () => {
    clearTimeout(timer);
    send();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/**
 * Express middleware, before any body parser: reserves each body's bytes in `budget` before a byte of it is read
 * (429 + Retry-After naming the setting when it would pass the bound, 413 when its Content-Length passes
 * maxBodyBytes), and releases them when the request ends, answered or aborted (the response's 'close'). A body
 * that arrives slower than `slow` allows gets 408 and its connection closed.
 */
export function admitBodies(budget: BodyBudget, options: AdmitOptions): RequestHandler {
  const slow = options.slow ?? SLOW_BODY;
  const watched = new Set<{ req: Request; res: Response; startedAt: number; startBytes: number; reservation: BodyReservation }>();
  let timer: NodeJS.Timeout | null = null;
  const check = (): void => {
    const now = Date.now();
    for (const w of watched) {
      if (w.req.complete || w.res.writableEnded || w.req.socket.destroyed) {
        watched.delete(w);
        continue;
      }
      const received = w.req.socket.bytesRead - w.startBytes;
      if (now - w.startedAt <= slow.graceMs + (received / slow.minBytesPerSecond) * 1000) continue;
      watched.delete(w);
      budget.refused('too_slow');
      w.reservation.release();
      if (w.res.headersSent) w.req.socket.destroy();
      else {
        const error = `request body arrived too slowly: ${received} bytes in ${Math.round((now - w.startedAt) / 1000)} s (at least ${slow.minBytesPerSecond} bytes/s after the first ${slow.graceMs / 1000} s)`;
        w.res.once('finish', () => w.req.socket.destroy());
        answerUnread(w.req, w.res, 408, { error, field: 'body' }, { linger: false });
      }
    }
    if (watched.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
  return (req, res, next) => {
    if (!hasBody(req)) {
      next();
      return;
    }
    const length = Number(req.headers['content-length']);
    if (length > options.maxBodyBytes) {
      // body-parser would read the whole declared body off before answering its 413
      answerUnread(req, res, 413, { error: `request body too large (limit ${options.maxBodyBytes} bytes after decompression)`, field: 'body' }, { linger: false });
      return;
    }
    const bytes = bodyBytesToReserve(req, options.maxBodyBytes);
    const reservation = budget.reserve(bytes);
    // a sender that asked `Expect: 100-continue` waits for our word before sending its body (listen.ts)
    const waitsForContinue = (req.headers.expect ?? '').toLowerCase() === '100-continue';
    if (!reservation) {
      budget.refused('budget');
      const err = new BodyBudgetFullError(budget, bytes);
      answerUnread(req, res, 429, { error: err.message, field: 'body', retryAfterSeconds: err.retryAfterSeconds }, { linger: !waitsForContinue, retryAfterSeconds: err.retryAfterSeconds });
      return;
    }
    if (waitsForContinue) res.writeContinue();
    reservations.set(req, reservation);
    // 'close' comes once the answer is sent or the connection is gone, whichever happens first
    res.once('close', () => reservation.release());
    watched.add({ req, res, startedAt: Date.now(), startBytes: req.socket.bytesRead, reservation });
    timer ??= setInterval(check, slow.checkEveryMs).unref();
    next();
  };
}
