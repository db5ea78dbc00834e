/**
 * A stand-in for Grafana's data proxy (`/api/datasources/proxy/uid/<uid>/<path>`), for the jsdom tests
 * (src/testing/wireBackend.ts), the browser test (tests/browser/host-server.ts) and tests/manifest.test.ts. It
 * decides what Grafana 12's server does with one request, checked against grafana/grafana:
 * - pkg/services/datasourceproxy/datasourceproxy.go: a uid outside [a-zA-Z0-9_-]{0,40} is 400 "UID is invalid", an
 *   unknown one 404 "Unable to find datasource"; the proxied path is the rest of the ESCAPED path;
 * - pkg/api/pluginproxy/ds_proxy.go validateRequest: routes of the datasource's plugin.json are tried in order; a
 *   route matches when its `method` is empty, `*` or the request's and the proxied path, cleaned
 *   (util.CleanRelativePath: `..`, `.` and repeated slashes resolved), starts with its cleaned `path` (a plain string
 *   prefix); the first match wins, and below its `reqRole` the answer is 403 "plugin proxy route access denied";
 * - pkg/api/pluginproxy/utils.go ApplyRoute: the route's `url` (a Go text/template over JsonData and SecureJsonData:
 *   a missing key prints "<no value>") replaces the raw route prefix (strings.TrimPrefix, util.JoinURLFragments), the
 *   query is re-encoded as url.Values.Encode does (keys sorted, space as +), the route's headers are Set;
 * - a request that matches no route goes to the datasource's own URL (the Scorpio datasource has none: Go's
 *   transport fails on the empty host) without the route's headers, and so does a route url that is no absolute
 *   URL: pkg/util/proxyutil/reverse_proxy.go errorHandler answers a failed upstream 502 and a timed-out one 504
 *   (dataproxy.timeout, 30 s for the response headers), both with an EMPTY body;
 * - request headers (ds_proxy.go director, proxyutil.PrepareProxyRequest, ClearCookieHeader, Go's ReverseProxy):
 *   hop-by-hop headers, Cookie, Origin, Referer and X-Forwarded-Host/Port/Proto removed, X-Grafana-Referer set from
 *   Referer, X-Forwarded-For appended, User-Agent "Grafana/<version>", X-DS-Authorization becomes Authorization;
 * - response headers (reverse_proxy.go modifyResponse): Set-Cookie removed, Content-Security-Policy: sandbox added;
 *   a backend 401 becomes a 400 whose body is the text "Authentication to data source failed", the backend's
 *   headers dropped (ds_proxy.go modifyResponse).
 * Not modelled: Grafana's own login, the allow-list, keepCookies, OAuth pass-through, team headers, TLS.
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
  | { kind: 'reply'; status: number; contentType?: string; body: string };

export type Headers = Record<string, string | string[] | undefined>;

/** How long Grafana's data proxy waits for the response headers (dataproxy.timeout, conf/defaults.ini). */
export const DATA_PROXY_TIMEOUT_MS = 30_000;

/** The Grafana version the stand-in claims (provisioning/ and docker-compose.yaml target 12.4). */
export const GRAFANA_VERSION = '12.4.0';

const PREFIX = /^\/api\/datasources\/proxy\/uid\/([^/]*)\/?(.*)$/;
const VALID_UID = /^[a-zA-Z0-9\-_]{0,40}$/;
const RANK: Record<OrgRole, number> = { Viewer: 1, Editor: 2, Admin: 3 };

/** Grafana's route templates ({{ .JsonData.x }}, {{ .SecureJsonData.x }}); Go prints a missing key as "<no value>". */
function fill(template: string, ds: ProxiedDatasource): string {
  return template.replace(/\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g, (_all, where: string, key: string) => {
    const from: Record<string, unknown> = where === 'JsonData' ? ds.jsonData : ds.secureJsonData;
    return Object.prototype.hasOwnProperty.call(from, key) ? String(from[key]) : '<no value>';
  });
}

function json(status: number, body: unknown): ProxyDecision {
  return { kind: 'reply', status, contentType: 'application/json', body: JSON.stringify(body) };
}

/** What reverse_proxy.go errorHandler answers when the upstream cannot be reached: a bare status, no body. */
export function upstreamFailure(timedOut: boolean): { status: number; body: string } {
  return { status: timedOut ? 504 : 502, body: '' };
}

/** util.JoinURLFragments: one slash between a and b, b alone decides nothing when empty. */
function join(a: string, b: string): string {
  if (!b) {
    return a;
  }
  const aSlash = a.endsWith('/');
  const bSlash = b.startsWith('/');
  return aSlash && bSlash ? a + b.slice(1) : !aSlash && !bSlash ? `${a}/${b}` : a + b;
}

/** util.CleanRelativePath: filepath.Clean("/" + p) made relative ("." for the root). */
export function cleanRelativePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '..') {
      out.pop();
    } else if (part && part !== '.') {
      out.push(part);
    }
  }
  return out.length ? out.join('/') : '.';
}

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

/** req.URL.Query() then url.Values.Encode(): pairs that fail to unescape (or hold ';') dropped, keys sorted. */
export function reencodeQuery(rawQuery: string): string {
  const values = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (!pair || pair.includes(';')) {
      continue;
    }
    const eq = pair.indexOf('=');
    try {
      const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      const key = unescape(eq < 0 ? pair : pair.slice(0, eq));
      values.set(key, [...(values.get(key) ?? []), eq < 0 ? '' : unescape(pair.slice(eq + 1))]);
    } catch {
      // url.ParseQuery skips a pair it cannot unescape
    }
  }
  return [...values.keys()]
    .sort()
    .flatMap((k) => values.get(k)!.map((v) => `${queryEscape(k)}=${queryEscape(v)}`))
    .join('&');
}

/** What Grafana's data proxy does with `method url` (url = `/api/datasources/proxy/uid/...`, query included). */
export function proxyDecision(config: DataProxyConfig, method: string, url: string): ProxyDecision {
  const [pathname, search = ''] = url.split(/\?(.*)/s, 2);
  const m = PREFIX.exec(pathname);
  if (!m) {
    return json(404, { message: 'Not found' });
  }
  if (!VALID_UID.test(m[1])) {
    return json(400, { message: 'UID is invalid' });
  }
  const ds = config.datasources.find((d) => d.uid === m[1]);
  if (!ds) {
    return json(404, { message: 'Unable to find datasource' });
  }
  const proxyPath = m[2];
  const verb = method.toUpperCase();
  const cleaned = cleanRelativePath(proxyPath);
  const route = config.routes.find((r) => (!r.method || r.method === '*' || r.method === verb) && cleaned.startsWith(cleanRelativePath(r.path)));
  if (route && route.reqRole && RANK[config.role] < RANK[route.reqRole]) {
    return json(403, { message: 'plugin proxy route access denied' });
  }
  const base = route?.url ? fill(route.url, ds) : (ds.url ?? '');
  // Go's transport refuses a URL without scheme and host (an empty datasource URL, "<no value>/api/...").
  if (!/^https?:\/\/[^/]/.test(base)) {
    return { kind: 'reply', ...upstreamFailure(false) };
  }
  const headers: Record<string, string> = {};
  for (const h of route?.headers ?? []) {
    headers[h.name.toLowerCase()] = fill(h.content, ds);
  }
  const rest = route ? (proxyPath.startsWith(route.path) ? proxyPath.slice(route.path.length) : proxyPath) : proxyPath;
  // ApplyRoute re-encodes the query (addQueryString); without a route Go passes the raw query on.
  const query = route ? reencodeQuery(search) : search;
  return { kind: 'forward', url: join(base, rest) + (query ? `?${query}` : ''), headers, route, datasourceUid: ds.uid };
}

/** Go's ReverseProxy removes these (RFC 7230 hop-by-hop), and those the Connection header names. */
const HOP_BY_HOP = ['connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

function withoutHopByHop(headers: Headers): Record<string, string | string[]> {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (value !== undefined && !HOP_BY_HOP.includes(key) && !named.includes(key)) {
      out[key] = value;
    }
  }
  return out;
}

/** The headers the backend receives for a browser request with `incoming` headers from `remoteAddr`. */
export function forwardedHeaders(incoming: Headers, decision: Extract<ProxyDecision, { kind: 'forward' }>, remoteAddr: string): Record<string, string | string[]> {
  const out = withoutHopByHop(incoming);
  const referer = typeof out.referer === 'string' ? out.referer : '';
  const dsAuth = out['x-ds-authorization'];
  for (const name of ['cookie', 'origin', 'referer', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-grafana-user', 'x-ds-authorization', 'host']) {
    delete out[name];
  }
  if (typeof dsAuth === 'string' && dsAuth) {
    out.authorization = dsAuth;
  }
  out['user-agent'] = `Grafana/${GRAFANA_VERSION}`;
  out['x-grafana-referer'] = referer;
  const prior = typeof out['x-forwarded-for'] === 'string' ? out['x-forwarded-for'] : '';
  out['x-forwarded-for'] = prior ? `${prior}, ${remoteAddr}` : remoteAddr;
  return { ...out, ...decision.headers };
}

/** The answer Grafana's data proxy passes back for a backend answer. */
export function proxiedResponse(status: number, headers: Headers, body: string): { status: number; headers: Record<string, string | string[]>; body: string } {
  if (status === 401) {
    // The backend's headers and body are dropped; Go's server sniffs the text's content type.
    return { status: 400, headers: { 'content-security-policy': 'sandbox', 'content-type': 'text/plain; charset=utf-8' }, body: AUTH_FAILED };
  }
  const out = withoutHopByHop(headers);
  delete out['set-cookie'];
  delete out['content-length'];
  out['content-security-policy'] = 'sandbox';
  return { status, headers: out, body };
}

/** The body of the 400 that replaces a backend's 401 (ds_proxy.go). */
export const AUTH_FAILED = 'Authentication to data source failed';
