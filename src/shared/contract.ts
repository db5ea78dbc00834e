import { z } from 'zod';

// Responses of the Scorpio backend (docs/architecture.md "HTTP API"), validated where they enter the browser:
// a backend of another version fails with a readable message instead of a blank panel.

export const sourceHealthSchema = z.object({
  name: z.string(),
  kind: z.string(),
  state: z.string(),
  linesIngested: z.number(),
  linesScored: z.number(),
  anomalies: z.number(),
  suppressed: z.number(),
  linesPerSecond: z.number(),
  modelState: z.enum(['collecting', 'training', 'ready']),
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

export const healthSchema = z.object({
  status: z.string(),
  version: z.string(),
  uptimeSeconds: z.number(),
  sources: z.array(sourceHealthSchema),
  /** precision: confirmed ÷ reviewed anomalies; null until someone reviewed one. */
  factStore: z.object({ falsePositives: z.number(), confirmed: z.number(), precision: z.number().nullable() }),
  /** A background write of the results store failed (anomalies may be missing from queries). */
  resultsStore: z.object({ lastError: z.string().nullable() }),
});
export type Health = z.infer<typeof healthSchema>;

/** GET /api/health without the token, when the backend has one: liveness only, no details (docs/api.md). */
export const livenessSchema = z.object({ status: z.literal('ok') }).strict();

export const sourcesSchema = z.array(z.string());

const contextRowSchema = z.object({
  id: z.string(),
  time: z.union([z.number(), z.string()]),
  source: z.string(),
  line: z.string(),
  score: z.number().nullable(),
  anomaly: z.boolean(),
  suppressed: z.boolean(),
  /** The line's labels as it was ingested (a Loki stream's labels, the syslog host and app, ...). */
  labels: z.record(z.string(), z.string()),
});
export type ContextRow = z.infer<typeof contextRowSchema>;

export const contextSchema = z.object({
  anomaly: contextRowSchema,
  before: z.array(contextRowSchema),
  after: z.array(contextRowSchema),
});
export type AnomalyContext = z.infer<typeof contextSchema>;

export type FeedbackKind = 'false_positive' | 'confirmed';

export const feedbackRecordSchema = z.object({
  id: z.string(),
  time: z.union([z.number(), z.string()]),
  source: z.string().nullable().optional(),
  message: z.string(),
  template: z.string().nullable().optional(),
  score: z.number().nullable().optional(),
  kind: z.enum(['false_positive', 'confirmed']),
  comment: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
});
export type FeedbackRecord = z.infer<typeof feedbackRecordSchema>;

export interface FeedbackRequest {
  message: string;
  kind: FeedbackKind;
  source?: string;
  template?: string;
  score?: number;
  comment?: string;
  user?: string;
  anomalyId?: string;
}
