import { z } from 'zod';

/** A source's model: still collecting its training window, training, or scoring. */
export const modelStateSchema = z.enum(['collecting', 'training', 'ready']);
export type ModelState = z.infer<typeof modelStateSchema>;

/** One source of GET /api/health: its pipeline's stats (rounded for display) plus what the source reports. */
export const sourceHealthSchema = z.object({
  name: z.string(),
  kind: z.string(),
  state: z.string(),
  linesIngested: z.number(),
  linesScored: z.number(),
  anomalies: z.number(),
  suppressed: z.number(),
  linesPerSecond: z.number(),
  modelState: modelStateSchema,
  modelAgeSeconds: z.number().nullable(),
  lastTrainedAt: z.string().nullable(),
  threshold: z.number().nullable(),
  lastError: z.string().nullable(),
  lagMs: z.number().nullable(),
  /** Lines accepted and waiting to be scored. */
  queueDepth: z.number(),
  /** A retraining runs beside scoring now. */
  retraining: z.boolean(),
});
export type SourceHealth = z.infer<typeof sourceHealthSchema>;

/** precision: confirmed ÷ reviewed anomalies; null until someone reviewed one. */
export const factStoreCountsSchema = z.object({ falsePositives: z.number(), confirmed: z.number(), precision: z.number().nullable() });
export type FactStoreCounts = z.infer<typeof factStoreCountsSchema>;

/** The body of GET /api/health with the token (docs/architecture.md): what "Save & test", the app page and tests read. */
export const healthSchema = z.object({
  /** degraded: a store cannot write (full or read-only disk); `problems` says which and why. */
  status: z.enum(['ok', 'degraded']),
  /** One sentence per failing store, empty when ok. */
  problems: z.array(z.string()),
  version: z.string(),
  uptimeSeconds: z.number(),
  sources: z.array(sourceHealthSchema),
  factStore: factStoreCountsSchema,
  /** A background write of the results store failed (anomalies may be missing from queries). */
  resultsStore: z.object({ lastError: z.string().nullable() }),
  /** The write-ahead spool; null when it is off (spool.enabled false). */
  spool: z.object({ lastError: z.string().nullable() }).nullable(),
});
export type Health = z.infer<typeof healthSchema>;

/** GET /api/health without the token, when the backend has one: liveness only, no details (docs/api.md). */
export const livenessSchema = z.object({ status: z.literal('ok') }).strict();
export type Liveness = z.infer<typeof livenessSchema>;

/** GET /api/sources: every source name worth offering (configured, pushed to, or with stored results). */
export const sourcesSchema = z.array(z.string());
