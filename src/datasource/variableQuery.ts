import type { DataQuery } from '@grafana/schema';

/** What a dashboard variable on the Scorpio datasource lists. */
export interface LadVariableQuery extends DataQuery {
  kind: 'sources';
}

export const DEFAULT_VARIABLE_QUERY: LadVariableQuery = { refId: 'LadVariable', kind: 'sources' };

/**
 * The stored variable query as this version reads it. Dashboards saved for the old string API (metricFindQuery)
 * hold the string "sources" (or nothing); Grafana hands the stored value over as it is.
 */
export function toVariableQuery(stored: unknown): LadVariableQuery {
  if (typeof stored === 'string') {
    const what = stored.trim().toLowerCase();
    if (what === '' || what === 'sources') {
      return DEFAULT_VARIABLE_QUERY;
    }
    throw new Error(`Unknown variable query "${stored}": the Scorpio datasource lists "sources"`);
  }
  if (stored && typeof stored === 'object' && (stored as { kind?: unknown }).kind === 'sources') {
    return { ...DEFAULT_VARIABLE_QUERY, ...(stored as LadVariableQuery) };
  }
  if (stored === undefined || stored === null) {
    return DEFAULT_VARIABLE_QUERY;
  }
  throw new Error('Unknown variable query: the Scorpio datasource lists "sources"');
}
