/** Shared by the tests/service-*.test.ts files: a real service on loopback with a temp data dir. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from '../backend/server/config';
import { startService, type Service } from '../backend/server/service';
import { waitForValue } from '../backend/testing/wait';

export const DEMO_DIR = path.join(__dirname, '..', 'backend', 'demo');
export const normalLines = readFileSync(path.join(DEMO_DIR, 'webshop.txt'), 'utf8').trim().split('\n');
export const anomalyLines = readFileSync(path.join(DEMO_DIR, 'anomalies.txt'), 'utf8').trim().split('\n');

export { removeDir, tempDir } from '../backend/testing/temp-dir';

/** A config for tests: ephemeral port, no demo, a small training window trained in-process. */
export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    LAD_PORT: '0',
    LAD_DATA_DIR: dataDir,
    LAD_DEMO: 'false',
    LAD_TRAIN_LINES: '300',
    LAD_TRAIN_IN_WORKER: 'false',
    LAD_LOG_LEVEL: 'silent',
    ...env,
  });
}

export async function startTestService(dataDir: string, env: Record<string, string> = {}, patch?: (c: Config) => Config): Promise<Service> {
  const base = testConfig(dataDir, env);
  const config = patch ? patch(base) : base;
  return startService(config, { logger: pino({ level: 'silent' }) });
}

export async function pushLines(url: string, source: string, lines: string[], headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/push?source=${encodeURIComponent(source)}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', ...headers },
    body: lines.join('\n'),
  });
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** Polls until `check` returns a value (not undefined) or the wait runs out (50 ms steps, 20 s by default). */
export const waitFor = waitForValue;

export interface Frame {
  schema: { name?: string; refId: string; fields: { name: string; type: string; labels?: Record<string, string>; config: Record<string, unknown> }[] };
  data: { values: unknown[][] };
}

/** Rows of a frame as objects keyed by field name. */
export function rowsOf(frame: Frame): Record<string, unknown>[] {
  const n = frame.data.values[0]?.length ?? 0;
  return Array.from({ length: n }, (_, i) => Object.fromEntries(frame.schema.fields.map((f, j) => [f.name, frame.data.values[j][i]])));
}

export async function query(url: string, targets: Record<string, unknown>[], range = { from: Date.now() - 3600_000, to: Date.now() + 60_000 }, extra: Record<string, unknown> = {}) {
  const res = await postJson(`${url}/api/query`, { range, targets, ...extra });
  if (res.status !== 200) {
    throw new Error(`query failed ${res.status}: ${await res.text()}`);
  }
  return (await res.json()) as { results: Record<string, { frames: Frame[] }> };
}

/** Waits until a source has a model and has scored at least `lines` lines. */
export async function waitScored(service: Service, source: string, lines: number): Promise<void> {
  await waitFor(() => {
    const stats = service.pipelines.get(source)?.stats();
    return stats && stats.modelState === 'ready' && stats.linesScored >= lines ? true : undefined;
  }, `${source} to score ${lines} lines`, 45_000);
}
