import { z } from 'zod';
import { countParam } from './params';

/** GET /api/anomalies/:id/context?before=&after= */
export const contextQuerySchema = z.object({
  before: countParam(0, 1000, 10),
  after: countParam(0, 1000, 10),
});

export const contextRowSchema = z.object({
  id: z.string(),
  /** Epoch ms. */
  time: z.number(),
  source: z.string(),
  line: z.string(),
  /** null: a line stored without a score (JSON has no NaN). */
  score: z.number().nullable(),
  anomaly: z.boolean(),
  suppressed: z.boolean(),
  /** The line's labels as it was ingested (a Loki stream's labels, the syslog host and app, ...). */
  labels: z.record(z.string(), z.string()),
});
export type ContextRow = z.infer<typeof contextRowSchema>;

/** The lines just before and after an anomaly, from the same source. */
export const contextSchema = z.object({
  anomaly: contextRowSchema,
  before: z.array(contextRowSchema),
  after: z.array(contextRowSchema),
});
export type AnomalyContext = z.infer<typeof contextSchema>;
