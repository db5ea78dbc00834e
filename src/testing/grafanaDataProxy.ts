/**
 * A stand-in for Grafana's data proxy (`/api/datasources/proxy/uid/<uid>/<path>`), for the jsdom tests
 * (src/testing/wireBackend.ts) and the browser test (tests/browser/host-server.ts). It decides what Grafana's
 * server would do with one request, as grafana/grafana pkg/api/pluginproxy/ds_proxy.go does:
 * - routes of the datasource's plugin.json are tried in order; a route matches when its `method` is empty, `*` or
 *   the request's, and the proxied path starts with its `path` (a plain prefix, as strings.HasPrefix); the first
 *   match wins, and if its `reqRole` is above the user's role the answer is 403 "plugin proxy route access denied"
 *   (validateRequest);
 * - a matched route's `url` replaces the prefix (ApplyRoute: url path + the rest after the route path) and its
 *   headers are added, `{{ .JsonData.x }}` / `{{ .SecureJsonData.x }}` filled from the datasource settings;
 * - a request that matches no route goes to the datasource's own URL without the route's headers (the provisioned
 *   Scorpio datasource has none, so the stand-in answers 502 as the proxy fails to reach it);
 * - a backend 401 becomes a 400 whose body is the text "Authentication to data source failed" (modifyResponse).
 * Not modelled: Grafana's own login, the allow-list, cookies, OAuth pass-through.
 */

export type OrgRole = 'Viewer' | 'Editor' | 'Admin';

export interface PluginRoute {
  path: string;
  method?: string;
  url?: string;
  reqRole?: OrgRole;
  headers?: Array<{ name: string; content: string }>;
}

export interface ProxiedDatasource {
  uid: string;
  /** The datasource's own URL field (the Scorpio datasource keeps its backend URL in jsonData.url instead). */
  url?: string;
  jsonData: Record<string, unknown>;
  secureJsonData: Record<string, string>;
}

export interface DataProxyConfig {
  routes: PluginRoute[];
  datasources: ProxiedDatasource[];
  /** The signed-in user's organisation role (compose's anonymous user is an Editor). */
  role: OrgRole;
}

export type ProxyDecision =
  | { kind: 'forward'; url: string; headers: Record<string, string>; route?: PluginRoute; datasourceUid: string }
  | { kind: 'reply'; status: number; contentType: string; body: string };

const PREFIX = /^\/api\/datasources\/proxy\/uid\/([^/]+)\/?(.*)$/;
const RANK: Record<OrgRole, number> = { Viewer: 1, Editor: 2, Admin: 3 };

/** Grafana's route templates ({{ .JsonData.x }}, {{ .SecureJsonData.x }}). */
function fill(template: string, ds: ProxiedDatasource): string {
  return template.replace(/\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g, (_all, where: string, key: string) =>
    String((where === 'JsonData' ? ds.jsonData[key] : ds.secureJsonData[key]) ?? '')
  );
}

function json(status: number, body: unknown): ProxyDecision {
  return { kind: 'reply', status, contentType: 'application/json', body: JSON.stringify(body) };
}

/** Joins URL fragments with one slash between them (Grafana's util.JoinURLFragments). */
function join(base: string, rest: string): string {
  if (!rest) {
    return base;
  }
  return `${base.replace(/\/+$/, '')}/${rest.replace(/^\/+/, '')}`;
}

/** What Grafana's data proxy does with `method url` (url = `/api/datasources/proxy/uid/...`, query included). */
export function proxyDecision(config: DataProxyConfig, method: string, url: string): ProxyDecision {
  const [pathname, search = ''] = url.split(/\?(.*)/s, 2);
  const m = PREFIX.exec(pathname);
  if (!m) {
    return json(404, { message: 'Not found' });
  }
  const ds = config.datasources.find((d) => d.uid === decodeURIComponent(m[1]));
  if (!ds) {
    return json(404, { message: 'Unable to find datasource' });
  }
  const proxyPath = m[2];
  const query = search ? `?${search}` : '';
  const verb = method.toUpperCase();
  const route = config.routes.find((r) => (!r.method || r.method === '*' || r.method.toUpperCase() === verb) && proxyPath.startsWith(r.path));
  if (route) {
    if (route.reqRole && RANK[config.role] < RANK[route.reqRole]) {
      return json(403, { message: 'plugin proxy route access denied' });
    }
    const headers: Record<string, string> = {};
    for (const h of route.headers ?? []) {
      headers[h.name.toLowerCase()] = fill(h.content, ds);
    }
    const base = route.url ? fill(route.url, ds) : (ds.url ?? '');
    return { kind: 'forward', url: join(base, proxyPath.slice(route.path.length)) + query, headers, route, datasourceUid: ds.uid };
  }
  if (!ds.url) {
    return json(502, { message: 'Bad Gateway: the datasource has no URL and no plugin route matches' });
  }
  return { kind: 'forward', url: join(ds.url, proxyPath) + query, headers: {}, datasourceUid: ds.uid };
}

/** The answer Grafana's data proxy passes back for a backend answer (a 401 becomes a 400 with Grafana's text). */
export function proxiedResponse(status: number, contentType: string | undefined, body: string): { status: number; contentType?: string; body: string } {
  if (status === 401) {
    return { status: 400, body: AUTH_FAILED };
  }
  return { status, contentType, body };
}

/** The body of the 400 that replaces a backend's 401 (ds_proxy.go). */
export const AUTH_FAILED = 'Authentication to data source failed';
