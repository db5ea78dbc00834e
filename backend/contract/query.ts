import { z } from 'zod';
import { feedbackKindSchema } from './feedback';
import { dataFrameJSONSchema } from './frames';
import { timeSchema } from './time';

/**
 * Bounds on the work one request may ask for, so a small body cannot take the process down: 4 rate targets of
 * 1,000 sources at 50,000 points once built 200 million values and ran the heap out. Each is answered with a
 * 400 that names it. Listed in docs/service.md.
 */
export const QUERY_LIMITS = {
  targetsPerQuery: 50,
  sourcesPerTarget: 500,
  /** As Prometheus' 11,000 points per series: more than a screen can show. maxDataPoints above it is clamped. */
  pointsPerFrame: 11_000,
  /** Sum over rate targets of sources × points. */
  pointsPerQuery: 1_000_000,
  searchChars: 1000,
  /**
   * Sum over table targets (anomalies, templates, feedback, rate_events) of their row limit (`limit` or its
   * default): twice one target at its largest limit. 50 anomalies targets at limit 100,000 asked for 5 million
   * rows, a response JSON.stringify could not build: a 500 after 5.3 s with the service at 1.7 GB. One target of
   * 100,000 rows was 19 MB and 215 ms.
   */
  rowsPerQuery: 200_000,
  /** Templates per source of a `template_rates` target (target.limit, clamped to it): each is two series; more is more than a legend can hold. */
  templateRateSeries: 100,
  /** Items per source of a `review` target (target.limit) and of GET /api/review (limit): a queue is for people answering it. */
  reviewItemsPerSource: 200,
  /**
   * Sum over review targets of the lines each selected source's queue examines (its newest lines, at most
   * REVIEW_WINDOW_LINES = 5,000 a source; each is scored without the model's cache). Rule: one query's review
   * work stays near a second of one core for typical windows. Measured on this 2-core machine under load: a
   * 5,000-line window of repeating lines (BGL, Thunderbird) 0.1–0.25 s, of 5,000 distinct lines 0.8–1.5 s; so
   * 25,000 lines, five full sources (docs/service.md).
   */
  reviewLinesPerQuery: 25_000,
} as const;

export const queryTypeSchema = z.enum(['anomalies', 'rate', 'templates', 'feedback', 'review', 'template_rates', 'rate_events']);
export type QueryType = z.infer<typeof queryTypeSchema>;

// The per-target count is checked by the backend's cost check, so its message names the limit (a union's says only "Invalid input").
const sourceSchema = z.union([z.string().max(4096), z.array(z.string().max(256)).max(10_000)]).optional();

/** One target of POST /api/query. `source`: see selectedSources (./sources.ts). */
export const targetSchema = z
  .object({
    refId: z.string().min(1).max(64),
    queryType: queryTypeSchema,
    source: sourceSchema,
    minScore: z.number().finite().optional(),
    includeSuppressed: z.boolean().optional(),
    search: z.string().max(QUERY_LIMITS.searchChars).optional(),
    limit: z.number().int().min(1).max(100_000).optional(),
    kind: feedbackKindSchema.optional(),
    hide: z.boolean().optional(),
  })
  .passthrough(); // Grafana adds datasource, key, etc.
export type QueryTarget = z.input<typeof targetSchema>;

/** The body of POST /api/query (Grafana's query request shape). */
export const queryRequestSchema = z
  .object({
    range: z
      .object({ from: timeSchema, to: timeSchema })
      .refine((r) => r.from <= r.to, { message: 'from must not be after to', path: ['from'] }),
    intervalMs: z.number().positive().finite().optional(),
    // Clamped, not refused: Grafana users can set large values; more points than this help no graph.
    maxDataPoints: z
      .number()
      .int()
      .positive()
      .transform((n) => Math.min(n, QUERY_LIMITS.pointsPerFrame))
      .optional(),
    targets: z
      .array(targetSchema)
      .max(QUERY_LIMITS.targetsPerQuery, {
        message: `at most ${QUERY_LIMITS.targetsPerQuery} targets per query (limit targetsPerQuery)`,
      })
      // Frames are answered under their refId: a second target with the same one silently replaced the first's.
      .superRefine((targets, ctx) => {
        const first = new Map<string, number>();
        targets.forEach((target, i) => {
          const earlier = first.get(target.refId);
          if (earlier === undefined) {
            first.set(target.refId, i);
            return;
          }
          ctx.addIssue({ code: 'custom', path: [i, 'refId'], message: `refId ${JSON.stringify(target.refId)} is also targets.${earlier}'s: each target needs its own` });
        });
      }),
  })
  .passthrough();
export type QueryRequest = z.input<typeof queryRequestSchema>;

/** The answer of POST /api/query: frames per refId (a hidden target has none), or an error for that target. */
export const queryResponseSchema = z.object({
  results: z.record(z.string(), z.object({ frames: z.array(dataFrameJSONSchema).optional(), error: z.string().optional() })),
});
export type QueryResponse = z.infer<typeof queryResponseSchema>;
