import { z } from 'zod';
import { timeSchema } from './time';

export const feedbackKindSchema = z.enum(['false_positive', 'confirmed']);
export type FeedbackKind = z.infer<typeof feedbackKindSchema>;

/** The limit the backend checks `message` against when none is given: its default maxLineBytes (docs/service.md). */
const DEFAULT_MAX_LINE = 64 * 1024;

/**
 * The body of POST /api/feedback. `maxLineBytes` is the backend's configured line limit: a message longer than
 * any line it would accept is refused with the limit named.
 */
export function feedbackRequestSchema(maxLineBytes = DEFAULT_MAX_LINE) {
  return z.object({
    message: z.string().min(1).max(maxLineBytes, `longer than the line limit of ${maxLineBytes} characters`),
    kind: feedbackKindSchema,
    source: z.string().min(1).max(128).optional(),
    template: z.string().min(1).max(maxLineBytes).optional(),
    score: z.number().finite().optional(),
    comment: z.string().max(4000).optional(),
    user: z.string().max(200).optional(),
    anomalyId: z.string().min(1).max(64).optional(),
  });
}
export type FeedbackRequest = z.input<ReturnType<typeof feedbackRequestSchema>>;

/** The kinds of rate event (the rate_events frame's `kind`): a template far above its rate, a regular one stopped. */
export const rateEventKindSchema = z.enum(['surge', 'drop']);
export type RateEventKind = z.infer<typeof rateEventKindSchema>;

/**
 * An answer about a rate event (the panel's surge and drop rows) is a feedback record with this message and the
 * event's template. It answers for the template's rate, not for a line: the rate model applies it
 * (backend/pipeline/rate-watch.ts), the line-level answers (backend/feedback/feedback-index.ts) leave it out.
 */
export function rateAnswerMessage(kind: RateEventKind, template: string): string {
  return `rate ${kind}: ${template}`;
}

const RATE_ANSWER = /^rate (surge|drop): ([^]+)$/;

/** The rate event a feedback message answers for, or null when it is about a line. */
export function rateAnswerOf(message: string): { kind: RateEventKind; template: string } | null {
  const m = RATE_ANSWER.exec(message);
  return m === null ? null : { kind: rateEventKindSchema.parse(m[1]), template: m[2] };
}

/** GET /api/feedback?source=&kind=&from=&to= */
export const feedbackListQuerySchema = z.object({
  source: z.string().min(1).optional(),
  kind: feedbackKindSchema.optional(),
  from: timeSchema.optional(),
  to: timeSchema.optional(),
});

/** One fact-store record: the answer of POST /api/feedback (201) and an item of GET /api/feedback. */
export const feedbackRecordSchema = z.object({
  id: z.string(),
  /** ISO 8601. */
  time: z.string(),
  source: z.string(),
  message: z.string(),
  template: z.string(),
  score: z.number().nullable(),
  kind: feedbackKindSchema,
  comment: z.string().nullable(),
  user: z.string().nullable(),
  /** The stored anomaly the answer was given on, if any. */
  anomalyId: z.string().optional(),
  /** Which tokenizer and miner made `template`; absent on records written before the miner. */
  templateVersion: z.string().optional(),
  /** The template as first recorded, when a migration changed it. */
  previousTemplate: z.string().optional(),
});
export type FeedbackRecord = z.infer<typeof feedbackRecordSchema>;

export const feedbackListSchema = z.array(feedbackRecordSchema);
