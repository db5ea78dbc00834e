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
