/**
 * The query role of cluster mode: the datasource API (POST /api/query, anomalies' context, feedback,
 * GET /api/health, /api/sources, /metrics) answered from shared state, so any number of query replicas
 * answer alike: anomalies, counts, rate series and events and review queues from PostgreSQL (as the scoring
 * workers wrote them), context lines from the JetStream stream, feedback in
 * the PostgreSQL fact-store (which tells every replica and the owning worker through LISTEN/NOTIFY).
 * The routers are the embedded ones (backend/api); only the reader and the fact-store differ.
 * PostgreSQL down: reads that need it answer 503 naming PostgreSQL and where (PostgresUnavailableError),
 * the health check too; the process keeps running and answers again once PostgreSQL is back (the pool reconnects).
 */
import express, { Router } from 'express';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import * as engine from '../engine';
import { CONTEXT_PATH, contextRouter } from '../api/context';
import { FEEDBACK_ID_PATH, feedbackRouter } from '../api/feedback';
import { healthProblems, type HealthResponse } from '../api/health';
import { errorHandler } from '../api/http-error';
import { verifyJsonBody } from '../api/json-body';
import { queryRouter } from '../api/query';
import { mountQueryGate } from '../api/query-gate';
import type { Metrics } from '../metrics/metrics';
import { refuse, requireToken, tokenJudge } from '../server/auth';
import type { Config } from '../server/config';
import { packageVersion } from '../server/service';
import type { FactStore } from '../store/fact-store';
import type { PostgresPool } from './postgres/pool';
import { PostgresResultsReader } from './postgres/results-reader';
import { PostgresResultsSink } from './postgres/results-sink';
import { StreamContextReader } from './stream-context';

export interface QueryRoleDeps {
  config: Config;
  logger: Logger;
  pool: PostgresPool;
  /** The PostgreSQL fact-store (shared with the other roles of this process). */
  facts: FactStore;
  nats: { js: JetStreamClient };
  metrics: Metrics;
}

export interface QueryRoleHandle {
  router: Router;
  readonly results: PostgresResultsReader;
  close(): Promise<void>;
}

/**
 * The body of GET /api/health in a query replica (token holders; others get liveness only): the contract's health
 * (backend/contract/health.ts, what the plugin parses) plus where it runs. Scoring runs on the workers: no
 * per-source pipeline stats here (GET /api/sources lists the names), and a query replica has no spool.
 */
export type ClusterHealthResponse = HealthResponse & { mode: 'cluster'; roles: string[]; postgres: { where: string } };

export async function startQueryRole(deps: QueryRoleDeps): Promise<QueryRoleHandle> {
  const { config, logger, pool, facts, metrics } = deps;
  const startedAt = Date.now();
  const version = packageVersion();
  const results = await PostgresResultsReader.open(pool, new StreamContextReader(deps.nats.js), {
    bucketMs: config.retention.bucketSeconds * 1000,
    maxRows: config.retention.maxAnomalies,
  });
  const judge = tokenJudge(config.apiToken);
  // Retention of anomalies and counts (the stream's max_age covers the lines). Every query replica may run it:
  // a DELETE of what is already gone does nothing.
  const retention = new PostgresResultsSink(pool, { bucketMs: results.bucketMs });
  const pruneTimer = setInterval(() => {
    retention.prune(Date.now() - config.retention.hours * 3600_000).catch((err: Error) => logger.warn({ err: err.message }, 'pruning old results'));
  }, 60_000);
  pruneTimer.unref();

  const router = Router();
  // Before express.json, as in the embedded app (backend/api/query-gate.ts): a waiting query has not read its body.
  mountQueryGate(router, config.queryDeadlineMs);
  router.use(
    express.json({
      limit: config.maxBodyBytes,
      verify: verifyJsonBody,
    })
  );
  router.get('/api/health', async (req, res) => {
    const verdict = judge(req);
    if (verdict === 'wrong') {
      refuse(res, verdict);
      return;
    }
    // Throws PostgresUnavailableError (503 naming PostgreSQL) when it does not answer: a balancer routes away.
    await pool.query('SELECT 1');
    if (verdict === 'missing') {
      res.json({ status: 'ok' });
      return;
    }
    const problems = healthProblems(results.lastError, null);
    const body: ClusterHealthResponse = {
      status: problems.length > 0 ? 'degraded' : 'ok',
      problems,
      mode: 'cluster',
      roles: config.roles,
      version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      sources: [],
      factStore: facts.counts(),
      resultsStore: { lastError: results.lastError },
      spool: null,
      postgres: { where: pool.where },
    };
    res.json(body);
  });
  router.get('/api/sources', async (_req, res) => {
    await results.refreshNames();
    res.json(results.sourceNames());
  });
  router.get('/metrics', async (_req, res) => {
    const counts = facts.counts();
    metrics.feedbackRecords.set({ kind: 'false_positive' }, counts.falsePositives);
    metrics.feedbackRecords.set({ kind: 'confirmed' }, counts.confirmed);
    res.set('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  // every query type from PostgreSQL: rate series and events, review queues as the owning workers wrote them
  router.use(
    queryRouter({
      results,
      facts,
      sourceNames: () => results.sourceNames(),
      review: (source, limit) => results.review(source, limit),
      rates: (source) => results.rates(source),
      deadlineMs: config.queryDeadlineMs,
    })
  );
  router.use(contextRouter(results));
  router.use(
    feedbackRouter({
      facts,
      results,
      metrics,
      // no model here: the masked template, which the owning worker's overlap matching covers
      templateOf: (line) => engine.templateOf(line),
      maxLineBytes: config.maxLineBytes,
      requireWrite: requireToken(config.apiToken),
    })
  );
  router.use(errorHandler(logger, [CONTEXT_PATH, FEEDBACK_ID_PATH]));

  return {
    router,
    results,
    async close() {
      clearInterval(pruneTimer);
      results.close();
    },
  };
}
