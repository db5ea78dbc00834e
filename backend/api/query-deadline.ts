/**
 * The query deadline: /api/query stops working on a request once it has run for `queryDeadlineMs` (default 10 s)
 * and answers 503 naming the deadline, instead of holding the event loop (and with it health and ingestion) or
 * the client. JavaScript cannot interrupt synchronous work, so the deadline is checked between units of work:
 * before each target, before each read of a source's results (anomalies, counts, review, rates), and every
 * 1,024 anomalies examined inside an in-memory scan; a read that answers with a promise (the cluster's
 * PostgreSQL reader) is raced against the time left. The cost limits (QUERY_LIMITS) bound each unit.
 */
import type { MaybePromise, ResultsReader } from '../store/results-reader';
import { HttpError } from './http-error';

export const DEFAULT_QUERY_DEADLINE_MS = 10_000;
/** Anomalies examined between two checks inside one scan: a check costs a Date.now(). */
const CHECK_EVERY = 1024;

export class QueryDeadline {
  private readonly startedAt = Date.now();

  constructor(readonly ms: number) {}

  get remainingMs(): number {
    return this.ms - (Date.now() - this.startedAt);
  }

  /** Throws the 503 once the deadline passed; `doing` says what the query was at. */
  check(doing: string): void {
    if (this.remainingMs < 0) throw this.error(doing);
  }

  /** `value` itself when synchronous; a promise otherwise that rejects with the 503 if the deadline comes first. */
  race<T>(value: MaybePromise<T>, doing: string): MaybePromise<T> {
    if (!(value instanceof Promise)) return value;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.error(doing)), Math.max(0, this.remainingMs));
      value.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        }
      );
    });
  }

  error(doing: string): HttpError {
    return new HttpError(
      503,
      `query stopped at its deadline of ${this.ms} ms (queryDeadlineMs) while ${doing}: select fewer sources or a shorter range, or raise queryDeadlineMs`,
      'queryDeadlineMs'
    );
  }
}

/** The reader with the deadline checked before every read and inside anomaly scans. */
export function readerWithDeadline(reader: ResultsReader, deadline: QueryDeadline): ResultsReader {
  return {
    anomalies(filter) {
      const doing = `reading anomalies${filter.source === undefined ? '' : ` of ${JSON.stringify(filter.source)}`}`;
      deadline.check(doing);
      let examined = 0;
      const isSuppressed = filter.isSuppressed;
      return deadline.race(
        reader.anomalies({
          ...filter,
          isSuppressed: (a) => {
            if (++examined % CHECK_EVERY === 0) deadline.check(doing);
            return isSuppressed(a);
          },
        }),
        doing
      );
    },
    getAnomaly(id) {
      deadline.check('looking up an anomaly');
      return deadline.race(reader.getAnomaly(id), 'looking up an anomaly');
    },
    counts(source, fromMs, toMs, stepMs) {
      const doing = `reading counts of ${JSON.stringify(source)}`;
      deadline.check(doing);
      return deadline.race(reader.counts(source, fromMs, toMs, stepMs), doing);
    },
    context(id, before, after) {
      deadline.check('reading context');
      return deadline.race(reader.context(id, before, after), 'reading context') as Promise<Awaited<ReturnType<ResultsReader['context']>>>;
    },
    sourceNames: () => reader.sourceNames(),
    get bucketMs() {
      return reader.bucketMs;
    },
    get lastError() {
      return reader.lastError;
    },
  };
}

/** A per-source lookup with the deadline checked before each call (review queues, rate histories). */
export function perSourceWithDeadline<A extends unknown[], R>(fn: (source: string, ...rest: A) => R, deadline: QueryDeadline, what: string): (source: string, ...rest: A) => R;
export function perSourceWithDeadline<A extends unknown[], R>(fn: ((source: string, ...rest: A) => R) | undefined, deadline: QueryDeadline, what: string): ((source: string, ...rest: A) => R) | undefined;
export function perSourceWithDeadline<A extends unknown[], R>(fn: ((source: string, ...rest: A) => R) | undefined, deadline: QueryDeadline, what: string): ((source: string, ...rest: A) => R) | undefined {
  if (!fn) return undefined;
  return (source, ...rest) => {
    deadline.check(`reading the ${what} of ${JSON.stringify(source)}`);
    return fn(source, ...rest);
  };
}
