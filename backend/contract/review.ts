import { z } from 'zod';
import { modelStateSchema } from './health';
import { countParam } from './params';
import { QUERY_LIMITS } from './query';

/** GET /api/review?source=&limit= (answers go to POST /api/feedback). */
export const reviewQuerySchema = z.object({
  source: z.string().min(1).max(128),
  // Lines examined: at most REVIEW_WINDOW_LINES (one source), within QUERY_LIMITS.reviewLinesPerQuery.
  limit: countParam(1, QUERY_LIMITS.reviewItemsPerSource, 20),
});

/** One item of a source's review queue (backend/feedback/review-queue.ts builds them). */
export const reviewItemSchema = z.object({
  /** The representative line: of its template's undecided lines, the one scored nearest the threshold. */
  line: z.string(),
  /** The results store's id of that line: GET /api/anomalies/:id/context answers its surrounding lines. Null: not stored. */
  lineId: z.string().nullable(),
  template: z.string(),
  score: z.number(),
  threshold: z.number(),
  flagged: z.boolean(),
  /** Lines of the window an answer on this line would decide (its neighbourhood, not only its template). */
  affected: z.number(),
  /** Lines of the window with this template. */
  templateLines: z.number(),
  priority: z.number(),
  /** Why the model is unsure, for people. */
  why: z.array(z.string()),
});
export type ReviewItem = z.infer<typeof reviewItemSchema>;

/** The body of GET /api/review: the lines whose answer would teach the source's model most, first. */
export const reviewResponseSchema = z.object({
  source: z.string(),
  modelState: modelStateSchema,
  threshold: z.number().nullable(),
  items: z.array(reviewItemSchema),
});
export type ReviewResponse = z.infer<typeof reviewResponseSchema>;
