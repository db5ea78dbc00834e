/**
 * Access with LAD_API_TOKEN set, against the built service (child process): every endpoint without the token,
 * with a wrong one and with the right one. Only /api/health answers without it, and then with liveness only.
 * Also: the secure default (beyond loopback without a token refuses to start) and metricsPublic.
 */
import { spawn } from 'node:child_process';
import { BUILT_MAIN, startBuiltServer, type BuiltServer } from '../backend/testing/built-server';
import { removeDir, tempDir } from './service-helpers';

const TOKEN = 'access-test-token-9d2e71';

interface Endpoint {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: string;
  type?: string;
  /** Status with the right token (what the endpoint does once past the check). */
  ok: number;
}

const now = Date.now();
const ENDPOINTS: Endpoint[] = [
  { method: 'GET', path: '/api/sources', ok: 200 },
  { method: 'POST', path: '/api/query', body: JSON.stringify({ range: { from: now - 60_000, to: now }, targets: [] }), type: 'application/json', ok: 200 },
  { method: 'GET', path: '/api/anomalies/no-such-id/context', ok: 404 },
  { method: 'GET', path: '/api/feedback', ok: 200 },
  { method: 'POST', path: '/api/feedback', body: JSON.stringify({ message: 'm', kind: 'confirmed' }), type: 'application/json', ok: 201 },
  { method: 'DELETE', path: '/api/feedback/no-such-id', ok: 404 },
  { method: 'POST', path: '/api/push?source=web', body: 'a line', type: 'text/plain', ok: 204 },
  { method: 'POST', path: '/loki/api/v1/push', body: JSON.stringify({ streams: [{ stream: { job: 'web' }, values: [[`${now}000000`, 'x']] }] }), type: 'application/json', ok: 204 },
  { method: 'GET', path: '/metrics', ok: 200 },
  { method: 'GET', path: '/no/such/route', ok: 404 },
  // Variants express would route to an open path: the exemption is exact, so these want the token.
  { method: 'GET', path: '/METRICS', ok: 200 },
  { method: 'GET', path: '/api/health/', ok: 200 },
];

async function call(url: string, e: Endpoint, authorization?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (e.type) headers['content-type'] = e.type;
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(`${url}${e.path}`, { method: e.method, headers, body: e.body });
  return { status: res.status, text: await res.text() };
}

describe('with LAD_API_TOKEN set (built service)', () => {
  let dir: string;
  let server: BuiltServer;
  beforeAll(async () => {
    dir = tempDir('lad-access-');
    server = await startBuiltServer({ env: { LAD_DATA_DIR: dir, LAD_DEMO: 'false', LAD_API_TOKEN: TOKEN, LAD_LOG_LEVEL: 'debug' }, keepOutputChars: 10_000_000 });
  });
  afterAll(async () => {
    await server.stop();
    removeDir(dir);
  });

  test.each(ENDPOINTS)('$method $path: 401 without the token, 401 with a wrong one, $ok with the right one', async (e) => {
    const none = await call(server.url, e);
    expect({ status: none.status, body: JSON.parse(none.text) }).toEqual({ status: 401, body: { error: expect.stringMatching(/Authorization: Bearer/), field: 'authorization' } });
    for (const wrong of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer ', TOKEN, `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`]) {
      const res = await call(server.url, e, wrong);
      expect({ wrong, status: res.status }).toEqual({ wrong, status: 401 });
      expect(res.text).not.toContain(TOKEN);
    }
    const right = await call(server.url, e, `Bearer ${TOKEN}`);
    expect({ status: right.status, text: right.text.slice(0, 200) }).toEqual({ status: e.ok, text: expect.any(String) });
    expect(right.text).not.toContain(TOKEN);
  });

  test('/api/health: liveness without the token, 401 with a wrong one, details with the right one', async () => {
    const live = await fetch(`${server.url}/api/health`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${server.url}/api/health`, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    const full = await fetch(`${server.url}/api/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(full.status).toBe(200);
    expect(Object.keys((await full.json()) as object)).toEqual(expect.arrayContaining(['version', 'sources', 'factStore']));
  });

  test('CORS stays off: no Access-Control-Allow-Origin, preflight not granted', async () => {
    const res = await fetch(`${server.url}/api/health`, { headers: { origin: 'http://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${server.url}/api/query`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('the token is nowhere in the log (debug level, every request above)', () => {
    expect(server.output()).toContain('"msg":"request"');
    expect(server.output()).not.toContain(TOKEN);
  });
});

describe('metricsPublic', () => {
  test('LAD_METRICS_PUBLIC=true opens /metrics alone', async () => {
    const dir = tempDir('lad-access-');
    const server = await startBuiltServer({ env: { LAD_DATA_DIR: dir, LAD_DEMO: 'false', LAD_API_TOKEN: TOKEN, LAD_METRICS_PUBLIC: 'true' } });
    try {
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('lad_lines_ingested_total');
      expect((await fetch(`${server.url}/api/sources`)).status).toBe(401);
    } finally {
      await server.stop();
      removeDir(dir);
    }
  });
});

describe('secure by default', () => {
  /** Runs the built server to its exit (or kills it once it listens) and returns the exit code and stderr. */
  async function runToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string; listened: boolean }> {
    const child = spawn(process.execPath, [BUILT_MAIN], { env: { ...process.env, LAD_PORT: '0', LAD_DEMO: 'false', ...env } });
    let stderr = '';
    let listened = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('"msg":"listening"')) {
        listened = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, stderr, listened };
  }

  test('beyond loopback without a token it refuses to start, saying how to set one or opt out', async () => {
    const dir = tempDir('lad-access-');
    try {
      const refused = await runToExit({ LAD_HOST: '0.0.0.0', LAD_DATA_DIR: dir });
      expect(refused.listened).toBe(false);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/LAD_API_TOKEN/);
      expect(refused.stderr).toMatch(/LAD_ALLOW_UNAUTHENTICATED=true/);
      const optedOut = await runToExit({ LAD_HOST: '0.0.0.0', LAD_DATA_DIR: dir, LAD_ALLOW_UNAUTHENTICATED: 'true' });
      expect(optedOut.listened).toBe(true);
      const withToken = await runToExit({ LAD_HOST: '0.0.0.0', LAD_DATA_DIR: dir, LAD_API_TOKEN: TOKEN });
      expect(withToken.listened).toBe(true);
      const loopback = await runToExit({ LAD_HOST: '127.0.0.1', LAD_DATA_DIR: dir });
      expect(loopback.listened).toBe(true);
    } finally {
      removeDir(dir);
    }
  });
});
