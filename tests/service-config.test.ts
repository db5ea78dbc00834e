/**
 * Configuration (defaults, LAD_CONFIG file, env overrides, errors naming the key), the start-up contract of
 * the built server (child process: LAD_PORT=0 and a JSON "listening" log with the port), and the bearer token.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError as EngineConfigError, DEFAULT_CONFIG } from '../backend/engine/config';
import { ConfigError, loadConfig } from '../backend/server/config';
import type { Service } from '../backend/server/service';
import { BUILT_MAIN as MAIN, startBuiltServer } from '../backend/testing/built-server';
import { postJson, pushLines, removeDir, startTestService, tempDir, waitFor } from './service-helpers';
import { fetchHealth } from '../backend/testing/health';

jest.setTimeout(60_000);

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('lad-config-');
  });
  afterEach(() => removeDir(dir));

  test('defaults need nothing: port 8080, loopback, ./data, demo on, no token', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', dataDir: path.resolve('data'), demo: { enabled: true }, sources: [] });
    expect(c.apiToken).toBeUndefined();
    expect(c.training.windowLines).toBeGreaterThan(0);
  });

  test('a YAML file at LAD_CONFIG is read, and env overrides it', () => {
    const file = path.join(dir, 'lad.yaml');
    writeFileSync(file, 'port: 9000\nhost: 0.0.0.0\napiToken: file-token-123\ntraining:\n  windowLines: 500\nretention:\n  hours: 2\n');
    const c = loadConfig({ LAD_CONFIG: file, LAD_PORT: '9100', LAD_DATA_DIR: dir });
    expect(c.port).toBe(9100);
    expect(c.host).toBe('0.0.0.0');
    expect(c.dataDir).toBe(dir);
    expect(c.training.windowLines).toBe(500);
    expect(c.training.retrainIntervalSeconds).toBe(3600); // defaults fill the rest of a section
    expect(c.retention.hours).toBe(2);
  });

  test('a JSON file works too, with sources validated by their type', () => {
    const file = path.join(dir, 'lad.json');
    writeFileSync(file, JSON.stringify({ demo: { enabled: false }, sources: [{ type: 'demo', name: 'replay', linesPerSecond: 5 }] }));
    const c = loadConfig({ LAD_CONFIG: file });
    expect(c.demo.enabled).toBe(false);
    expect(c.sources).toEqual([expect.objectContaining({ type: 'demo', name: 'replay', linesPerSecond: 5 })]);
  });

  test('LAD_PORT=0 (ephemeral) is valid; an empty LAD_API_TOKEN means no token', () => {
    const c = loadConfig({ LAD_PORT: '0', LAD_API_TOKEN: '' });
    expect(c.port).toBe(0);
    expect(c.apiToken).toBeUndefined();
  });

  test("training.engine is the engine's own schema: defaults are the engine's DEFAULT_CONFIG, a partial section is completed", () => {
    // The defaults exist once: the service adds none of its own on top of the engine's.
    expect(loadConfig({}).training.engine).toEqual(DEFAULT_CONFIG);
    const file = path.join(dir, 'engine.yaml');
    writeFileSync(file, 'training:\n  engine:\n    detector: rarity\n    neural:\n      dim: 8\n');
    const engine = loadConfig({ LAD_CONFIG: file }).training.engine;
    expect(engine).toEqual({ ...DEFAULT_CONFIG, detector: 'rarity', neural: { ...DEFAULT_CONFIG.neural, dim: 8 } });
    // One ConfigError class for the service and the engine.
    expect(ConfigError).toBe(EngineConfigError);
  });

  test('errors name the key', () => {
    expect(configError({ LAD_PORT: 'eighty' }).message).toMatch(/LAD_PORT/);
    const range = configError({ LAD_PORT: '70000' });
    expect(range.key).toBe('port');
    expect(range.message).toMatch(/port \(from LAD_PORT\)/);
    expect(configError({ LAD_DEMO: 'perhaps' }).key).toBe('LAD_DEMO');
    expect(configError({ LAD_API_TOKEN: 'short' }).key).toBe('apiToken');

    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'training:\n  windowLines: many\n');
    expect(configError({ LAD_CONFIG: file }).key).toBe('training.windowLines');
    writeFileSync(file, 'training:\n  engine:\n    thresholdK: banana\n');
    expect(configError({ LAD_CONFIG: file }).key).toBe('training.engine.thresholdK');
    writeFileSync(file, 'training:\n  engine:\n    neural:\n      dim: 1\n');
    expect(configError({ LAD_CONFIG: file }).message).toMatch(/^invalid configuration: training\.engine\.neural\.dim: /);
    writeFileSync(file, 'training:\n  engine:\n    neural:\n      dims: 8\n');
    expect(configError({ LAD_CONFIG: file }).key).toBe('training.engine.neural.dims');
    writeFileSync(file, 'prot: 8080\n');
    expect(configError({ LAD_CONFIG: file }).key).toBe('prot');
    writeFileSync(file, 'training:\n  windowLine: 5\n');
    expect(configError({ LAD_CONFIG: file }).key).toBe('training.windowLine');
    writeFileSync(file, 'sources:\n  - type: nosuch\n    name: x\n');
    expect(configError({ LAD_CONFIG: file }).message).toMatch(/sources\.0.*unknown source type/);
    writeFileSync(file, 'sources:\n  - type: demo\n    name: a\n    linesPerSecond: fast\n');
    expect(configError({ LAD_CONFIG: file }).key).toBe('sources.0.linesPerSecond');
    writeFileSync(file, 'demo: {enabled: false}\nsources:\n  - {type: demo, name: a}\n  - {type: demo, name: a}\n');
    expect(configError({ LAD_CONFIG: file }).message).toMatch(/duplicate source name "a"/);
    writeFileSync(file, ': : :\n  - [');
    expect(configError({ LAD_CONFIG: file }).key).toBe('LAD_CONFIG');
    expect(configError({ LAD_CONFIG: path.join(dir, 'missing.yaml') }).message).toMatch(/cannot be read/);
  });
});

describe('LAD_API_TOKEN_FILE and the secure default', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('lad-token-file-');
  });
  afterEach(() => removeDir(dir));

  test('the token is read from the file (trimmed); LAD_API_TOKEN wins; an unreadable file is named, never shown', () => {
    const file = path.join(dir, 'token');
    writeFileSync(file, '  from-a-file-1234\n');
    expect(loadConfig({ LAD_API_TOKEN_FILE: file }).apiToken).toBe('from-a-file-1234');
    expect(loadConfig({ LAD_API_TOKEN_FILE: file, LAD_API_TOKEN: 'from-the-env-1234' }).apiToken).toBe('from-the-env-1234');
    const missing = configError({ LAD_API_TOKEN_FILE: path.join(dir, 'nope') });
    expect(missing.message).toMatch(/LAD_API_TOKEN_FILE=.*nope cannot be read \(ENOENT\)/);
    writeFileSync(file, 'Xq7!z\n');
    const short = configError({ LAD_API_TOKEN_FILE: file });
    expect(short.key).toBe('apiToken');
    expect(short.message).not.toContain('Xq7!z');
  });

  test.each([
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
  ])('host %s without a token: starts = %s', (host, starts) => {
    if (starts) {
      expect(loadConfig({ LAD_HOST: host }).host).toBe(host);
    } else {
      expect(configError({ LAD_HOST: host }).message).toMatch(/beyond loopback without an API token.*LAD_API_TOKEN.*LAD_ALLOW_UNAUTHENTICATED=true/);
      expect(loadConfig({ LAD_HOST: host, LAD_ALLOW_UNAUTHENTICATED: 'true' }).allowUnauthenticated).toBe(true);
    }
  });
});

describe('secrets in a broken LAD_CONFIG', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('lad-yaml-');
  });
  afterEach(() => removeDir(dir));

  const SECRET = 'tok-9b1f-should-never-be-echoed';
  const BROKEN: Record<string, string> = {
    'unclosed quote on the token line': `port: 9000\napiToken: "${SECRET}\n`,
    'bad indentation after the token': `apiToken: ${SECRET}\n  - oops: [\n`,
    'a pull password in a flow mapping': `sources:\n  - {type: loki-pull, name: l, url: 'http://x', password: ${SECRET}, : :}\n`,
    'duplicate key': `apiToken: ${SECRET}\napiToken: ${SECRET}\n`,
  };

  test.each(Object.keys(BROKEN))('%s: the error gives the position, never the line', (name) => {
    const file = path.join(dir, 'lad.yaml');
    writeFileSync(file, BROKEN[name]);
    const err = configError({ LAD_CONFIG: file });
    expect(err.key).toBe('LAD_CONFIG');
    expect(err.message).toMatch(/is not valid YAML\/JSON: syntax error at line \d+, column \d+ \([A-Z_]+\)/);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain('tok-');
  });

  test('the built server prints the position to stderr and exits 2, the secret nowhere in its output', async () => {
    const file = path.join(dir, 'lad.yaml');
    writeFileSync(file, BROKEN['unclosed quote on the token line']);
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, LAD_CONFIG: file, LAD_PORT: '0', LAD_DATA_DIR: dir } });
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(out).toMatch(/syntax error at line \d+, column \d+ \(MISSING_CHAR\)/);
    expect(out).not.toContain(SECRET);
  });
});

describe('the built server (child process)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('lad-main-');
  });
  afterEach(() => removeDir(dir));

  test('invalid configuration stops start-up with a message naming the key and a non-zero exit', async () => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, LAD_PORT: '-1', LAD_DATA_DIR: dir } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/invalid configuration: port \(from LAD_PORT\)/);
  });

  test('the API token never reaches the logs, even at trace level', async () => {
    const token = 'tok-3f9a1c2e-never-logged';
    const server = await startBuiltServer({
      env: { LAD_PORT: '0', LAD_DATA_DIR: dir, LAD_DEMO: 'false', LAD_API_TOKEN: token, LAD_LOG_LEVEL: 'trace' },
      keepOutputChars: 10_000_000, // all of it: the token must be nowhere
    });
    try {
      const { url } = server;
      expect((await postJson(`${url}/api/feedback`, { message: 'm', kind: 'confirmed' }, { authorization: `Bearer ${token}` })).status).toBe(201);
      expect((await postJson(`${url}/api/feedback`, { message: 'm', kind: 'confirmed' }, { authorization: `Bearer ${token}x` })).status).toBe(401);
      expect((await pushLines(url, 'web', ['x'], { authorization: `Bearer ${token}` })).status).toBe(204);
      await waitFor(() => (server.output().includes('"path":"/api/push"') ? true : undefined), 'the request log line');
    } finally {
      await server.stop();
    }
    const out = server.output();
    expect(out).toContain('"msg":"request"');
    expect(out).not.toContain(token);
  });

  test('LAD_PORT=0 binds an ephemeral port, logs {"msg":"listening","port":N} and serves the demo', async () => {
    // startBuiltServer waits for the JSON {"msg":"listening","port":N} line and reads the port from it.
    const server = await startBuiltServer({ env: { LAD_PORT: '0', LAD_DATA_DIR: dir, LAD_TRAIN_LINES: '300', LAD_DEMO_LINES_PER_SECOND: '50' } });
    try {
      expect(server.port).toBeGreaterThan(0);
      const health = await fetchHealth(server.url);
      expect(health.sources.map((s) => s.name)).toEqual(['demo']);
      const sources = await (await fetch(`${server.url}/api/sources`)).json();
      expect(sources).toEqual(['demo']);
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0); // clean shutdown on SIGTERM
    }
  });
});

describe('LAD_API_TOKEN', () => {
  const TOKEN = 's3cret-token-for-tests';
  let dir: string;
  let service: Service;
  beforeAll(async () => {
    dir = tempDir();
    service = await startTestService(dir, { LAD_API_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await service.close();
    removeDir(dir);
  });

  test('write endpoints need the bearer token; so do reads (tests/service-access.test.ts has every endpoint)', async () => {
    const url = service.url;
    const noAuth = await postJson(`${url}/api/feedback`, { message: 'm', kind: 'confirmed' });
    expect(noAuth.status).toBe(401);
    expect(((await noAuth.json()) as any).error).toMatch(/Bearer/);
    const wrong = await postJson(`${url}/api/feedback`, { message: 'm', kind: 'confirmed' }, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const ok = await postJson(`${url}/api/feedback`, { message: 'm', kind: 'confirmed' }, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(201);
    const { id } = (await ok.json()) as any;
    expect((await fetch(`${url}/api/feedback/${id}`, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(`${url}/api/feedback/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(204);

    expect((await pushLines(url, 'web', ['a line'])).status).toBe(401);
    expect((await pushLines(url, 'web', ['a line'], { authorization: `Bearer ${TOKEN}` })).status).toBe(204);
    const loki = await fetch(`${url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { job: 'web' }, values: [[`${Date.now()}000000`, 'x']] }] }),
    });
    expect(loki.status).toBe(401);

    expect((await fetch(`${url}/api/health`)).status).toBe(200); // liveness only
    expect((await fetch(`${url}/api/feedback`)).status).toBe(401);
    expect((await fetch(`${url}/api/feedback`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await postJson(`${url}/api/query`, { range: { from: 0, to: 1 }, targets: [] })).status).toBe(401);
  });
});
