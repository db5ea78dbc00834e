import { z } from 'zod';

/**
 * A whole-number query-string parameter (`?before=10`, `?limit=20`): digits only, then bounds, `fallback` when
 * absent. z.coerce.number() read "" as 0, "0x10" as 16, "1e3" as 1000 and " 5 " as 5, answering for a count
 * nobody asked for instead of a 400 naming the parameter.
 */
export function countParam(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d{1,16}$/, 'expected a whole number (digits only)')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);
}
