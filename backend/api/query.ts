import { Router } from 'express';
import { z } from 'zod';
import { ANOMALY_FIELDS, QUERY_LIMITS, queryRequestSchema, RATE_EVENT_FIELDS, REVIEW_FIELDS, selectedSources, targetSchema, type QueryResponse } from '../contract';
import type { ReviewItem } from '../feedback/review-queue';
import type { FactStore, FeedbackKind } from '../store/fact-store';
import type { ResultsReader, ScoringStateReader } from '../store/results-reader';
import type { AnomalyRecord } from '../store/results-store';
import { frame, namedFrame, type DataFrameJSON } from './frames';
import { HttpError, parseOr400 } from './http-error';
import { DEFAULT_QUERY_DEADLINE_MS, perSourceWithDeadline, QueryDeadline, readerWithDeadline } from './query-deadline';

// The request's shape, its limits (QUERY_LIMITS) and "All sources" are the HTTP contract's (backend/contract); re-exported
// for the code that imports them from here.
export { QUERY_LIMITS, queryRequestSchema, selectedSources, targetSchema, timeSchema } from '../contract';

type Target = z.output<typeof targetSchema>;
type QueryRequest = z.output<typeof queryRequestSchema>;

export interface QueryDeps {
  /** Local results (embedded) or PostgreSQL + the stream (cluster query role). */
  results: ResultsReader;
  facts: FactStore;
  /** All source names known (configured, pushed to, or with stored results). */
  sourceNames: () => string[];
  /**
   * A source's review queue (GET /api/review); null when it has no model. Embedded: the pipeline's, computed now;
   * cluster: what the owning worker last wrote to PostgreSQL (PostgresResultsReader).
   */
  review: ScoringStateReader['review'];
  /** Lines a source's review queue would examine now (0 when none is computed here): counted against reviewLinesPerQuery. */
  reviewLines?: (source: string) => number;
  /** A source's rate history and interval (ms; null: no timed rate model): the pipeline's, or PostgreSQL's in cluster mode. */
  rates: ScoringStateReader['rates'];
  /** A request stops with a 503 naming queryDeadlineMs once it ran this long (query-deadline.ts). */
  deadlineMs?: number;
}

const DEFAULT_LIMITS = { anomalies: 1000, templates: 100, feedback: 1000, review: 20, templateRates: 10, rateEvents: 1000 } as const;

export function queryRouter(deps: QueryDeps): Router {
  const router = Router();
  router.post('/api/query', async (req, res) => {
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
      throw new HttpError(400, 'body must be a JSON object (Content-Type: application/json)', 'body');
    }
    const query = parseOr400(queryRequestSchema, req.body);
    checkQueryCost(deps, query);
    const deadline = new QueryDeadline(deps.deadlineMs ?? DEFAULT_QUERY_DEADLINE_MS);
    const bounded: QueryDeps = {
      ...deps,
      results: readerWithDeadline(deps.results, deadline),
      review: perSourceWithDeadline(deps.review, deadline, 'review queue'),
      rates: perSourceWithDeadline(deps.rates, deadline, 'rate history'),
    };
    // Entries, not assignment: `results[refId] = ...` with refId "__proto__" set the object's prototype, and that
    // target's frames vanished from a 200 answer. Object.fromEntries defines an own property for any refId.
    const answered: [string, QueryResponse['results'][string]][] = [];
    for (const target of query.targets) {
      if (target.hide) {
        continue;
      }
      deadline.check(`starting target ${JSON.stringify(target.refId)}`);
      answered.push([target.refId, { frames: await deadline.race(framesOf(bounded, query, target), `answering target ${JSON.stringify(target.refId)}`) }]);
    }
    const body: QueryResponse = { results: Object.fromEntries(answered) };
    res.json(body);
  });
  return router;
}

/** Rate frames are the only ones whose size grows with sources × range: refuse before building any. */
function checkQueryCost(deps: QueryDeps, query: QueryRequest): void {
  let points = 0;
  /** Of `points`, those of template_rates targets: one per rate interval of the range, whatever maxDataPoints says. */
  let templatePoints = 0;
  let reviewLines = 0;
  let rows = 0;
  query.targets.forEach((target, i) => {
    rows += target.hide ? 0 : (rowLimitOf(target) ?? 0);
    if (rows > QUERY_LIMITS.rowsPerQuery) {
      throw new HttpError(
        400,
        `targets.${i}.limit: the query's tables would hold up to ${rows} rows by here, more than ${QUERY_LIMITS.rowsPerQuery} (limit rowsPerQuery): lower the targets' limit or split the query`,
        `targets.${i}.limit`
      );
    }
    const named = selectedSources(target.source)?.length ?? 0;
    if (named > QUERY_LIMITS.sourcesPerTarget) {
      throw new HttpError(
        400,
        `targets.${i}.source: ${named} sources, at most ${QUERY_LIMITS.sourcesPerTarget} per target (limit sourcesPerTarget)`,
        `targets.${i}.source`
      );
    }
    if (!target.hide && target.queryType === 'template_rates') {
      const asked = templateRatesPoints(deps, query, target);
      points += asked;
      templatePoints += asked;
      return;
    }
    if (!target.hide && target.queryType === 'review') {
      reviewLines += reviewCost(deps, target, i);
      return;
    }
    if (target.hide || target.queryType !== 'rate') {
      return;
    }
    const sources = (selectedSources(target.source) ?? deps.sourceNames()).length;
    if (sources > QUERY_LIMITS.sourcesPerTarget) {
      throw new HttpError(
        400,
        `targets.${i}.source: ${sources} sources, at most ${QUERY_LIMITS.sourcesPerTarget} per target (limit sourcesPerTarget)`,
        `targets.${i}.source`
      );
    }
    points += sources * rateGrid(deps, query).points;
  });
  if (points > QUERY_LIMITS.pointsPerQuery && templatePoints > points / 2) {
    // maxDataPoints does not change these: the advice and the field were wrong for a 30-day template_rates panel
    throw new HttpError(
      400,
      `the query asks for ${points} points, ${templatePoints} of them template_rates series (one point per rate interval of the range), more than ${QUERY_LIMITS.pointsPerQuery} (limit pointsPerQuery): select a shorter range, fewer sources or a lower limit`,
      'range'
    );
  }
  if (points > QUERY_LIMITS.pointsPerQuery) {
    throw new HttpError(
      400,
      `the query asks for ${points} points, more than ${QUERY_LIMITS.pointsPerQuery} (limit pointsPerQuery): select fewer sources or lower maxDataPoints`,
      'maxDataPoints'
    );
  }
  if (reviewLines > QUERY_LIMITS.reviewLinesPerQuery) {
    throw new HttpError(
      400,
      `the review targets would examine ${reviewLines} lines, more than ${QUERY_LIMITS.reviewLinesPerQuery} (limit reviewLinesPerQuery): select fewer sources`,
      'targets'
    );
  }
}

/**
 * Rows a table target answers at most (its limit or the default): the one reading of `limit` for the cost check
 * and the frames, so the two cannot disagree. Undefined for the other query types, which have bounds of their own.
 */
function rowLimitOf(target: Target): number | undefined {
  switch (target.queryType) {
    case 'anomalies':
      return target.limit ?? DEFAULT_LIMITS.anomalies;
    case 'templates':
      return target.limit ?? DEFAULT_LIMITS.templates;
    case 'feedback':
      return target.limit ?? DEFAULT_LIMITS.feedback;
    case 'rate_events':
      return target.limit ?? DEFAULT_LIMITS.rateEvents;
    default:
      return undefined;
  }
}

/** Lines a review target examines (every selected source's window, a source named twice twice); refuses too many items or sources, naming the field. */
function reviewCost(deps: QueryDeps, target: Target, i: number): number {
  if (target.limit !== undefined && target.limit > QUERY_LIMITS.reviewItemsPerSource) {
    throw new HttpError(
      400,
      `targets.${i}.limit: ${target.limit} review items, at most ${QUERY_LIMITS.reviewItemsPerSource} per source (limit reviewItemsPerSource)`,
      `targets.${i}.limit`
    );
  }
  const sources = selectedSources(target.source) ?? deps.sourceNames();
  if (sources.length > QUERY_LIMITS.sourcesPerTarget) {
    throw new HttpError(
      400,
      `targets.${i}.source: ${sources.length} sources, at most ${QUERY_LIMITS.sourcesPerTarget} per target (limit sourcesPerTarget)`,
      `targets.${i}.source`
    );
  }
  return sources.reduce((n, source) => n + (deps.reviewLines?.(source) ?? 0), 0);
}

/** Templates per source of a template_rates target: clamped, not refused (a panel switched from anomalies keeps its 1000). */
function templateRatesLimit(target: Target): number {
  return Math.min(target.limit ?? DEFAULT_LIMITS.templateRates, QUERY_LIMITS.templateRateSeries);
}

/** Points of a template_rates target: sources × templates × the intervals of the range (two series each). */
function templateRatesPoints(deps: QueryDeps, query: QueryRequest, target: Target): number {
  const n = templateRatesLimit(target);
  let points = 0;
  for (const source of selectedSources(target.source) ?? deps.sourceNames()) {
    const width = deps.rates(source)?.intervalMs ?? null;
    if (width !== null) points += 2 * n * (Math.floor((query.range.to - query.range.from) / width) + 2);
  }
  return points;
}

/** The time step and point count of every rate frame of a query. */
function rateGrid(deps: QueryDeps, query: QueryRequest): { step: number; points: number } {
  const { from, to } = query.range;
  const maxPoints = query.maxDataPoints ?? 1000;
  const step = Math.max(query.intervalMs ?? 0, Math.ceil((to - from) / maxPoints), deps.results.bucketMs);
  return { step, points: Math.floor((to - from) / step) + 2 };
}

/**
 * The table's meta: a table cut at its limit (`matched`, the rows found, more than `limit`) carries a notice, which
 * Grafana shows on the panel, instead of looking complete.
 */
function tableMeta(matched: number, limit: number, what: string): Record<string, unknown> {
  if (matched <= limit) return { preferredVisualisationType: 'table' };
  const text = `showing the first ${limit} ${what}; more match: raise the query's limit or narrow the range`;
  return { preferredVisualisationType: 'table', notices: [{ severity: 'info', text }] };
}

async function framesOf(deps: QueryDeps, query: QueryRequest, target: Target): Promise<DataFrameJSON[]> {
  switch (target.queryType) {
    case 'anomalies':
      return [await anomaliesFrame(deps, query, target)];
    case 'rate':
      return rateFrames(deps, query, target);
    case 'templates':
      return [await templatesFrame(deps, query, target)];
    case 'feedback':
      return [feedbackFrame(deps, query, target)];
    case 'review':
      return [await reviewFrame(deps, target)];
    case 'template_rates':
      return templateRateFrames(deps, query, target);
    case 'rate_events':
      return [await rateEventsFrame(deps, query, target)];
  }
}

async function findAnomalies(deps: QueryDeps, query: QueryRequest, target: Target, limit: number): Promise<AnomalyRecord[]> {
  const sources = selectedSources(target.source);
  const includeSuppressed = target.includeSuppressed ?? false;
  const common = {
    fromMs: query.range.from,
    toMs: query.range.to,
    minScore: target.minScore,
    search: target.search || undefined,
    includeSuppressed,
    // Suppression is looked up live, so a false positive reported now also hides its earlier near-duplicates.
    isSuppressed: (a: AnomalyRecord) => a.suppressed || deps.facts.isSuppressed(a.source, a.template),
    limit,
  };
  if (sources === undefined) {
    return deps.results.anomalies(common);
  }
  const all = (await Promise.all(sources.map((source) => deps.results.anomalies({ ...common, source })))).flat();
  all.sort((a, b) => b.time - a.time || b.seq - a.seq);
  return all.slice(0, limit);
}

async function anomaliesFrame(deps: QueryDeps, query: QueryRequest, target: Target): Promise<DataFrameJSON> {
  const limit = rowLimitOf(target)!;
  // one more than the limit: whether the table is complete
  const found = await findAnomalies(deps, query, target, limit + 1);
  const rows = found.slice(0, limit);
  const feedbackByAnomaly = new Map<string, FeedbackKind>();
  for (const record of deps.facts.list()) {
    if (record.anomalyId) {
      feedbackByAnomaly.set(record.anomalyId, record.kind);
    }
  }
  const suppressed = rows.map((a) => a.suppressed || deps.facts.isSuppressed(a.source, a.template));
  return namedFrame(
    target.refId,
    'anomalies',
    ANOMALY_FIELDS,
    {
      time: { type: 'time', values: rows.map((a) => a.time) },
      id: { type: 'string', values: rows.map((a) => a.id) },
      source: { type: 'string', values: rows.map((a) => a.source) },
      // No unit, decimals or displayName here: a field config set by the datasource beats the panel's standard
      // options (Grafana fills only what the datasource left unset: @grafana/data field/fieldOverrides.ts).
      score: { type: 'number', values: rows.map((a) => a.score) },
      threshold: { type: 'number', values: rows.map((a) => a.threshold) },
      line: { type: 'string', values: rows.map((a) => a.line) },
      template: { type: 'string', values: rows.map((a) => a.template) },
      reason: { type: 'string', values: rows.map((a) => a.reason) },
      suppressed: { type: 'boolean', values: suppressed },
      feedback: {
        type: 'string',
        values: rows.map((a, i) => feedbackByAnomaly.get(a.id) ?? (suppressed[i] ? 'false_positive' : '')),
      },
    },
    tableMeta(found.length, limit, 'anomalies (newest first)')
  );
}

async function rateFrames(deps: QueryDeps, query: QueryRequest, target: Target): Promise<DataFrameJSON[]> {
  const { from, to } = query.range;
  const { step } = rateGrid(deps, query);
  const names = selectedSources(target.source) ?? deps.sourceNames();
  const includeSuppressed = target.includeSuppressed ?? false;
  const counted = await Promise.all(names.map((source) => deps.results.counts(source, from, to, step)));
  return names.map((source, n) => {
    const counts = counted[n];
    const anomalies = counts.map((c) => c.anomalies + (includeSuppressed ? c.suppressed : 0));
    const labels = { source };
    return frame(target.refId, source, [
      { name: 'time', type: 'time', values: counts.map((c) => c.time), config: { interval: step } },
      // displayNameFromDS, not displayName: the panel's own display name and overrides still win.
      { name: 'anomalies', type: 'number', values: anomalies, labels, config: { displayNameFromDS: `${source} anomalies` } },
      {
        name: 'lines',
        type: 'number',
        values: counts.map((c) => c.lines),
        labels,
        config: { displayNameFromDS: `${source} lines` },
      },
      {
        name: 'ratio',
        type: 'number',
        // No lines, no ratio: null (a gap), not 0 (which would read as "nothing anomalous").
        values: counts.map((c, i) => (c.lines > 0 ? anomalies[i] / c.lines : null)),
        labels,
        config: { displayNameFromDS: `${source} anomaly ratio` },
      },
    ]);
  });
}

async function templatesFrame(deps: QueryDeps, query: QueryRequest, target: Target): Promise<DataFrameJSON> {
  const rows = await findAnomalies(deps, query, target, Number.MAX_SAFE_INTEGER);
  const groups = new Map<
    string,
    { template: string; source: string; count: number; maxScore: number; lastSeen: number; example: string }
  >();
  for (const a of rows) {
    const key = `${a.source}\u0000${a.template}`;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, {
        template: a.template,
        source: a.source,
        count: 1,
        maxScore: a.score,
        lastSeen: a.time,
        example: a.line,
      });
    } else {
      g.count++;
      g.maxScore = Math.max(g.maxScore, a.score);
      // rows are newest first: the first one seen is the latest example.
      g.lastSeen = Math.max(g.lastSeen, a.time);
    }
  }
  const limit = rowLimitOf(target)!;
  const top = [...groups.values()].sort((a, b) => b.count - a.count || b.maxScore - a.maxScore).slice(0, limit);
  return frame(
    target.refId,
    'templates',
    [
      { name: 'template', type: 'string', values: top.map((g) => g.template) },
      { name: 'source', type: 'string', values: top.map((g) => g.source) },
      { name: 'count', type: 'number', values: top.map((g) => g.count) },
      { name: 'maxScore', type: 'number', values: top.map((g) => g.maxScore) },
      { name: 'lastSeen', type: 'time', values: top.map((g) => g.lastSeen) },
      { name: 'example', type: 'string', values: top.map((g) => g.example) },
    ],
    tableMeta(groups.size, limit, `of ${groups.size} templates (most frequent first)`)
  );
}

function feedbackFrame(deps: QueryDeps, query: QueryRequest, target: Target): DataFrameJSON {
  const sources = selectedSources(target.source);
  const matching = deps.facts
    .list({ kind: target.kind, fromMs: query.range.from, toMs: query.range.to })
    .filter((r) => sources === undefined || sources.includes(r.source))
    .filter((r) => !target.search || r.message.toLowerCase().includes(target.search.toLowerCase()))
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const limit = rowLimitOf(target)!;
  const records = matching.slice(0, limit);
  return frame(
    target.refId,
    'feedback',
    [
      { name: 'time', type: 'time', values: records.map((r) => Date.parse(r.time)) },
      { name: 'id', type: 'string', values: records.map((r) => r.id) },
      { name: 'source', type: 'string', values: records.map((r) => r.source) },
      { name: 'kind', type: 'string', values: records.map((r) => r.kind) },
      { name: 'message', type: 'string', values: records.map((r) => r.message) },
      { name: 'template', type: 'string', values: records.map((r) => r.template) },
      { name: 'score', type: 'number', values: records.map((r) => r.score) },
      { name: 'comment', type: 'string', values: records.map((r) => r.comment) },
      { name: 'user', type: 'string', values: records.map((r) => r.user) },
    ],
    tableMeta(matching.length, limit, `of ${matching.length} feedback records (newest first)`)
  );
}

/** The review queue of each selected source (GET /api/review), one row per item, most teaching first per source. */
async function reviewFrame(deps: QueryDeps, target: Target): Promise<DataFrameJSON> {
  const limit = target.limit ?? DEFAULT_LIMITS.review;
  const rows: (ReviewItem & { source: string })[] = [];
  for (const source of selectedSources(target.source) ?? deps.sourceNames()) {
    for (const item of (await deps.review(source, limit)) ?? []) rows.push({ ...item, source });
  }
  return namedFrame(
    target.refId,
    'review',
    REVIEW_FIELDS,
    {
      source: { type: 'string', values: rows.map((r) => r.source) },
      line: { type: 'string', values: rows.map((r) => r.line) },
      // The stored line's id ('' when not stored): GET /api/anomalies/:id/context answers the lines around it.
      lineId: { type: 'string', values: rows.map((r) => r.lineId ?? '') },
      template: { type: 'string', values: rows.map((r) => r.template) },
      score: { type: 'number', values: rows.map((r) => r.score) },
      threshold: { type: 'number', values: rows.map((r) => r.threshold) },
      flagged: { type: 'boolean', values: rows.map((r) => r.flagged) },
      affected: { type: 'number', values: rows.map((r) => r.affected) },
      priority: { type: 'number', values: rows.map((r) => r.priority) },
      why: { type: 'string', values: rows.map((r) => r.why.join('; ')) },
    },
    { preferredVisualisationType: 'table' }
  );
}

/** Observed and expected counts per interval of each source's most surprising templates: one frame a template. */
async function templateRateFrames(deps: QueryDeps, query: QueryRequest, target: Target): Promise<DataFrameJSON[]> {
  const frames: DataFrameJSON[] = [];
  for (const source of selectedSources(target.source) ?? deps.sourceNames()) {
    const rates = deps.rates(source);
    if (!rates || rates.intervalMs === null) continue;
    const width = rates.intervalMs;
    for (const s of await rates.history.series(query.range.from, query.range.to, width, templateRatesLimit(target))) {
      const labels = { source, template: s.template };
      frames.push(
        frame(target.refId, `${source} ${s.template}`, [
          { name: 'time', type: 'time', values: s.times, config: { interval: width } },
          { name: 'observed', type: 'number', values: s.observed, labels, config: { displayNameFromDS: `${s.template} observed` } },
          { name: 'expected', type: 'number', values: s.expected, labels, config: { displayNameFromDS: `${s.template} expected` } },
        ])
      );
    }
  }
  // a limit above the bound was clamped: the first frame says so (Grafana shows it on the panel)
  if (target.limit !== undefined && target.limit > QUERY_LIMITS.templateRateSeries && frames.length > 0) {
    frames[0].schema.meta = {
      ...frames[0].schema.meta,
      notices: [{ severity: 'info', text: `limit ${target.limit} lowered to ${QUERY_LIMITS.templateRateSeries} templates per source (limit templateRateSeries)` }],
    };
  }
  return frames;
}

/** Surges and drops of the selected sources in the range, newest first (dashboard annotations read them). */
async function rateEventsFrame(deps: QueryDeps, query: QueryRequest, target: Target): Promise<DataFrameJSON> {
  const perSource = await Promise.all(
    (selectedSources(target.source) ?? deps.sourceNames()).map(async (source) =>
      ((await deps.rates(source)?.history.eventsIn(query.range.from, query.range.to)) ?? []).map((e) => ({ ...e, source }))
    )
  );
  const all = perSource.flat().sort((a, b) => b.time - a.time);
  const limit = rowLimitOf(target)!;
  const rows = all.slice(0, limit);
  return namedFrame(
    target.refId,
    'rate_events',
    RATE_EVENT_FIELDS,
    {
      time: { type: 'time', values: rows.map((e) => e.time) },
      source: { type: 'string', values: rows.map((e) => e.source) },
      template: { type: 'string', values: rows.map((e) => e.template) },
      kind: { type: 'string', values: rows.map((e) => e.kind) },
      observed: { type: 'number', values: rows.map((e) => e.observed) },
      expected: { type: 'number', values: rows.map((e) => e.expected) },
      interval: { type: 'string', values: rows.map((e) => e.interval) },
    },
    tableMeta(all.length, limit, `of ${all.length} rate events (newest first)`)
  );
}
