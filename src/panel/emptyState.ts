import { LoadingState, type PanelData } from '@grafana/data';

/** What the panel says when it has no row to show, and whether that is a failure. */
export interface EmptyState {
  text: string;
  failed: boolean;
}

/** The messages of a failed query (PanelData.errors; the deprecated single `error` is its first). */
export function queryErrors(data: Pick<PanelData, 'errors'>): string[] {
  return (data.errors ?? []).map((e) => e.message || e.data?.message || `HTTP ${e.status ?? '?'} ${e.statusText ?? ''}`.trim());
}

/**
 * "No anomalies" is a claim about the logs: only a finished, error-free anomalies query may make it. A failed or
 * still-running query says so instead, so an outage never reads as an all-clear.
 */
export function emptyState(data: Pick<PanelData, 'state' | 'errors' | 'series'>, hasAnomalyFrame: boolean, rowCount: number): EmptyState {
  const errors = queryErrors(data);
  if (data.state === LoadingState.Error || errors.length > 0) {
    return { text: `The query failed, so this panel cannot say whether there are anomalies: ${errors.join('; ') || 'no details'}`, failed: true };
  }
  if (data.state === LoadingState.Loading || data.state === LoadingState.NotStarted) {
    return { text: 'Loading anomalies\u2026', failed: false };
  }
  if (!hasAnomalyFrame && data.series.length > 0) {
    return { text: 'This panel shows the Scorpio datasource\u2019s "Anomalies" query: pick that query type in the query editor.', failed: false };
  }
  return { text: rowCount > 0 ? 'Every anomaly in this time range is suppressed.' : 'No anomalies in this time range.', failed: false };
}
