import { z } from 'zod';

/** Epoch milliseconds as digits (a minus sign allowed, as for a number). */
const EPOCH_MS = /^-?\d+$/;
/**
 * ISO 8601 (RFC 3339) dates and date-times: 2026-11-25, 2026-11-25T14:00:00.123Z, with a space for the T, with a
 * zone offset, or a six-digit extended year. Only these reach Date.parse, whose fallback reads almost anything
 * as some date: "-1" and "+1" were 2001-01-01, "  5 " 2001-05-01, "1 2" 2001-01-02, silently.
 */
const ISO_8601 = /^(?:[+-]\d{6}|\d{4})-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** A time string (epoch-ms digits or ISO 8601) as epoch ms; NaN for anything else. */
export function timeStringMs(text: string): number {
  return EPOCH_MS.test(text) ? Number(text) : ISO_8601.test(text) ? Date.parse(text) : NaN;
}

/** The latest time a Date can hold (ECMAScript's time range, year 275760): beyond it a "time" is no time. */
export const MAX_TIME_MS = 8.64e15;

/** Epoch ms (number or numeric string) or an ISO 8601 date, read as epoch ms, within ±MAX_TIME_MS. */
export const timeSchema = z.union([z.number().finite(), z.string().min(1)]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v : timeStringMs(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'expected epoch milliseconds or an ISO 8601 date (e.g. 2026-11-25T14:00:00Z)' });
    return z.NEVER;
  }
  // Beyond a Date's range a "time" is no time, and ±1.7e308 made a query's range Infinity wide: the rate grid's
  // step and point count became NaN, a 500 logged as a server error (RangeError: Invalid array length).
  if (Math.abs(ms) > MAX_TIME_MS) {
    ctx.addIssue({ code: 'custom', message: `beyond the time range of a date (±${MAX_TIME_MS} ms, the year 275760)` });
    return z.NEVER;
  }
  return ms;
});
