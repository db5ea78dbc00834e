import { getHeapStatistics } from 'node:v8';

/**
 * Bounds of the fact-store (lowdb, and PostgreSQL's copy in every replica's memory). Every lowdb change rewrites the
 * whole file (JSON.stringify of every record on the event loop, then a write + fsync), and the records, that string
 * and its UTF-8 buffer are all in memory at once.
 * Unbounded, records of enormous fields took the built service down: with node's default heap, after 673 records
 * of 64 KiB control characters (533 MB of JSON) every POST /api/feedback was a 500 (JSON.stringify: Invalid string
 * length), adds took up to 8.8 s, RSS peaked at 2.5 GB; with --max-old-space-size=384 the process died (heap out
 * of memory) at 225 records. Rule, set before measuring: at most 64 Mi characters (a typical record is about 550:
 * 100,000 of them are 55 M, one stringify 0.2 s and one write + fsync 0.24 s here), and at most a sixteenth of the
 * heap limit, as the body budget (server/body-budget.ts), so the file's copies stay a small part of the heap.
 */
export const FACT_STORE_LIMITS = { maxChars: 64 * 1024 * 1024, heapShare: 1 / 16 } as const;

/** The default bound: the smaller of FACT_STORE_LIMITS.maxChars and heapShare of V8's heap limit (in bytes, read as characters). */
export function defaultFactStoreChars(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.min(FACT_STORE_LIMITS.maxChars, Math.floor(heapLimitBytes * FACT_STORE_LIMITS.heapShare));
}

/** Characters a record takes in the store's JSON (its JSON and the comma after it): what the bound counts. */
export function recordChars(record: object): number {
  return JSON.stringify(record).length + 1;
}

/** A record refused because the store holds its bound already: nothing was stored; deleting records makes room. */
export class FactStoreFullError extends Error {
  constructor(
    readonly heldChars: number,
    readonly maxChars: number,
    readonly recordChars: number
  ) {
    super(
      `fact-store full: its records take ${heldChars} characters of JSON, this one ${recordChars} more, and the bound is ${maxChars} ` +
        `(memory.factStoreChars, LAD_MEMORY_FACT_STORE_CHARS; default the smaller of 64 Mi and a sixteenth of the heap limit): delete records (DELETE /api/feedback/:id) or shorten the message, template and comment`
    );
    this.name = 'FactStoreFullError';
  }
}
