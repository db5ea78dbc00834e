/**
 * The resumable pull loop shared by the Loki and Elasticsearch pull sources: fetch a page after the saved
 * cursor, hand it to the sink in bounded batches (waiting while the sink is saturated: a pull never drops
 * a line), save the cursor after every accepted batch, back off exponentially on errors.
 *
 * Delivery is at-least-once across a crash between an accepted batch and its checkpoint write (that one
 * batch is fetched again); a clean stop() waits for the checkpoint, so a restart has no duplicates and no gaps.
 */
import path from 'node:path';
import { z } from 'zod';
import { CheckpointStore, checkpointFile } from './checkpoint';
import { deliver } from './deliver';
import { type LogEntry, type LogSink, type LogSource, type SourceStatus } from './source';
import { RateMeter } from './rate-meter';

/** Credentials for the remote API. Sent only in the Authorization header; never logged or put in errors. */
export const PullAuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }).strict(),
  z.object({ type: z.literal('bearer'), token: z.string().min(1) }).strict(),
  /** Elasticsearch API keys: the base64 "id:key" value Kibana shows as "encoded". */
  z.object({ type: z.literal('apiKey'), apiKey: z.string().min(1) }).strict(),
]);
export type PullAuth = z.infer<typeof PullAuthSchema>;

export function authorizationHeader(auth: PullAuth | undefined): Record<string, string> {
  if (!auth) return {};
  switch (auth.type) {
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'apiKey':
      return { authorization: `ApiKey ${auth.apiKey}` };
  }
}

/** Options every pull source has. */
export const PullOptionsSchema = z.object({
  name: z.string().min(1),
  /** Base URL of the API, without credentials (use `auth`). */
  url: z
    .string()
    .url()
    // fetch answers file:, ftp: or data: only at the first poll ("not implemented... yet", "unknown scheme"),
    // retried forever: an HTTP API's base URL is refused at start-up instead
    .refine((u) => !URL.canParse(u) || ['http:', 'https:'].includes(new URL(u).protocol), 'must be an http:// or https:// URL')
    .refine((u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password), 'put credentials in auth, not in the URL'),
  auth: PullAuthSchema.optional(),
  /** Extra request headers (e.g. a tenant header). Values are never logged. */
  headers: z.record(z.string(), z.string()).default({}),
  /** Pause between polls once caught up. */
  pollIntervalSeconds: z.number().positive().max(3600).default(5),
  /** Read only up to now minus this, so lines the remote store ingests late are not skipped. */
  delaySeconds: z.number().min(0).max(3600).default(5),
  /** Where the first run (no checkpoint) starts: this far before now. */
  lookbackSeconds: z.number().min(0).default(0),
  /** Entries per request. */
  pageSize: z.number().int().min(1).max(10_000).default(1000),
  /** Most lines handed to the sink in one push (must fit the pipeline queue). */
  batchLines: z.number().int().min(1).max(100_000).default(500),
  requestTimeoutSeconds: z.number().positive().max(600).default(30),
  /** Largest response body read; a larger one is an error (bounds memory whatever the remote sends). */
  maxResponseBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
  /** Backoff after a failed request: doubles from min to max. */
  minBackoffSeconds: z.number().positive().default(1),
  maxBackoffSeconds: z.number().positive().default(60),
  labels: z.record(z.string(), z.string()).default({}),
  /** Where checkpoints go (<dataDir>/checkpoints/); default: the service's data dir (LAD_DATA_DIR, else ./data). */
  dataDir: z.string().min(1).optional(),
});
export type PullOptions = z.output<typeof PullOptionsSchema>;

export interface PullContext {
  /** The service's data directory: checkpoints go under <dataDir>/checkpoints/ (unless the entry names its own). */
  dataDir?: string;
}

export interface PullPage<C> {
  entries: LogEntry[];
  /** Cursor after entries[0..index] were accepted. */
  cursorAt(index: number): C;
  /** Cursor after the whole page (may be past the last entry: the queried window was read completely). */
  endCursor: C;
  /** True when another page is available right away (this one was full). */
  more: boolean;
}

export class PullHttpError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    /** The peer's Retry-After (a 429 or 503), in seconds; null when it sent none or one that does not parse. */
    readonly retryAfterSeconds: number | null = null
  ) {
    super(message);
    this.name = 'PullHttpError';
  }
}

export abstract class ResumablePullSource<C, O extends PullOptions = PullOptions> implements LogSource {
  abstract readonly kind: string;
  readonly name: string;
  /** The source's parsed config entry (PullOptions plus the subclass's own options). */
  protected readonly options: O;
  private readonly dataDir: string;
  private store: CheckpointStore<C> | null = null;
  private sink: LogSink | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private abort = new AbortController();
  private readonly sleepers = new Set<() => void>();
  private state: SourceStatus['state'] = 'stopped';
  private lastError: string | null = null;
  /** lastError is a failed poll's (cleared by the next page that arrives), not a problem reportProblem kept. */
  private lastErrorIsFailure = false;
  private linesTotal = 0;
  private lagMs: number | null = null;
  private readonly rate = new RateMeter();
  private requests = 0;
  private failures = 0;

  protected constructor(options: O, context?: PullContext) {
    this.options = options;
    // An explicit `dataDir` option wins; else the service's data dir (the context: it may come from the config
    // file, which the source cannot see), else the same env var and default the service config uses.
    this.dataDir = path.resolve(options.dataDir ?? context?.dataDir ?? process.env.LAD_DATA_DIR ?? './data');
    this.name = options.name;
  }

  /** The cursor schema, for validating a loaded checkpoint. */
  protected abstract readonly cursorSchema: z.ZodType<C>;
  /** Cursor of a first run without a checkpoint. */
  protected abstract initialCursor(nowMs: number): C;
  /** Fetches the page after `cursor`, reading entries older than `untilMs` only. */
  protected abstract fetchPage(cursor: C, untilMs: number, signal: AbortSignal): Promise<PullPage<C>>;

  async start(sink: LogSink): Promise<void> {
    if (this.running) throw new Error(`source ${this.name} already started`);
    this.sink = sink;
    this.store = new CheckpointStore(checkpointFile(this.dataDir, this.kind, this.name), this.cursorSchema);
    let saved: C | null;
    try {
      saved = await this.store.load();
    } catch (err) {
      // A corrupt checkpoint must not silently restart from "now" (a gap) or from the lookback (duplicates).
      this.state = 'error';
      this.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
    const cursor = saved ?? this.initialCursor(Date.now() - this.options.lookbackSeconds * 1000);
    this.running = true;
    this.abort = new AbortController();
    this.state = 'starting';
    this.loop = this.run(cursor);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    for (const wake of [...this.sleepers]) wake();
    await this.loop;
    this.loop = null;
    this.state = 'stopped';
  }

  status(): SourceStatus {
    return { state: this.state, lastError: this.lastError, linesTotal: this.linesTotal, lagMs: this.lagMs, linesPerSecond: this.rate.perSecond() };
  }

  /** Requests made and consecutive failures (for tests and metrics). */
  counters(): { requests: number; consecutiveFailures: number } {
    return { requests: this.requests, consecutiveFailures: this.failures };
  }

  /** Records a problem that does not stop the pull (shown as lastError in /api/health). */
  protected reportProblem(message: string): void {
    this.lastError = message;
    this.lastErrorIsFailure = false;
  }

  /** `path` resolved against the configured base URL (which may or may not end with a slash). */
  protected endpoint(path: string): URL {
    return new URL(path, this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`);
  }

  /**
   * requestJson, and the answer checked against the API's documented shape (`what` names it in the error).
   * `maxItems` refuses an answer holding more items (entries, hits) than were asked for, before it is validated
   * and copied: a real server never sends more, and each item costs several times its bytes once parsed.
   */
  protected async requestShaped<T>(
    schema: z.ZodType<T>,
    what: string,
    url: URL,
    init: { method: 'GET' | 'POST'; body?: unknown },
    signal: AbortSignal,
    maxItems?: { limit: number; unit: string; count: (answer: unknown) => number }
  ): Promise<T> {
    const answer = await this.requestJson(url, init, signal);
    const items = maxItems?.count(answer) ?? 0;
    if (maxItems && items > maxItems.limit) throw new Error(`${what} answered ${items} ${maxItems.unit}, more than the ${maxItems.limit} asked for: refused`);
    const parsed = schema.safeParse(answer);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${what} answered an unexpected shape: ${issue?.message} at ${issue?.path.join('.')}`);
    }
    return parsed.data;
  }

  /** Makes an authenticated JSON request; errors carry the status and a short body, never the headers. */
  protected async requestJson(url: URL, init: { method: 'GET' | 'POST'; body?: unknown }, signal: AbortSignal): Promise<unknown> {
    this.requests += 1;
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers, ...authorizationHeader(this.options.auth) };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(this.options.requestTimeoutSeconds * 1000);
    let res: Response;
    try {
      res = await fetch(url, {
        method: init.method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.any([signal, timeout]),
        // Followed redirects would send the `headers` (secrets too) to whatever host a peer names, turn the
        // _search POST into a GET without its query, and loop 20 times per poll: a 3xx is an error instead.
        redirect: 'manual',
      });
    } catch (err) {
      const reason = timeout.aborted ? `timed out after ${this.options.requestTimeoutSeconds}s` : (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
      throw new PullHttpError(`${init.method} ${url.origin}${url.pathname} failed: ${reason}`, null);
    }
    const where = `${init.method} ${url.origin}${url.pathname}`;
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const location = res.headers.get('location');
      const to = location && URL.canParse(location, url.href) ? new URL(location, url.href) : null;
      // origin and path only: a Location's query may carry a token
      const target = to ? ` to ${to.origin}${to.pathname}` : '';
      throw new PullHttpError(`${where} answered ${res.status} redirecting${target}: redirects are not followed, set url to the address the API answers at`, res.status);
    }
    let text: string;
    try {
      text = await readBounded(res, this.options.maxResponseBytes, where);
    } catch (err) {
      // The deadline covers the body too: a body that drips ends there, named like a stall before the headers.
      if (timeout.aborted) throw new PullHttpError(`${where} timed out after ${this.options.requestTimeoutSeconds}s reading the body`, res.status);
      if (err instanceof PullHttpError) throw err;
      throw new PullHttpError(`${where} failed reading the body: ${(err as Error).message}`, res.status);
    }
    if (!res.ok) {
      throw new PullHttpError(`${where} answered ${res.status}: ${text.slice(0, 200)}`, res.status, retryAfterSecondsOf(res.headers.get('retry-after')));
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new PullHttpError(`${where} answered ${res.status} with a body that is not JSON`, res.status);
    }
  }

  private async run(initial: C): Promise<void> {
    let cursor = initial;
    while (this.running) {
      try {
        const untilMs = Date.now() - this.options.delaySeconds * 1000;
        const page = await this.fetchPage(cursor, untilMs, this.abort.signal);
        this.failures = 0;
        this.state = 'connected';
        // recovered: a failure that is over no longer shows in /api/health (Save & test warned of it for ever)
        if (this.lastErrorIsFailure) {
          this.lastError = null;
          this.lastErrorIsFailure = false;
        }
        const { entries } = page;
        let complete = true;
        for (let start = 0; start < entries.length; start += this.options.batchLines) {
          const batch = entries.slice(start, start + this.options.batchLines);
          if (!(await this.deliver(batch))) {
            complete = false;
            break;
          }
          cursor = page.cursorAt(start + batch.length - 1);
          await this.store!.save(cursor);
        }
        if (!complete || !this.running) break;
        cursor = page.endCursor;
        await this.store!.save(cursor);
        if (!page.more) {
          // Caught up: everything older than untilMs was read, so that is how far behind the pull is.
          this.lagMs = Math.max(0, Date.now() - untilMs);
          await this.sleep(this.options.pollIntervalSeconds * 1000);
        }
      } catch (err) {
        if (!this.running) break;
        this.failures += 1;
        this.state = 'error';
        this.lastError = err instanceof Error ? err.message : String(err);
        this.lastErrorIsFailure = true;
        // a peer that says when to come back (Loki's or Elasticsearch's 429, a proxy's 503) is heard, within maxBackoffSeconds
        const asked = err instanceof PullHttpError ? (err.retryAfterSeconds ?? 0) : 0;
        const backoff = Math.min(this.options.maxBackoffSeconds, this.options.minBackoffSeconds * 2 ** (this.failures - 1));
        const jittered = backoff * 1000 * (0.8 + 0.4 * Math.random());
        await this.sleep(Math.max(jittered, Math.min(asked, this.options.maxBackoffSeconds) * 1000));
      }
    }
  }

  /** Pushes one batch, waiting (drain or Retry-After, see deliver.ts) while the sink is saturated. False when stopped first. */
  private async deliver(batch: LogEntry[]): Promise<boolean> {
    if (!this.running) return false;
    const accepted = await deliver(this.sink!, batch, {
      signal: this.abort.signal,
      onRefused: () => {
        this.state = 'paused';
      },
    });
    if (!accepted) return false;
    this.state = 'connected';
    this.linesTotal += batch.length;
    this.rate.add(batch.length);
    this.lagMs = Math.max(0, Date.now() - batch[batch.length - 1].timestampMs);
    return true;
  }

  /** Waits `ms`, or less when stopped. */
  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

/** The body as text, refusing (and cancelling) it once it passes maxBytes. */
async function readBounded(res: Response, maxBytes: number, where: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new PullHttpError(`${where} answered ${declared} bytes, more than maxResponseBytes (${maxBytes})`, res.status);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new PullHttpError(`${where} answered more than maxResponseBytes (${maxBytes})`, res.status);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Retry-After as seconds (RFC 9110: delay-seconds or an HTTP-date); null when absent or unreadable. */
export function retryAfterSecondsOf(header: string | null, nowMs = Date.now()): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  // an HTTP-date ends in GMT (RFC 9110's three forms); Date.parse alone would read '-5' as the year -5
  if (!/ GMT$/i.test(value)) return null;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, (at - nowMs) / 1000) : null;
}
