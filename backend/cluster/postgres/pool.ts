/**
 * The one way cluster code talks to PostgreSQL: a pg Pool whose failures say where PostgreSQL was looked for.
 * A connection that cannot be made or is lost becomes a PostgresUnavailableError (HTTP 503 through the API's
 * error handler) naming host:port/database, never the password; other errors (SQL bugs) pass through as they are.
 */
import pg from 'pg';
import { HttpError } from '../../api/http-error';

/** PostgreSQL cannot be reached (down, restarting, refusing): answered 503 with this message. */
export class PostgresUnavailableError extends HttpError {
  constructor(message: string) {
    super(503, message);
    this.name = 'PostgresUnavailableError';
  }
}

/** Node socket errors and PostgreSQL's connection-exception (08) and operator-intervention (57P) classes. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', 'ENETUNREACH', '53300']);

export function isUnavailable(err: unknown): boolean {
  if (err instanceof PostgresUnavailableError) return true;
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  // pg's own wording when a socket closes or a connect times out (no code on these)
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Query read timeout|Cannot use a pool after calling end/i.test(message);
}

/** host:port/database of a postgres:// URL, without user or password (for messages and logs). */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
    return `${u.hostname || 'localhost'}:${u.port || '5432'}/${db}`;
  } catch {
    return '(unparsable URL)';
  }
}

export interface PostgresOptions {
  /** Most connections this process opens (default 4: the machine has few cores, PostgreSQL has a global limit). */
  max?: number;
  /** Give up connecting after this long (default 3 s): a query role must answer 503 quickly, not hang. */
  connectTimeoutMs?: number;
  /** A query without an answer this long fails as unavailable (default 15 s): a hung server must not hang requests. */
  queryTimeoutMs?: number;
  /** Told about errors of idle connections (e.g. PostgreSQL restarted); without a handler pg would crash the process. */
  onError?: (err: Error) => void;
}

export class PostgresPool {
  readonly where: string;
  private readonly pool: pg.Pool;

  constructor(
    readonly url: string,
    private readonly options: PostgresOptions = {}
  ) {
    this.where = describePostgresUrl(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      query_timeout: options.queryTimeoutMs ?? 15_000,
      idleTimeoutMillis: 30_000,
      // TCP keep-alive: a connection to a host that vanished is noticed, not kept for the next query
      keepAlive: true,
    });
    this.pool.on('error', (err) => options.onError?.(this.wrap(err)));
  }

  /** The error to throw for `err`: unavailable → PostgresUnavailableError naming where; anything else as it is. */
  wrap(err: unknown): Error {
    if (err instanceof PostgresUnavailableError) return err;
    if (isUnavailable(err)) {
      const reason = err instanceof Error ? err.message || (err as { code?: string }).code || 'unreachable' : String(err);
      return new PostgresUnavailableError(`PostgreSQL at ${this.where} is unavailable: ${reason}`);
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw this.wrap(err);
    }
  }

  /** Runs `work` in one transaction (BEGIN … COMMIT, ROLLBACK on any error). */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.wrap(err);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = isUnavailable(err);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw this.wrap(err);
    } finally {
      // a connection that failed mid-transaction is dropped, not handed to the next caller
      client.release(broken ? true : undefined);
    }
  }

  /** A dedicated connection outside the pool (LISTEN needs one that stays open); the caller ends it. */
  async dedicatedClient(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.options.connectTimeoutMs ?? 3000 });
    try {
      await client.connect();
    } catch (err) {
      client.end().catch(() => undefined);
      throw this.wrap(err);
    }
    return client;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
