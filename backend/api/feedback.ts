import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Metrics } from '../metrics/metrics';
import { ANY_SOURCE, type FactStore } from '../store/fact-store';
import type { ResultsReader } from '../store/results-reader';
import { HttpError, parseOr400 } from './http-error';
import { timeSchema } from './query';

export interface FeedbackDeps {
  facts: FactStore;
  results: ResultsReader;
  metrics: Metrics;
  templateOf: (line: string, source: string) => string;
  maxLineBytes: number;
  requireWrite: RequestHandler;
}

const kindSchema = z.enum(['false_positive', 'confirmed']);

function feedbackSchema(maxLineBytes: number) {
  return z.object({
    message: z.string().min(1).max(maxLineBytes, `longer than the line limit of ${maxLineBytes} characters`),
    kind: kindSchema,
    source: z.string().min(1).max(128).optional(),
    template: z.string().min(1).max(maxLineBytes).optional(),
    score: z.number().finite().optional(),
    comment: z.string().max(4000).optional(),
    user: z.string().max(200).optional(),
    anomalyId: z.string().min(1).max(64).optional(),
  });
}

const listQuerySchema = z.object({
  source: z.string().min(1).optional(),
  kind: kindSchema.optional(),
  from: timeSchema.optional(),
  to: timeSchema.optional(),
});

export const FEEDBACK_ID_PATH = '/api/feedback/:id';

/** POST/GET /api/feedback and DELETE /api/feedback/:id (the fact-store). */
export function feedbackRouter(deps: FeedbackDeps): Router {
  const router = Router();
  const schema = feedbackSchema(deps.maxLineBytes);

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
      template: input.template ?? anomaly?.template ?? deps.templateOf(input.message, source),
      score: input.score ?? anomaly?.score ?? null,
      comment: input.comment ?? null,
      user: input.user ?? null,
      anomalyId: input.anomalyId,
    });
    deps.metrics.feedback.inc({ kind: record.kind });
    res.status(201).json(record);
  });

  router.get('/api/feedback', (req, res) => {
    const q = parseOr400(listQuerySchema, req.query);
    res.json(deps.facts.list({ source: q.source, kind: q.kind, fromMs: q.from, toMs: q.to }));
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
