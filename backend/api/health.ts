import { Router, type Request } from 'express';
import type { Health as HealthResponse, Liveness as LivenessResponse, SourceHealth } from '../contract';
import { refuse, type TokenVerdict } from '../server/auth';
import type { Metrics } from '../metrics/metrics';
import type { Pipelines } from '../pipeline/pipelines';
import type { FactStore } from '../store/fact-store';

// The bodies of GET /api/health are part of the HTTP contract (backend/contract/health.ts); re-exported for the
// code that imports them from here.
export type { HealthResponse, LivenessResponse, SourceHealth };

export interface HealthDeps {
  /** The request's token verdict: details go to the token holder only (everyone when no token is set). */
  tokenOf: (req: Request) => TokenVerdict;
  pipelines: Pipelines;
  facts: FactStore;
  metrics: Metrics;
  version: string;
  startedAt: number;
  sourceNames: () => string[];
  /** Background results-store write failure, if any (cleared by the next successful write). */
  resultsError: () => string | null;
  /** The spool's last write or checkpoint failure (cleared by the next success); absent when the spool is off. */
  spoolError?: () => string | null;
}

/** What is failing right now, one sentence each: the reason health says degraded. */
export function healthProblems(resultsError: string | null, spoolError: string | null): string[] {
  const problems: string[] = [];
  if (spoolError) {
    // a failed group commit refuses pushes; a failed checkpoint only keeps lines spooled longer
    problems.push(spoolError.startsWith('spool write') ? `spool cannot write, pushes are answered 503: ${spoolError}` : `spool cannot record how far its lines are scored, so it keeps them (and grows): ${spoolError}`);
  }
  if (resultsError) problems.push(`results store cannot write, recent results may be missing and their lines stay spooled: ${resultsError}`);
  return problems;
}

export function sourceHealth(pipelines: Pipelines): SourceHealth[] {
  return pipelines.all().map((p) => {
    const stats = p.stats();
    const status = pipelines.sourceStatus(p.name);
    return {
      name: p.name,
      kind: p.kind,
      state: status.state,
      ...stats,
      linesPerSecond: Math.round(stats.linesPerSecond * 10) / 10,
      modelAgeSeconds: stats.modelAgeSeconds === null ? null : Math.round(stats.modelAgeSeconds),
      lastError: status.lastError ?? stats.lastError,
      lagMs: status.lagMs,
    };
  });
}

/** GET /api/health, GET /api/sources and GET /metrics. */
export function healthRouter(deps: HealthDeps): Router {
  const router = Router();
  router.get('/api/health', (req, res) => {
    const verdict = deps.tokenOf(req);
    if (verdict === 'wrong') {
      refuse(res, verdict);
      return;
    }
    if (verdict === 'missing') {
      const live: LivenessResponse = { status: 'ok' };
      res.json(live);
      return;
    }
    const resultsError = deps.resultsError();
    const spoolError = deps.spoolError ? deps.spoolError() : null;
    const problems = healthProblems(resultsError, spoolError);
    const body: HealthResponse = {
      status: problems.length > 0 ? 'degraded' : 'ok',
      problems,
      version: deps.version,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      sources: sourceHealth(deps.pipelines),
      factStore: deps.facts.counts(),
      resultsStore: { lastError: resultsError },
      spool: deps.spoolError ? { lastError: spoolError } : null,
    };
    res.json(body);
  });
  router.get('/api/sources', (_req, res) => {
    res.json(deps.sourceNames());
  });
  router.get('/metrics', async (_req, res) => {
    deps.pipelines.refreshMetrics();
    const counts = deps.facts.counts();
    deps.metrics.feedbackRecords.set({ kind: 'false_positive' }, counts.falsePositives);
    deps.metrics.feedbackRecords.set({ kind: 'confirmed' }, counts.confirmed);
    if (counts.precision === null) {
      deps.metrics.precision.reset();
    } else {
      deps.metrics.precision.set(counts.precision);
    }
    res.set('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return router;
}
