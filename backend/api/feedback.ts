import { Router, type RequestHandler } from 'express';
import { feedbackListQuerySchema, feedbackRequestSchema, rateAnswerOf, type FeedbackRecord } from '../contract';
import type { Metrics } from '../metrics/metrics';
import { ANY_SOURCE, FactStoreFullError, type FactStore } from '../store/fact-store';
import type { ResultsReader } from '../store/results-reader';
import { HttpError, parseOr400 } from './http-error';

export interface FeedbackDeps {
  facts: FactStore;
  results: ResultsReader;
  metrics: Metrics;
  templateOf: (line: string, source: string) => string;
  maxLineBytes: number;
  requireWrite: RequestHandler;
}

export const FEEDBACK_ID_PATH = '/api/feedback/:id';

/** POST/GET /api/feedback and DELETE /api/feedback/:id (the fact-store). */
export function feedbackRouter(deps: FeedbackDeps): Router {
  const router = Router();
  const schema = feedbackRequestSchema(deps.maxLineBytes);

  router.post('/api/feedback', deps.requireWrite, async (req, res) => {
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
      throw new HttpError(400, 'body must be a JSON object (Content-Type: application/json)', 'body');
    }
    const input = parseOr400(schema, req.body);
    const anomaly = input.anomalyId ? await deps.results.getAnomaly(input.anomalyId) : undefined;
    // Fill in what the client left out: from the anomaly it refers to, else from the message itself.
    const source = input.source ?? anomaly?.source ?? ANY_SOURCE;
    const record = await deps.facts.add({
      message: input.message,
      kind: input.kind,
      source,
      // an answer about a rate event names its template in the message (rateAnswerMessage), not a line to mine
      template: input.template ?? anomaly?.template ?? rateAnswerOf(input.message)?.template ?? deps.templateOf(input.message, source),
      score: input.score ?? anomaly?.score ?? null,
      comment: input.comment ?? null,
      user: input.user ?? null,
      anomalyId: input.anomalyId,
    }).catch((err: unknown) => {
      // 507 Insufficient Storage: the request is fine, the store has no room for it until records are deleted
      if (err instanceof FactStoreFullError) throw new HttpError(507, err.message);
      throw err;
    });
    deps.metrics.feedback.inc({ kind: record.kind });
    const body: FeedbackRecord = record;
    res.status(201).json(body);
  });

  router.get('/api/feedback', (req, res) => {
    const q = parseOr400(feedbackListQuerySchema, req.query);
    const body: FeedbackRecord[] = deps.facts.list({ source: q.source, kind: q.kind, fromMs: q.from, toMs: q.to });
    res.json(body);
  });

  router.delete(FEEDBACK_ID_PATH, deps.requireWrite, async (req, res) => {
    const id = String(req.params.id);
    if (!(await deps.facts.delete(id))) {
      throw new HttpError(404, `no feedback record with id ${id}`, 'id');
    }
    res.status(204).end();
  });

  return router;
}
