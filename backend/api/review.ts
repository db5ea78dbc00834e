import { Router } from 'express';
import { z } from 'zod';
import type { ReviewItem } from '../feedback/review-queue';
import type { Pipelines } from '../pipeline/pipelines';
import type { ModelState } from '../pipeline/source-pipeline';
import { HttpError, parseOr400 } from './http-error';
import { QUERY_LIMITS } from './query';

export const reviewQuerySchema = z.object({
  source: z.string().min(1).max(128),
  // Lines examined: at most REVIEW_WINDOW_LINES (one source), within QUERY_LIMITS.reviewLinesPerQuery.
  limit: z.coerce.number().int().min(1).max(QUERY_LIMITS.reviewItemsPerSource).default(20),
});

/** The body of GET /api/review: the lines whose answer would teach the source's model most, first. */
export interface ReviewResponse {
  source: string;
  modelState: ModelState;
  threshold: number | null;
  items: ReviewItem[];
}

/** GET /api/review?source=&limit= (answers go to POST /api/feedback as before). */
export function reviewRouter(pipelines: Pipelines): Router {
  const router = Router();
  router.get('/api/review', (req, res) => {
    const q = parseOr400(reviewQuerySchema, req.query);
    const pipeline = pipelines.get(q.source);
    if (pipeline === undefined) throw new HttpError(404, `no source named ${q.source}`, 'source');
    const body: ReviewResponse = {
      source: q.source,
      modelState: pipeline.modelState,
      threshold: pipeline.stats().threshold,
      items: pipeline.review(q.limit) ?? [],
    };
    res.json(body);
  });
  return router;
}
