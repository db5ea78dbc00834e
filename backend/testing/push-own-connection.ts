/**
 * POST /api/push?source= on a connection of its own (no keep-alive pool), for tests that flood a built service:
 * with fetch's pool a request could go out on a connection the busy service was closing (2 runs in about 20 of
 * tests/service-memory-budget.test.ts failed with "fetch failed" while the service was alive). A connection
 * refused or reset is an answer too: status 0 with the error, so the caller decides whether that fails the test.
 */
import { request } from 'node:http';

export interface PushAnswer {
  status: number;
  retryAfter: string | undefined;
  text: string;
  /** Why there was no answer (status 0). */
  error?: string;
}

export function pushOnOwnConnection(url: string, source: string, body: string | Buffer): Promise<PushAnswer> {
  return new Promise((resolve) => {
    const req = request(`${url}/api/push?source=${source}`, { method: 'POST', agent: false, headers: { 'content-type': 'text/plain' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], text }));
      res.on('error', (err) => resolve({ status: 0, retryAfter: undefined, text: '', error: err.message }));
    });
    // EPIPE after an early answer still gets the answer ('response' came first, resolving before this); anything
    // else is no answer
    req.on('error', (err) => setTimeout(() => resolve({ status: 0, retryAfter: undefined, text: '', error: err.message }), 200));
    req.end(body);
  });
}
