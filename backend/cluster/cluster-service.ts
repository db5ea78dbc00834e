/**
 * `mode: cluster`: one binary, the roles its configuration names (backend/server/main.ts starts this instead
 * of the embedded service):
 * - ingest: the push endpoints publish to JetStream (ingest/jetstream.ts) and answer once it has stored them;
 *   configured sources (file tail, syslog, pulls) run here too and publish the same way;
 * - score: a ScoringWorker takes sources through leases and writes scored lines to PostgreSQL;
 * - query: the datasource API from PostgreSQL and the stream (the query role, passed in as `query`).
 * Every role connects to NATS and creates the stream and buckets when missing; score and query also bring the
 * PostgreSQL schema up to date. GET /api/cluster says what this process does and whether its engines answer.
 */
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import * as engine from '../engine';
import { templateVersionOf } from '../engine/drain/config';
import { Metrics } from '../metrics/metrics';
import { refuse, tokenJudge } from '../server/auth';
import { admitBodies, BodyBudget, bodyBudgetBytes } from '../server/body-budget';
import type { Config } from '../server/config';
import { drainTime, listen } from '../server/listen';
import { connectionCap } from '../server/connections';
import { createLinePushRouter } from '../sources/line-push';
import { createSource } from '../sources/registry';
import type { LogSource } from '../sources/source';
import { createLokiPushRouter } from '../sources/loki-push';
import { PostgresFactStore } from '../store/fact-store-postgres';
import { JetStreamQueue } from './ingest/jetstream';
import { sourceSink } from './ingest/source-sink';
import { LeaseTable } from './lease';
import { ObjectModelStore } from './model-store-object';
import { connectNats, type NatsLink } from './nats/connection';
import { ensureClusterResources, type ClusterResources, type StreamLimits } from './nats/resources';
import type { PostgresPool } from './postgres/pool';
import { openPostgres, PostgresResultsSink } from './postgres/results-sink';
import { newWorkerId, ScoringWorker } from './worker';

/** What the query role needs from the process, and what it gives back (its routes and how to stop it). */
export interface QueryRoleContext {
  config: Config;
  logger: Logger;
  pool: PostgresPool;
  facts: PostgresFactStore;
  nats: ClusterResources;
  metrics: Metrics;
}
export interface QueryRole {
  router: Router;
  close(): Promise<void>;
}
export type StartQueryRole = (ctx: QueryRoleContext) => Promise<QueryRole>;

export interface ClusterService {
  readonly port: number;
  readonly url: string;
  readonly worker: ScoringWorker | null;
  close(): Promise<void>;
}

export interface ClusterOptions {
  logger: Logger;
  /** The query role (cluster/postgres); without it a process given `query` refuses to start. */
  query?: StartQueryRole;
  /** How long start-up waits for NATS and PostgreSQL to answer (they often start alongside). */
  connectTimeoutMs?: number;
}

export function streamLimits(config: Config): StreamLimits {
  return { maxAgeMs: config.retention.hours * 3600_000, maxBytes: config.retention.maxBytesPerSource * config.maxSources };
}

/** openPostgres, retried until `timeoutMs`: a cluster's processes may start before PostgreSQL accepts connections. */
async function openPostgresPatiently(url: string, logger: Logger, timeoutMs: number): Promise<PostgresPool> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await openPostgres(url, { onError: (err) => logger.warn({ err: err.message }, 'PostgreSQL connection error') });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function startClusterService(config: Config, options: ClusterOptions): Promise<ClusterService> {
  const { logger } = options;
  const roles = new Set(config.roles);
  const timeout = options.connectTimeoutMs ?? 30_000;
  if (roles.has('query') && !options.query) throw new Error('the query role is not available in this build');
  const link: NatsLink = await connectNats(config.cluster.natsUrl!, logger, `lad ${[...roles].join('+')} ${process.pid}`, timeout);
  const nats = await ensureClusterResources(link.nc, config.cluster.leaseSeconds, streamLimits(config), (message) => logger.warn(message));
  const metrics = new Metrics();
  const needsPostgres = roles.has('score') || roles.has('query');
  const pool = needsPostgres ? await openPostgresPatiently(config.cluster.postgresUrl!, logger, timeout) : null;
  const facts = pool
    ? await PostgresFactStore.open(pool, { templateVersion: templateVersionOf(config.training.engine.miner), maxChars: config.memory.factStoreChars, onError: (err, what) => logger.warn({ err: err.message }, what) })
    : null;
  if (facts !== null && facts.migrated > 0) {
    logger.info({ records: facts.migrated, rederived: facts.rederived, templateVersion: facts.templateVersion }, 'fact-store: stamped feedback records with the current template version');
  }

  const queue = roles.has('ingest') ? new JetStreamQueue({ link, logger }) : null;
  // configured sources (file tail, syslog, pulls, demo) run on ingest replicas and publish like the push routes
  const sources: LogSource[] = queue ? config.sources.map((c) => createSource(c, { dataDir: config.dataDir })) : [];
  let worker: ScoringWorker | null = null;
  if (roles.has('score')) {
    worker = new ScoringWorker({
      natsUrl: config.cluster.natsUrl!,
      leases: new LeaseTable(nats.leases, newWorkerId(), config.cluster.leaseSeconds),
      leaseSeconds: config.cluster.leaseSeconds,
      logger,
      scorer: {
        js: nats.js,
        jsm: nats.jsm,
        models: (companion) => new ObjectModelStore(nats.models, engine, companion),
        sink: new PostgresResultsSink(pool!, { bucketMs: config.retention.bucketSeconds * 1000 }),
        facts: facts!,
        engine,
        training: config.training,
        batchLines: config.queue.batchLines,
        metrics,
        logger,
      },
    });
  }
  const query = roles.has('query') ? await options.query!({ config, logger, pool: pool!, facts: facts!, nats, metrics }) : null;

  const app = express();
  app.disable('x-powered-by');
  const judge = tokenJudge(config.apiToken);
  app.use((req, res, next) => {
    const open = req.path === '/api/health' || (config.metricsPublic && req.path === '/metrics');
    const verdict = open ? 'ok' : judge(req);
    if (verdict === 'ok') next();
    else refuse(res, verdict);
  });
  // request bodies in flight are bounded for the process, as in the embedded service (server/body-budget.ts)
  const bodies = new BodyBudget(bodyBudgetBytes(config.memory), metrics.bodyEvents);
  metrics.bodyReading = () => ({ inFlight: bodies.inFlight, maxBytes: bodies.maxBytes });
  app.use(admitBodies(bodies, { maxBodyBytes: config.maxBodyBytes }));
  app.get('/api/cluster', (_req, res) => {
    res.json({
      mode: 'cluster',
      roles: [...roles],
      nats: { up: link.downReason() === null, reason: link.downReason() },
      worker: worker ? { id: worker.workerId, sources: worker.ownedSources() } : null,
    });
  });
  if (queue) {
    const pushOptions = { maxBodyBytes: config.maxBodyBytes, maxLineBytes: config.maxLineBytes };
    app.use(createLokiPushRouter(queue, pushOptions));
    app.use(createLinePushRouter(queue, pushOptions));
  }
  if (query) app.use(query.router);
  else {
    app.get('/api/health', (_req, res) => res.json({ status: link.downReason() === null ? 'ok' : 'degraded', mode: 'cluster', roles: [...roles] }));
    // every role exports its own series (workers: lines scored, anomalies, scores); the query role's router
    // has its own /metrics with the fact-store counts
    app.get('/metrics', async (_req, res) => {
      res.set('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    });
  }

  const http = await listen(app, config.host, config.port, { maxConnections: connectionCap(config), drainMs: drainTime(config.queryDeadlineMs) });
  const port = http.port;
  await worker?.start();
  logger.info({ port, host: config.host, mode: 'cluster', roles: [...roles], worker: worker?.workerId, sources: sources.map((s) => s.name) }, 'listening');
  for (const source of sources) {
    source.start(sourceSink(queue!)).catch((err: Error) => logger.error({ source: source.name, err: err.message }, 'source failed to start'));
  }

  let closing: Promise<void> | null = null;
  return {
    port,
    url: http.url,
    worker,
    close() {
      closing ??= (async () => {
        await http.close();
        await Promise.all(sources.map((s) => s.stop().catch(() => undefined)));
        await queue?.close();
        await worker?.stop();
        await query?.close();
        await facts?.close();
        await pool?.close();
        await link.close();
      })();
      return closing;
    },
  };
}
