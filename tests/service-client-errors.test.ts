/**
 * Client mistakes get a 4xx JSON error naming the field, and nothing is logged as a server failure (no stack),
 * against the built service. Before: a body that is not what its Content-Encoding says on /api/query or
 * /api/feedback, and `%ff` in a context id, got 500 with a stack trace in the log.
 */
import { startBuiltServer, type BuiltServer } from '../backend/testing/built-server';
import { removeDir, tempDir } from './service-helpers';

interface Mistake {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  field: string;
}

const json = { 'content-type': 'application/json' };
const MISTAKES: Mistake[] = [];
for (const path of ['/api/query', '/api/feedback', '/api/push?source=web', '/loki/api/v1/push']) {
  for (const encoding of ['gzip', 'deflate', 'br']) {
    MISTAKES.push({ name: `${path}: plain JSON labelled ${encoding}`, method: 'POST', path, headers: { ...json, 'content-encoding': encoding }, body: '{"a":1}', status: 400, field: 'body' });
  }
  MISTAKES.push({ name: `${path}: unknown Content-Encoding`, method: 'POST', path, headers: { ...json, 'content-encoding': 'zstd' }, body: '{}', status: 415, field: 'body' });
}
MISTAKES.push(
  { name: 'context id %ff', method: 'GET', path: '/api/anomalies/%ff/context', status: 400, field: 'id' },
  { name: 'context id %E0%A4%A', method: 'GET', path: '/api/anomalies/%E0%A4%A/context', status: 400, field: 'id' },
  { name: 'feedback id %ff', method: 'DELETE', path: '/api/feedback/%ff', status: 400, field: 'id' },
  { name: 'context before=%ff', method: 'GET', path: '/api/anomalies/x/context?before=%ff', status: 400, field: 'before' },
  { name: 'query body is an array', method: 'POST', path: '/api/query', headers: json, body: '[]', status: 400, field: 'body' },
  { name: 'query body is malformed JSON', method: 'POST', path: '/api/query', headers: json, body: '{"targets":', status: 400, field: 'body' },
  { name: 'feedback body is not UTF-8', method: 'POST', path: '/api/feedback', headers: json, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), status: 400, field: 'body' }
);

describe('client mistakes are 4xx naming the field (built service)', () => {
  let dir: string;
  let server: BuiltServer;
  beforeAll(async () => {
    dir = tempDir('lad-client-errors-');
    server = await startBuiltServer({ env: { LAD_DATA_DIR: dir, LAD_DEMO: 'false' }, keepOutputChars: 10_000_000 });
  });
  afterAll(async () => {
    await server.stop();
    removeDir(dir);
  });

  test.each(MISTAKES)('$name → $status, field $field', async (m) => {
    const res = await fetch(`${server.url}${m.path}`, { method: m.method, headers: m.headers, body: m.body });
    const text = await res.text();
    let body: unknown;
    expect(() => (body = JSON.parse(text))).not.toThrow();
    expect({ status: res.status, body }).toEqual({ status: m.status, body: expect.objectContaining({ error: expect.any(String), field: m.field }) });
  });

  test('none of them was logged as a server failure (no error-level line, no stack)', () => {
    const out = server.output();
    expect(out).not.toContain('"level":50');
    expect(out).not.toContain('request failed');
    expect(out).not.toMatch(/\n\s+at /);
  });
});

describe('a batch larger than the queue can ever hold (built service, queue.maxLines 100)', () => {
  let dir: string;
  let server: BuiltServer;
  beforeAll(async () => {
    dir = tempDir('lad-batch-');
    server = await startBuiltServer({ env: { LAD_DATA_DIR: dir, LAD_DEMO: 'false', LAD_QUEUE_MAX_LINES: '100' } });
  });
  afterAll(async () => {
    await server.stop();
    removeDir(dir);
  });

  const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`);
  const lokiBody = (streams: Record<string, number>) =>
    JSON.stringify({ streams: Object.entries(streams).map(([job, n]) => ({ stream: { job }, values: lines(n).map((l, i) => [`${Date.now() * 1e6 + i}`, l]) })) });

  test('/api/push: 101 lines → 413 naming the limit (was 429 Retry-After forever), every retry too; 100 → 204', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await fetch(`${server.url}/api/push?source=big`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines(101).join('\n') });
      expect(res.status).toBe(413);
      expect(res.headers.get('retry-after')).toBeNull();
      const body = (await res.json()) as { error: string; field: string };
      expect(body.field).toBe('body');
      expect(body.error).toMatch(/more than 100 lines for source big.*queue\.maxLines/);
    }
    const fits = await fetch(`${server.url}/api/push?source=fits`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines(100).join('\n') });
    expect(fits.status).toBe(204);
  });

  test('/loki/api/v1/push: the bound is per source (101 for one → 413; 60 + 60 for two → 204)', async () => {
    const big = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: lokiBody({ lokibig: 101 }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toMatch(/more than 100 lines for source lokibig/);
    const split = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: lokiBody({ a: 60, b: 60 }) });
    expect(split.status).toBe(204);
  });
});
