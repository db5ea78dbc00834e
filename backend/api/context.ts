import { Router } from 'express';
import { contextQuerySchema, type AnomalyContext } from '../contract';
import type { ResultsReader } from '../store/results-reader';
import { HttpError, parseOr400 } from './http-error';

export const CONTEXT_PATH = '/api/anomalies/:id/context';

/** GET /api/anomalies/:id/context: the lines just before and after a stored line (an anomaly, or a review item's lineId). */
export function contextRouter(results: ResultsReader): Router {
  const router = Router();
  router.get(CONTEXT_PATH, async (req, res) => {
    const { before, after } = parseOr400(contextQuerySchema, req.query);
    const context = await results.context(String(req.params.id), before, after);
    if (!context) {
      throw new HttpError(404, `no stored line with id ${req.params.id} (unknown or past retention)`, 'id');
    }
    const body: AnomalyContext = context;
    res.json(body);
  });
  return router;
}
