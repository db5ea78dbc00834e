/**
 * Pull from Grafana Loki: polls GET /loki/api/v1/query_range (direction=forward, start/end in Unix ns,
 * limit) for a LogQL query and resumes from a checkpoint after a restart.
 *
 * Cursor = the next query's start (ns, inclusive) plus the keys of the entries at exactly that ns that were
 * already delivered. Re-reading from an inclusive start and skipping the known entries gives no gaps and no
 * duplicates whether or not Loki's `end` is exclusive, and across pages that split one nanosecond.
 * The window is read up to now − delaySeconds (lines Loki ingests late are still picked up) and at most
 * maxWindowSeconds at a time (Loki rejects very long ranges, and catching up after downtime stays paged).
 */
import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';
import { PullOptionsSchema, ResumablePullSource, type PullContext, type PullPage } from './checkpoint-pull';
import type { LogEntry } from './source';

export const LokiPullConfigSchema = PullOptionsSchema.extend({
  type: z.literal('loki-pull'),
  /** LogQL log query, e.g. {job="api"} or {namespace="prod"} |= "error" (metric queries are rejected by Loki here). */
  query: z.string().min(2),
  /** Multi-tenant Loki: sent as X-Scope-OrgID. */
  tenant: z.string().min(1).optional(),
  maxWindowSeconds: z.number().positive().default(3600),
  /** At most this many delivered keys are kept for one nanosecond (bounds the checkpoint). */
  maxSeenPerTimestamp: z.number().int().min(1).default(10_000),
  pageSize: z.number().int().min(1).max(5000).default(1000),
}).strict();
export type LokiPullConfig = z.input<typeof LokiPullConfigSchema>;

const LokiCursorSchema = z.object({ startNs: z.string().regex(/^\d+$/), seen: z.array(z.string()) }).strict();
type LokiCursor = z.infer<typeof LokiCursorSchema>;

/** The documented query_range response for log (stream) queries. */
const QueryRangeResponseSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('streams'),
    result: z.array(z.object({ stream: z.record(z.string(), z.string()), values: z.array(z.tuple([z.string().regex(/^\d+$/), z.string()]).rest(z.unknown())) })),
  }),
});

const NS_PER_MS = 1_000_000n;
/** Loki's default max_entries_limit_per_query. */
const MAX_LOKI_LIMIT = 5000;

export class LokiPullSource extends ResumablePullSource<LokiCursor, z.output<typeof LokiPullConfigSchema>> {
  readonly kind = 'loki-pull';
  protected readonly cursorSchema = LokiCursorSchema;

  constructor(config: LokiPullConfig, context?: PullContext) {
    const parsed = LokiPullConfigSchema.parse(config);
    super(parsed.tenant ? { ...parsed, headers: { ...parsed.headers, 'X-Scope-OrgID': parsed.tenant } } : parsed, context);
  }

  protected initialCursor(startMs: number): LokiCursor {
    return { startNs: (BigInt(Math.floor(startMs)) * NS_PER_MS).toString(), seen: [] };
  }

  protected async fetchPage(cursor: LokiCursor, untilMs: number, signal: AbortSignal): Promise<PullPage<LokiCursor>> {
    const start = BigInt(cursor.startNs);
    const until = BigInt(Math.floor(untilMs)) * NS_PER_MS;
    const windowEnd = start + BigInt(Math.round(this.options.maxWindowSeconds * 1000)) * NS_PER_MS;
    const end = windowEnd < until ? windowEnd : until;
    if (end <= start) return { entries: [], cursorAt: () => cursor, endCursor: cursor, more: false };

    // A page can come back holding only entries already delivered at `start` (more than a page shares one
    // nanosecond): ask again with a larger limit before giving up on that nanosecond.
    let limit = this.options.pageSize;
    let page = await this.query(start, end, limit, cursor, signal);
    while (page.full && page.entries.length === 0 && limit < MAX_LOKI_LIMIT) {
      limit = Math.min(MAX_LOKI_LIMIT, limit * 4);
      page = await this.query(start, end, limit, cursor, signal);
    }
    const { entries, keys, nsOf, full } = page;

    const cursorAt = (index: number): LokiCursor => {
      const ns = nsOf[index];
      const seen: string[] = BigInt(ns) === start ? [...cursor.seen] : [];
      for (let i = index; i >= 0 && nsOf[i] === ns; i--) seen.push(keys[i]);
      return { startNs: ns, seen: seen.slice(-this.options.maxSeenPerTimestamp) };
    };

    let endCursor: LokiCursor;
    let more: boolean;
    if (full) {
      if (entries.length === 0) {
        // More than MAX_LOKI_LIMIT entries at one nanosecond: step past it rather than loop forever, and say so.
        this.reportProblem(`more than ${MAX_LOKI_LIMIT} entries at ${cursor.startNs} ns: the rest of that nanosecond was skipped`);
        endCursor = { startNs: (start + 1n).toString(), seen: [] };
      } else {
        endCursor = cursorAt(entries.length - 1);
      }
      more = true;
    } else {
      // The window [start, end) was read completely. Entries at exactly `end` (if Loki returned them) are
      // remembered, so the next window starting at `end` does not repeat them.
      const endText = end.toString();
      const seen: string[] = end === start ? [...cursor.seen] : [];
      for (let i = entries.length - 1; i >= 0 && nsOf[i] === endText; i--) seen.push(keys[i]);
      endCursor = { startNs: endText, seen };
      more = end < until;
    }
    return { entries, cursorAt, endCursor, more };
  }

  /** One query_range request, merged into time order, without the entries already delivered at `start`. */
  private async query(
    start: bigint,
    end: bigint,
    limit: number,
    cursor: LokiCursor,
    signal: AbortSignal
  ): Promise<{ entries: LogEntry[]; keys: string[]; nsOf: string[]; full: boolean }> {
    const url = this.endpoint('loki/api/v1/query_range');
    url.searchParams.set('query', this.options.query);
    url.searchParams.set('start', start.toString());
    url.searchParams.set('end', end.toString());
    url.searchParams.set('limit', String(limit));
    url.searchParams.set('direction', 'forward');
    const body = await this.requestShaped(QueryRangeResponseSchema, 'Loki query_range', url, { method: 'GET' }, signal, { limit, unit: 'entries', count: countEntries });

    // Streams arrive one after another; merge them into one time-ordered list.
    // One labels object and one label digest per stream, shared by its entries: copied per entry, a stream of
    // 1000 entries with 3000 labels (a 110 kB answer) took 220 MB.
    const raw: Array<{ ns: bigint; nsText: string; line: string; labels: Record<string, string>; stream: Hash }> = [];
    for (const stream of body.data.result) {
      const labels = { ...this.options.labels, ...stream.stream };
      const hash = streamHash(stream.stream);
      for (const [nsText, line] of stream.values) raw.push({ ns: BigInt(nsText), nsText, line, labels, stream: hash });
    }
    raw.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));

    const seenAtStart = new Set(cursor.seen);
    const entries: LogEntry[] = [];
    const keys: string[] = [];
    const nsOf: string[] = [];
    let outside = 0;
    for (const r of raw) {
      // Outside the window asked for (Loki never answers those): one past `end` was delivered again at every
      // poll, the cursor never reaching it. Entries at exactly `end` are kept (an end-inclusive Loki).
      if (r.ns < start || r.ns > end) {
        outside += 1;
        continue;
      }
      const key = entryKey(r.stream, r.line);
      if (r.ns === start && seenAtStart.has(key)) continue;
      entries.push({ source: this.name, timestampMs: Number(r.ns / NS_PER_MS), line: r.line, labels: r.labels });
      keys.push(key);
      nsOf.push(r.nsText);
    }
    if (outside > 0) {
      const problem = `Loki query_range answered ${outside} of ${raw.length} entries outside the window asked for (start ${start}, end ${end} ns): ignored`;
      // A full page of nothing but those would otherwise step one nanosecond per request, without a pause.
      if (entries.length === 0 && raw.length >= limit) throw new Error(problem);
      this.reportProblem(problem);
    }
    return { entries, keys, nsOf, full: raw.length >= limit };
  }
}

/** A stream's labels (sorted) fed to a hash, once per stream of an answer; entryKey copies it per entry. */
function streamHash(labels: Record<string, string>): Hash {
  const hash = createHash('sha256');
  for (const name of Object.keys(labels).sort()) hash.update(name).update('\u0000').update(labels[name]).update('\u0001');
  return hash;
}

/**
 * Identity of a Loki entry within one nanosecond: its stream and its line (what Loki itself deduplicates on).
 * The same digest as before streamHash existed, so the keys in saved checkpoints still match.
 */
function entryKey(stream: Hash, line: string): string {
  return stream.copy().update('\u0002').update(line).digest('base64url').slice(0, 22);
}

/** Entries in a query_range answer of any shape (0 where it is not the documented one: the schema says why). */
function countEntries(answer: unknown): number {
  const result = (answer as { data?: { result?: unknown } } | null)?.data?.result;
  if (!Array.isArray(result)) return 0;
  let count = 0;
  for (const stream of result) {
    const values = (stream as { values?: unknown } | null)?.values;
    if (Array.isArray(values)) count += values.length;
  }
  return count;
}
