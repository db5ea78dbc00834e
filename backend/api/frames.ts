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

/**
 * A frame whose fields are the contract's list `names` (backend/contract/frames.ts), in its order: `columns` must
 * give every name and no other (NoInfer: the list alone decides the names), so the frame the plugin reads by these
 * names cannot lose or rename one here.
 */
export function namedFrame<N extends string>(
  refId: string,
  name: string,
  names: readonly N[],
  columns: { [K in NoInfer<N>]: Omit<FieldSpec, 'name'> },
  meta?: Record<string, unknown>
): DataFrameJSON {
  return frame(
    refId,
    name,
    names.map((n) => ({ name: n, ...columns[n] })),
    meta
  );
}
