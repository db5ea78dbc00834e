import type { DataQuery, DataSourceJsonData } from '@grafana/schema';

import { queryTypeSchema, type FeedbackKind, type QueryRequest, type QueryTarget, type QueryType } from '../shared/contract';

export const QUERY_TYPES = queryTypeSchema.options;
export type LadQueryType = QueryType;

/** One query of a panel: what the backend's POST /api/query takes as a target. */
export interface LadQuery extends DataQuery {
  queryType?: LadQueryType;
  /** Source name or a template variable (`$source`); empty = all sources. */
  source?: string;
  minScore?: number;
  includeSuppressed?: boolean;
  /** Substring the line must contain (template variables allowed). */
  search?: string;
  /** Rows; for "template_rates" the templates per source (default 10: the panel default of 1000 is not sent). */
  limit?: number;
  /** Only for queryType "feedback". */
  kind?: FeedbackKind;
}

/** A new panel shows the latest unsuppressed anomalies of every source without touching the editor. */
export const DEFAULT_QUERY: Partial<LadQuery> = {
  queryType: 'anomalies',
  includeSuppressed: false,
  limit: 1000,
};

export interface LadDataSourceOptions extends DataSourceJsonData {
  /** Backend base URL as Grafana's server sees it, e.g. http://lad-backend:8080 (used by the plugin.json route). */
  url?: string;
  /** Optional Loki datasource holding the raw logs: each anomaly gets an "Open in Explore" link to its lines. */
  lokiDatasourceUid?: string;
  /** The Loki label whose value is the Scorpio source name (default `job`). */
  lokiSourceLabel?: string;
}

export interface LadSecureJsonData {
  /** Sent as `Authorization: Bearer <token>` by the data proxy route; never readable in the browser. */
  token?: string;
}

/** A target as POST /api/query receives it (the contract's): the query's options, template variables already interpolated. */
export type LadTarget = QueryTarget;

/** The body of POST /api/query as the datasource sends it: the contract's, with the options Grafana always sets. */
export type LadQueryBody = QueryRequest & { range: { from: number; to: number }; intervalMs: number; maxDataPoints: number; targets: LadTarget[] };
