import { Router } from 'express';
import { reviewQuerySchema, type ReviewResponse } from '../contract';
import type { Pipelines } from '../pipeline/pipelines';
import { HttpError, parseOr400 } from './http-error';

// Defined in the shared HTTP contract (backend/contract/review.ts); re-exported for code that imports them from here.
export { reviewQuerySchema, type ReviewResponse };

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
