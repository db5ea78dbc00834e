import {
  AUTH_FAILED,
  cleanRelativePath,
  forwardedHeaders,
  proxiedResponse,
  proxyDecision,
  reencodeQuery,
  type DataProxyConfig,
  type PluginRoute,
} from './grafanaDataProxy';
import { isTokenRejection, PROXY_AUTH_FAILED } from '../shared/api';

// The stand-in must behave as Grafana's data proxy (pkg/api/pluginproxy/ds_proxy.go), or the tests built on it
// pass against a Grafana that does not exist.

const routes: PluginRoute[] = [
  { path: 'lad/api/feedback', method: 'POST', reqRole: 'Editor', url: '{{ .JsonData.url }}/api/feedback', headers: [{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }] },
  { path: 'lad', method: 'GET', url: '{{ .JsonData.url }}', headers: [{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }] },
];
const config = (role: DataProxyConfig['role']): DataProxyConfig => ({
  routes,
  role,
  datasources: [{ uid: 'lad', jsonData: { url: 'http://backend:8080' }, secureJsonData: { token: 's3cret' } }],
});

describe('stand-in for Grafana\'s data proxy', () => {
  it('forwards a matched route to its URL plus the rest of the path, with its headers filled from the settings', () => {
    expect(proxyDecision(config('Viewer'), 'GET', '/api/datasources/proxy/uid/lad/lad/api/anomalies/a1/context?before=5')).toEqual({
      kind: 'forward',
      url: 'http://backend:8080/api/anomalies/a1/context?before=5',
      headers: { authorization: 'Bearer s3cret' },
      route: routes[1],
      datasourceUid: 'lad',
    });
    const post = proxyDecision(config('Editor'), 'POST', '/api/datasources/proxy/uid/lad/lad/api/feedback');
    expect(post).toMatchObject({ kind: 'forward', url: 'http://backend:8080/api/feedback' });
  });

  it('takes the first route whose method and path prefix match, and refuses it below its reqRole', () => {
    expect(proxyDecision(config('Viewer'), 'POST', '/api/datasources/proxy/uid/lad/lad/api/feedback')).toEqual({
      kind: 'reply',
      status: 403,
      contentType: 'application/json',
      body: JSON.stringify({ message: 'plugin proxy route access denied' }),
    });
    // No route for this method: Grafana goes to the datasource's own URL, which the Scorpio datasource does not have.
    expect(proxyDecision(config('Admin'), 'DELETE', '/api/datasources/proxy/uid/lad/lad/api/feedback/x')).toMatchObject({ kind: 'reply', status: 502 });
    expect(proxyDecision(config('Admin'), 'GET', '/api/datasources/proxy/uid/nope/lad/api/health')).toMatchObject({ kind: 'reply', status: 404 });
  });

  it('turns a backend 401 into a 400 with Grafana\'s text and none of the backend\'s headers', () => {
    const answer = proxiedResponse(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }, '{"error":"invalid bearer token"}');
    expect(answer).toEqual({ status: 400, headers: { 'content-security-policy': 'sandbox', 'content-type': 'text/plain; charset=utf-8' }, body: 'Authentication to data source failed' });
    expect(AUTH_FAILED).toBe(PROXY_AUTH_FAILED);
    expect(isTokenRejection(answer.status, answer.body)).toBe(true);
    expect(isTokenRejection(400, { error: 'bad limit', field: 'limit' })).toBe(false);
  });

  it('passes other answers with their headers, minus Set-Cookie and hop-by-hop ones, plus CSP sandbox (reverse_proxy.go)', () => {
    const answer = proxiedResponse(429, { 'content-type': 'application/json', 'retry-after': '2', 'set-cookie': ['a=1'], connection: 'keep-alive', 'keep-alive': 'timeout=5' }, '{}');
    expect(answer).toEqual({ status: 429, headers: { 'content-type': 'application/json', 'retry-after': '2', 'content-security-policy': 'sandbox' }, body: '{}' });
  });

  it('answers an empty 502 for a datasource URL Go cannot dial, a missing jsonData.url included ("<no value>")', () => {
    const noUrl: DataProxyConfig = { ...config('Admin'), datasources: [{ uid: 'lad', jsonData: {}, secureJsonData: {} }] };
    expect(proxyDecision(noUrl, 'GET', '/api/datasources/proxy/uid/lad/lad/api/health')).toEqual({ kind: 'reply', status: 502, body: '' });
    expect(proxyDecision(config('Admin'), 'DELETE', '/api/datasources/proxy/uid/lad/lad/api/feedback/x')).toEqual({ kind: 'reply', status: 502, body: '' });
  });

  it('fills a missing secure value with Go\'s "<no value>", not an empty string', () => {
    const noToken: DataProxyConfig = { ...config('Viewer'), datasources: [{ uid: 'lad', jsonData: { url: 'http://b:1' }, secureJsonData: {} }] };
    expect(proxyDecision(noToken, 'GET', '/api/datasources/proxy/uid/lad/lad/api/health')).toMatchObject({ headers: { authorization: 'Bearer <no value>' } });
  });

  it('matches routes on the cleaned path and refuses an invalid uid (util.CleanRelativePath, datasourceproxy.go)', () => {
    expect(cleanRelativePath('lad//api/./x/../feedback/')).toBe('lad/api/feedback');
    expect(cleanRelativePath('')).toBe('.');
    // A read route's prefix cannot be walked out of into the feedback route.
    expect(proxyDecision(config('Viewer'), 'POST', '/api/datasources/proxy/uid/lad/lad/api/x/../feedback')).toMatchObject({ status: 403 });
    expect(proxyDecision(config('Viewer'), 'GET', '/api/datasources/proxy/uid/l%20ad/lad/api/health')).toMatchObject({ status: 400, body: JSON.stringify({ message: 'UID is invalid' }) });
  });

  it('re-encodes a routed request\'s query as url.Values.Encode does: keys sorted, space as +', () => {
    expect(reencodeQuery('before=5&after=3&q=a%20b&q=c+d&bad=%zz&x;y=1')).toBe('after=3&before=5&q=a+b&q=c+d');
    expect(proxyDecision(config('Viewer'), 'GET', '/api/datasources/proxy/uid/lad/lad/api/review?source=web&limit=20')).toMatchObject({
      url: 'http://backend:8080/api/review?limit=20&source=web',
    });
  });

  it('forwards the browser\'s headers as Grafana does: no cookies, origin or referer, its own user agent', () => {
    const decision = proxyDecision(config('Editor'), 'POST', '/api/datasources/proxy/uid/lad/lad/api/feedback');
    if (decision.kind !== 'forward') {
      throw new Error('expected a forward');
    }
    const headers = forwardedHeaders(
      {
        accept: 'application/json',
        'content-type': 'application/json',
        cookie: 'grafana_session=abc',
        origin: 'http://grafana',
        referer: 'http://grafana/d/x',
        authorization: 'Basic browser',
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '10.0.0.1',
        connection: 'keep-alive, x-trace',
        'x-trace': '1',
        'x-grafana-org-id': '1',
      },
      decision,
      '127.0.0.1'
    );
    expect(headers).toEqual({
      accept: 'application/json',
      'content-type': 'application/json',
      authorization: 'Bearer s3cret',
      'x-forwarded-for': '10.0.0.1, 127.0.0.1',
      'x-grafana-org-id': '1',
      'x-grafana-referer': 'http://grafana/d/x',
      'user-agent': 'Grafana/12.4.0',
    });
  });
});
