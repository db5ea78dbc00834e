/** Grafana data frames in their JSON form (DataFrameJSON: schema + columnar data), built column by column. */
import type { DataFrameJSON, FieldType } from '../contract';

// The frame's JSON shape is the HTTP contract's (backend/contract/frames.ts).
export type { DataFrameJSON, FieldType };


export interface FieldSpec {
  name: string;
  type: FieldType;
  values: unknown[];
  config?: Record<string, unknown>;
  labels?: Record<string, string>;
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
