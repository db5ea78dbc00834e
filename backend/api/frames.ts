/** Grafana data frames in their JSON form (DataFrameJSON: schema + columnar data), built column by column. */

export type FieldType = 'time' | 'number' | 'string' | 'boolean' | 'other';

export interface FieldSpec {
  name: string;
  type: FieldType;
  values: unknown[];
  config?: Record<string, unknown>;
  labels?: Record<string, string>;
}

export interface DataFrameJSON {
  schema: {
    name?: string;
    refId: string;
    meta?: Record<string, unknown>;
    fields: { name: string; type: FieldType; config: Record<string, unknown>; labels?: Record<string, string> }[];
  };
  data: { values: unknown[][] };
}

export function frame(refId: string, name: string, fields: FieldSpec[], meta?: Record<string, unknown>): DataFrameJSON {
  return {
    schema: {
      name,
      refId,
      ...(meta ? { meta } : {}),
      fields: fields.map((f) => ({ name: f.name, type: f.type, config: f.config ?? {}, ...(f.labels ? { labels: f.labels } : {}) })),
    },
    data: { values: fields.map((f) => f.values) },
  };
}
