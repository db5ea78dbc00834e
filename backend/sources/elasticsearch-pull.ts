/**
 * Pull from Elasticsearch or OpenSearch: POST /<index pattern>/_search with the configured query, sorted
 * ascending on a time field and paged with search_after, resuming from a checkpoint after a restart.
 *
 * With `tiebreakerField` (a field with one unique value per document and doc values, as Elastic's
 * search_after docs ask) the cursor is the last hit's sort values: exact paging, no duplicates, no gaps.
 * Without one, ties on the time field cannot be paged through with search_after alone, so the cursor is
 * the last time value plus the _ids already delivered at that time: the next request asks for
 * time >= that value and excludes those _ids (an `ids` query), which also steps through any number of
 * documents sharing one timestamp. Documents are read up to now − delaySeconds (refresh interval and
 * late shippers).
 */
import { z } from 'zod';
import { PullOptionsSchema, ResumablePullSource, type PullContext, type PullPage } from './checkpoint-pull';
import type { LogEntry } from './source';

export const ElasticsearchPullConfigSchema = PullOptionsSchema.extend({
  type: z.literal('elasticsearch-pull'),
  /** Index name, pattern or comma-separated list, e.g. logs-* or filebeat-*,app-logs. */
  index: z.string().regex(/^[^\s/?#]+$/, 'an index name or pattern without spaces, "/", "?" or "#"'),
  /** Query DSL placed in a bool filter beside the time range (default: every document). */
  query: z.record(z.string(), z.unknown()).default({ match_all: {} }),
  timeField: z.string().min(1).default('@timestamp'),
  /** Field holding the log line (dotted path into _source). */
  messageField: z.string().min(1).default('message'),
  /** Unique-per-document sortable field for exact search_after paging (see the module comment). */
  tiebreakerField: z.string().min(1).optional(),
  /** Label name → dotted _source path, e.g. { host: "host.name", level: "log.level" }. */
  labelFields: z.record(z.string(), z.string()).default({}),
  /** Most _ids remembered for one timestamp when there is no tiebreaker (bounds request and checkpoint). */
  maxSeenPerTimestamp: z.number().int().min(1).max(10_000).default(5000),
}).strict();
export type ElasticsearchPullConfig = z.input<typeof ElasticsearchPullConfigSchema>;

const SortValue = z.union([z.number(), z.string(), z.null()]);
const EsCursorSchema = z
  .object({
    /** Last delivered hit's sort values (time in epoch ms, then the tiebreaker), or null before the first hit. */
    after: z.array(SortValue).nullable(),
    /** Epoch ms to read from (inclusive) when no hit was delivered yet, or in the no-tiebreaker mode. */
    fromMs: z.number(),
    /** _ids delivered at fromMs (no-tiebreaker mode only). */
    seenIds: z.array(z.string()),
  })
  .strict();
type EsCursor = z.infer<typeof EsCursorSchema>;

/** The documented _search response, as far as it is read here. */
const SearchResponseSchema = z.object({
  hits: z.object({
    hits: z.array(
      z.object({
        _index: z.string(),
        _id: z.string(),
        _source: z.record(z.string(), z.unknown()).optional(),
        sort: z.array(SortValue),
      })
    ),
  }),
});

export class ElasticsearchPullSource extends ResumablePullSource<EsCursor, z.output<typeof ElasticsearchPullConfigSchema>> {
  readonly kind = 'elasticsearch-pull';
  protected readonly cursorSchema = EsCursorSchema;

  constructor(config: ElasticsearchPullConfig, context?: PullContext) {
    super(ElasticsearchPullConfigSchema.parse(config), context);
  }

  protected initialCursor(startMs: number): EsCursor {
    return { after: null, fromMs: Math.floor(startMs), seenIds: [] };
  }

  /** The request body for the page after `cursor` (exported shape is what the tests check against the docs). */
  searchBody(cursor: EsCursor, untilMs: number): Record<string, unknown> {
    const exact = this.options.tiebreakerField !== undefined;
    const range: Record<string, unknown> = { lt: untilMs, format: 'epoch_millis' };
    if (!exact || cursor.after === null) range.gte = cursor.fromMs;
    const bool: Record<string, unknown> = { filter: [this.options.query, { range: { [this.options.timeField]: range } }] };
    if (!exact && cursor.seenIds.length > 0) bool.must_not = [{ ids: { values: cursor.seenIds } }];
    // numeric_type "date" makes date_nanos fields sort (and search_after) in epoch ms too, one unit for both.
    const sort: unknown[] = [{ [this.options.timeField]: { order: 'asc', numeric_type: 'date' } }];
    if (exact) sort.push({ [this.options.tiebreakerField!]: { order: 'asc' } });
    const body: Record<string, unknown> = { size: this.options.pageSize, query: { bool }, sort, track_total_hits: false };
    if (exact && cursor.after !== null) body.search_after = cursor.after;
    return body;
  }

  protected async fetchPage(cursor: EsCursor, untilMs: number, signal: AbortSignal): Promise<PullPage<EsCursor>> {
    const until = Math.floor(untilMs);
    if (until <= cursor.fromMs && cursor.after === null) return { entries: [], cursorAt: () => cursor, endCursor: cursor, more: false };
    const url = this.endpoint(`${encodeURIComponent(this.options.index).replace(/%2C/gi, ',').replace(/%2A/gi, '*')}/_search`);
    url.searchParams.set('ignore_unavailable', 'true');
    url.searchParams.set('allow_no_indices', 'true');
    const body = this.searchBody(cursor, until);
    const countHits = (answer: unknown): number => {
      const found = (answer as { hits?: { hits?: unknown } } | null)?.hits?.hits;
      return Array.isArray(found) ? found.length : 0;
    };
    const maxItems = { limit: this.options.pageSize, unit: 'hits', count: countHits };
    const hits = (await this.requestShaped(SearchResponseSchema, '_search', url, { method: 'POST', body }, signal, maxItems)).hits.hits;
    this.checkAfterCursor(cursor, hits);
    const entries: LogEntry[] = [];
    const cursors: Array<() => EsCursor> = [];
    for (let i = 0; i < hits.length; i++) {
      const hit = hits[i];
      const timeMs = typeof hit.sort[0] === 'number' ? hit.sort[0] : Number(hit.sort[0]);
      if (!Number.isFinite(timeMs)) throw new Error(`hit ${hit._id} has no usable ${this.options.timeField} sort value`);
      entries.push(this.toEntry(hit._index, hit._source ?? {}, timeMs));
      cursors.push(() => this.cursorAfter(cursor, hits, i, timeMs));
    }
    const more = hits.length >= this.options.pageSize;
    const endCursor = hits.length > 0 ? cursors[hits.length - 1]() : cursor;
    return { entries, cursorAt: (index) => cursors[index](), endCursor, more };
  }

  /**
   * Refuses a page that does not continue after `cursor` (a proxy or an incompatible server ignoring search_after,
   * the range or the ids filter): delivering it re-read the same hits page after page, with no pause. Only
   * exact equality and numeric time are compared, never tiebreaker strings (Elasticsearch orders those by bytes).
   */
  private checkAfterCursor(cursor: EsCursor, hits: Array<{ _id: string; sort: Array<number | string | null> }>): void {
    const seen = new Set(cursor.seenIds);
    const fromMs = cursor.after !== null ? Number(cursor.after[0]) : cursor.fromMs;
    let previousMs = fromMs;
    for (const hit of hits) {
      const timeMs = Number(hit.sort[0]);
      const repeated =
        cursor.after !== null ? hit.sort.length === cursor.after.length && hit.sort.every((v, i) => v === cursor.after![i]) : timeMs === cursor.fromMs && seen.has(hit._id);
      if (timeMs < previousMs || repeated) {
        throw new Error(
          `_search answered hit ${hit._id.slice(0, 64)} ${repeated ? 'already delivered' : timeMs < fromMs ? 'before the saved position' : 'out of time order'}: the server did not apply the ${cursor.after !== null ? 'search_after' : 'range, ids filter'} or sort sent; nothing of that page was delivered`
        );
      }
      previousMs = timeMs;
    }
  }

  private cursorAfter(previous: EsCursor, hits: Array<{ _id: string; sort: Array<number | string | null> }>, index: number, timeMs: number): EsCursor {
    if (this.options.tiebreakerField !== undefined) return { after: hits[index].sort, fromMs: timeMs, seenIds: [] };
    const seen = timeMs === previous.fromMs ? [...previous.seenIds] : [];
    for (let i = index; i >= 0; i--) {
      const t = hits[i].sort[0];
      if ((typeof t === 'number' ? t : Number(t)) !== timeMs) break;
      seen.push(hits[i]._id);
    }
    if (seen.length > this.options.maxSeenPerTimestamp) {
      // The ids query can no longer exclude every delivered document at timeMs: keeping only the newest ids
      // brought the oldest back, page after page, forever. Step past that millisecond and say so.
      this.reportProblem(
        `more than ${this.options.maxSeenPerTimestamp} documents at ${new Date(timeMs).toISOString()}: the rest of that millisecond was skipped (set tiebreakerField for exact paging)`
      );
      return { after: null, fromMs: timeMs + 1, seenIds: [] };
    }
    return { after: null, fromMs: timeMs, seenIds: seen };
  }

  private toEntry(index: string, source: Record<string, unknown>, timeMs: number): LogEntry {
    const message = valueAt(source, this.options.messageField);
    const line = typeof message === 'string' ? message : message === undefined ? JSON.stringify(source) : JSON.stringify(message);
    const labels: Record<string, string> = { ...this.options.labels, index };
    for (const [label, field] of Object.entries(this.options.labelFields)) {
      const value = valueAt(source, field);
      if (value !== undefined && value !== null) labels[label] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    return { source: this.name, timestampMs: timeMs, line, labels };
  }
}

/** A dotted path into _source: both nested objects ({host: {name}}) and flat dotted keys ("host.name"). */
function valueAt(source: Record<string, unknown>, dotted: string): unknown {
  if (dotted in source) return source[dotted];
  let current: unknown = source;
  const parts = dotted.split('.');
  for (let i = 0; i < parts.length; i++) {
    if (typeof current !== 'object' || current === null) return undefined;
    const obj = current as Record<string, unknown>;
    const rest = parts.slice(i).join('.');
    if (i > 0 && rest in obj) return obj[rest];
    current = obj[parts[i]];
  }
  return current;
}
