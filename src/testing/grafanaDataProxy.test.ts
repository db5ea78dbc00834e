import { AUTH_FAILED, proxiedResponse, proxyDecision, type DataProxyConfig, type PluginRoute } from './grafanaDataProxy';
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

  it('turns a backend 401 into a 400 with Grafana\'s text, which the plugin reads as a refused token', () => {
    const answer = proxiedResponse(401, 'application/json', '{"error":"invalid bearer token"}');
    expect(answer).toEqual({ status: 400, body: 'Authentication to data source failed' });
    expect(AUTH_FAILED).toBe(PROXY_AUTH_FAILED);
    expect(isTokenRejection(answer.status, answer.body)).toBe(true);
    expect(proxiedResponse(404, 'application/json', '{}')).toEqual({ status: 404, contentType: 'application/json', body: '{}' });
    expect(isTokenRejection(400, { error: 'bad limit', field: 'limit' })).toBe(false);
  });
});
