import { z } from 'zod';

/** Grafana data frames in their JSON form (DataFrameJSON: schema + columnar data), as POST /api/query sends them. */
export const fieldTypeSchema = z.enum(['time', 'number', 'string', 'boolean', 'other']);
export type FieldType = z.infer<typeof fieldTypeSchema>;

export const frameFieldSchema = z.object({
  name: z.string(),
  type: fieldTypeSchema,
  config: z.record(z.string(), z.unknown()),
  labels: z.record(z.string(), z.string()).optional(),
});

export const dataFrameJSONSchema = z.object({
  schema: z.object({
    name: z.string().optional(),
    refId: z.string(),
    meta: z.record(z.string(), z.unknown()).optional(),
    fields: z.array(frameFieldSchema),
  }),
  data: z.object({ values: z.array(z.array(z.unknown())) }),
});
export type DataFrameJSON = z.infer<typeof dataFrameJSONSchema>;

/*
 * The field names, in order, of the frames the plugin reads field by field: the `anomalies`, `review` and
 * `rate_events` answers of POST /api/query. backend/api/query.ts builds these frames from the lists (namedFrame,
 * which needs a column for each name and takes no other) and the plugin (src/panel, src/datasource) looks their
 * fields up by the same names, so renaming one on one side only does not compile; tests/contract.test.ts checks
 * that a running service sends exactly these. The other frames (rate, templates, feedback, template_rates) are
 * drawn by Grafana as they come, never read by name.
 */
export const ANOMALY_FIELDS = [
  'time',
  'id',
  'source',
  'score',
  'threshold',
  'line',
  'template',
  'reason',
  'suppressed',
  'feedback',
] as const;
export type AnomalyField = (typeof ANOMALY_FIELDS)[number];

export const REVIEW_FIELDS = [
  'source',
  'line',
  'lineId',
  'template',
  'score',
  'threshold',
  'flagged',
  'affected',
  'priority',
  'why',
] as const;
export type ReviewField = (typeof REVIEW_FIELDS)[number];

export const RATE_EVENT_FIELDS = ['time', 'source', 'template', 'kind', 'observed', 'expected', 'interval'] as const;
export type RateEventField = (typeof RATE_EVENT_FIELDS)[number];

/** The fields of a frame named in one of the lists above, by name; a name the frame lacks is absent. */
export function fieldsByName<N extends string, F extends { name: string }>(
  fields: readonly F[],
  names: readonly N[]
): Partial<Record<N, F>> {
  const found: Partial<Record<N, F>> = {};
  for (const name of names) {
    const field = fields.find((f) => f.name === name);
    if (field) {
      found[name] = field;
    }
  }
  return found;
}
