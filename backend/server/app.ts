import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { CONTEXT_PATH, contextRouter } from '../api/context';
import { FEEDBACK_ID_PATH, feedbackRouter } from '../api/feedback';
import { healthRouter } from '../api/health';
import { errorHandler, HttpError } from '../api/http-error';
import { verifyJsonBody } from '../api/json-body';
import { queryRouter } from '../api/query';
import { mountQueryGate } from '../api/query-gate';
import { reviewRouter } from '../api/review';
import type { Metrics } from '../metrics/metrics';
import type { Pipelines } from '../pipeline/pipelines';
import { createLinePushRouter } from '../sources/line-push';
import { createLokiPushRouter, LOKI_PUSH_PATH } from '../sources/loki-push';
import { LINE_PUSH_PATH } from '../sources/line-push';
import type { LogSink } from '../sources/source';
import type { FactStore } from '../store/fact-store';
import type { ResultsReader } from '../store/results-reader';
import { refuse, requireToken, tokenJudge } from './auth';
import { admitBodies, BodyBudget, bodyBudgetBytes } from './body-budget';
import type { Config } from './config';

export interface AppDeps {
  config: Config;
  logger: Logger;
  pipelines: Pipelines;
  /** Where push routes write (the spool when on: backend/spool/spooled-sink.ts); the pipelines otherwise. */
  pushSink?: LogSink;
  /** The spool's last write failure, for /api/health (absent when the spool is off). */
  spoolError?: () => string | null;
  facts: FactStore;
  /** What the datasource API reads: the local ResultsStore, or PostgreSQL + the stream in a cluster's query role. */
  results: ResultsReader;
  metrics: Metrics;
  /** The template of a line: the source's mined one when it has a model, else the masked line. */
  templateOf: (line: string, source: string) => string;
  version: string;
  startedAt: number;
}

/** Every source name worth offering: configured, pushed to since start, or with stored results. */
export function sourceNames(deps: Pick<AppDeps, 'pipelines' | 'results'>): string[] {
  const names = new Set<string>([...deps.pipelines.all().map((p) => p.name), ...deps.results.sourceNames()]);
  return [...names].sort();
}

/** The express app: push endpoints, the datasource API, feedback, metrics, with JSON errors everywhere. */
export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // Path only: query strings and headers (Authorization) stay out of the logs.
      logger.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });

  // With a token set, every request needs it, reads included; only liveness (/api/health, which then answers
  // details to the token holder alone) and, when configured public, /metrics stay open. Exact paths only: a
  // variant express would also route there (case, trailing slash) needs the token, the safe direction.
  const judge = tokenJudge(config.apiToken);
  const open = new Set(['/api/health', ...(config.metricsPublic ? ['/metrics'] : [])]);
  app.use((req, res, next) => {
    const verdict = open.has(req.path) ? 'ok' : judge(req);
    if (verdict === 'ok') {
      next();
      return;
    }
    refuse(res, verdict);
  });

  // Every body is reserved in one process-wide budget before it is read (body-budget.ts). A query waiting for its
  // turn at the gate (query-gate.ts: POST /api/query, GET /api/feedback) has neither reserved nor read its body, so the gate comes first.
  mountQueryGate(app, config.queryDeadlineMs);
  const bodies = new BodyBudget(bodyBudgetBytes(config.memory), deps.metrics.bodyEvents);
  deps.metrics.bodyReading = () => ({ inFlight: bodies.inFlight, maxBytes: bodies.maxBytes });
  app.use(admitBodies(bodies, { maxBodyBytes: config.maxBodyBytes }));

  const requireWrite = requireToken(config.apiToken);
  const pushOptions = { maxBodyBytes: config.maxBodyBytes, maxLineBytes: config.maxLineBytes, maxBatchLines: config.queue.maxLines };
  // Push routers parse their own (raw, possibly compressed) bodies, so they come before express.json.
  const pushSink = deps.pushSink ?? deps.pipelines;
  app.use(createLokiPushRouter(pushSink, pushOptions));
  app.use(createLinePushRouter(pushSink, pushOptions));

  app.use(
    express.json({
      limit: config.maxBodyBytes,
      // invalid UTF-8 and bodies nested too deep or holding too many values are refused before parsing
      verify: verifyJsonBody,
    })
  );

  const names = () => sourceNames(deps);
  app.use(healthRouter({ tokenOf: judge, pipelines: deps.pipelines, facts: deps.facts, metrics: deps.metrics, version: deps.version, startedAt: deps.startedAt, sourceNames: names, resultsError: () => deps.results.lastError, spoolError: deps.spoolError }));
  app.use(queryRouter({ results: deps.results, facts: deps.facts, sourceNames: names, review: (source, limit) => deps.pipelines.get(source)?.review(limit) ?? null, reviewLines: (source) => deps.pipelines.get(source)?.reviewLines() ?? 0, rates: (source) => deps.pipelines.get(source)?.rates ?? null, deadlineMs: config.queryDeadlineMs }));
  app.use(contextRouter(deps.results));
  app.use(reviewRouter(deps.pipelines));
  app.use(
    feedbackRouter({
      facts: deps.facts,
      results: deps.results,
      metrics: deps.metrics,
      templateOf: deps.templateOf,
      maxLineBytes: config.maxLineBytes,
      requireWrite,
    })
  );

  app.use((req, _res, next) => next(new HttpError(404, `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(logger, [CONTEXT_PATH, FEEDBACK_ID_PATH]));
  return app;
}
