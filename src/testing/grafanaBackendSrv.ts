/**
 * What Grafana's frontend BackendSrv hands a plugin for an HTTP answer, for the stand-in BackendSrvs of the jsdom
 * tests (./wireBackend.ts) and the browser test (tests/browser/host.tsx). Checked against grafana/grafana:
 * - public/app/core/utils/fetch.ts parseResponseBody: the body text parsed as JSON when it parses, else the text
 *   itself (an empty body is the empty string, not undefined);
 * - public/app/core/services/backend_srv.ts processRequestError, applied to every failed fetch(): a text body
 *   becomes `{message: text, error: statusText, response: text}`, a missing one `{message: 'Unexpected error'}`,
 *   and a body with a string `error` but no `message` gets `message = error`. So a plugin never sees Grafana's
 *   text answers (the data proxy's "Authentication to data source failed") as a string.
 * Over HTTP/2 (Grafana behind TLS) statusText is the empty string.
 */

/** parseResponseBody without a responseType: JSON when it parses, the text otherwise. */
export function grafanaResponseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** processRequestError's reshaping of a failed answer's data. */
export function grafanaErrorData(data: unknown, statusText: string): unknown {
  let shaped: unknown = data ?? { message: 'Unexpected error' };
  if (typeof shaped === 'string') {
    shaped = { message: shaped, error: statusText, response: shaped };
  }
  if (typeof shaped === 'object' && shaped !== null) {
    const body = shaped as { message?: unknown; error?: unknown };
    if (!body.message && typeof body.error === 'string') {
      body.message = body.error;
    }
  }
  return shaped;
}
