import { z } from 'zod';

/** Epoch ms (number or numeric string) or an ISO 8601 date, read as epoch ms. */
export const timeSchema = z.union([z.number().finite(), z.string().min(1)]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'expected epoch milliseconds or an ISO 8601 date' });
    return z.NEVER;
  }
  return ms;
});
