/** Ids and paths the app, datasource, panel, provisioning and docker-compose agree on (tests/compose.test.ts checks them). */
export const APP_ID = 'scorpio-lad-app';
export const DATASOURCE_TYPE = 'scorpio-lad-datasource';
export const PANEL_ID = 'scorpio-anomalies-panel';
/** uid of the provisioned Scorpio datasource (provisioning/datasources/scorpio.yaml). */
export const DEFAULT_DATASOURCE_UID = 'scorpio-lad';
/** uid of the provisioned "Log anomalies" dashboard. */
export const DASHBOARD_UID = 'scorpio-log-anomalies';
/** plugin.json route path: Grafana's data proxy swaps `<proxy>/lad` for the backend URL and adds the token. */
export const ROUTE_PATH = 'lad';

/** Base URL of the backend API behind Grafana's data proxy for the datasource with this uid. */
export function ladProxyBase(datasourceUid: string): string {
  return `/api/datasources/proxy/uid/${encodeURIComponent(datasourceUid)}/${ROUTE_PATH}`;
}
