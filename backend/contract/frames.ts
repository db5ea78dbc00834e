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
