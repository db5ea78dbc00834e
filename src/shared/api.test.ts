import { isTokenRejection, readableError, PROXY_AUTH_FAILED } from './api';
import { grafanaErrorData, grafanaResponseData } from '../testing/grafanaBackendSrv';

// A failed request as the plugin receives it from Grafana's BackendSrv: the body parsed (parseResponseBody), then
// reshaped by processRequestError (grafana/grafana public/app/core/services/backend_srv.ts).
const failed = (status: number, statusText: string, body: string) => ({
  status,
  statusText,
  data: grafanaErrorData(grafanaResponseData(body), statusText),
  config: { url: '/api/datasources/proxy/uid/scorpio-lad/lad/api/health' },
});

describe('errors as Grafana\'s BackendSrv hands them to the plugin', () => {
  it('the data proxy\'s 400 for a refused token reads as a refused token, over HTTP/1.1 and HTTP/2', () => {
    // Grafana turns the text body into {message, error: statusText, response}: never a string.
    const h1 = failed(400, 'Bad Request', PROXY_AUTH_FAILED);
    expect(h1.data).toEqual({ message: PROXY_AUTH_FAILED, error: 'Bad Request', response: PROXY_AUTH_FAILED });
    expect(isTokenRejection(h1.status, h1.data)).toBe(true);
    const err = readableError(h1, 'Health check');
    expect(err.message).toBe('Health check failed: HTTP 400 Authentication to data source failed (check the API token in the datasource settings)');
    expect(err.tokenRejected).toBe(true);
    // HTTP/2 has no reason phrase: statusText is empty.
    const h2 = readableError(failed(400, '', PROXY_AUTH_FAILED), 'Health check');
    expect(h2.message).toContain('HTTP 400 Authentication to data source failed (check the API token');
  });

  it('an ordinary 400 of the backend is not a refused token and names its field', () => {
    const err = readableError(failed(400, 'Bad Request', JSON.stringify({ error: 'limit must be positive', field: 'limit' })), 'Query');
    expect(err).toMatchObject({ message: 'Query failed: HTTP 400 limit must be positive [field limit]', tokenRejected: false, field: 'limit' });
    expect(isTokenRejection(400, grafanaErrorData('some other text', 'Bad Request'))).toBe(false);
  });

  it('the data proxy\'s empty 502 (backend down) reads as Bad Gateway with the hint', () => {
    const err = readableError(failed(502, 'Bad Gateway', ''), 'Health check');
    expect(err.message).toBe('Health check failed: HTTP 502 Bad Gateway (is the Scorpio backend running and its URL right in the datasource settings?)');
  });

  it('the data proxy\'s empty 504 (no answer within dataproxy.timeout) says Grafana stopped waiting, not that the backend is down', () => {
    const err = readableError(failed(504, 'Gateway Timeout', ''), 'Query');
    expect(err.message).toMatch(/^Query failed: HTTP 504 Gateway Timeout \(Grafana's data proxy stopped waiting for the backend: \[dataproxy\] timeout/);
    expect(err.message).not.toContain('is the Scorpio backend running');
  });

  it('Grafana\'s own JSON refusal (a route\'s reqRole) keeps its message and hint', () => {
    const err = readableError(failed(403, 'Forbidden', JSON.stringify({ message: 'plugin proxy route access denied' })), 'Sending feedback');
    expect(err.message).toBe('Sending feedback failed: HTTP 403 plugin proxy route access denied (your Grafana role may not do this: feedback needs Editor or Admin)');
  });
});
