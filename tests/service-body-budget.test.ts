/**
 * The bound on request body bytes in flight (backend/server/body-budget.ts) against the built service as a child
 * process with a small heap (--max-old-space-size=256): 64 concurrent pushes of 10 MB each. Every body is read
 * whole and parsed in memory, so without the bound (LAD_MEMORY_BODY_BYTES set beyond them all) the process runs
 * out of heap and dies; with it, the bodies beyond the bound are answered 429 + Retry-After without being read,
 * every line answered 204 is scored, and the service keeps answering. (Without the bound the same run ended in
 * a heap OOM 5 times in 5; that control is not kept as a test: a test that asserts a crash is only as steady as
 * the machine's timing.)
 */
import path from 'node:path';
import { startBuiltServer, type BuiltServer } from '../backend/testing/built-server';
import { waitAcknowledgedScored } from '../backend/testing/health';
import { pushOnOwnConnection, type PushAnswer } from '../backend/testing/push-own-connection';
import { removeDir, tempDir } from './service-helpers';

const HEAP_MB = 256;
const PUSHES = 64;
const SOURCES = 8;
const LINES_PER_PUSH = 160;
const LINE_CHARS = 64_000;

jest.setTimeout(90_000);

let dir: string;
let server: BuiltServer | null = null;
beforeEach(() => {
  dir = tempDir('lad-body-budget-');
});
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = null;
  removeDir(dir);
});

type Answer = PushAnswer;

const push = pushOnOwnConnection;

async function run(env: Record<string, string>): Promise<{ answers: Answer[]; pushes: { source: string; answer: Answer }[] }> {
  server = await startBuiltServer({
    nodeArgs: [`--max-old-space-size=${HEAP_MB}`],
    env: { LAD_DATA_DIR: path.join(dir, 'data'), LAD_DEMO: 'false', LAD_LOG_LEVEL: 'info', LAD_TRAIN_LINES: '100000', LAD_TRAIN_SECONDS: '3', LAD_TRAIN_MIN_LINES: '10', ...env },
    keepOutputChars: 6000,
  });
  const bodies = Array.from({ length: PUSHES }, (_, p) =>
    Buffer.from(Array.from({ length: LINES_PER_PUSH }, (_l, i) => `ERROR push ${p} line ${i} `.padEnd(LINE_CHARS, String.fromCharCode(97 + ((p + i) % 26)))).join('\n'))
  );
  const pushes = await Promise.all(bodies.map(async (body, p) => ({ source: `b${p % SOURCES}`, answer: await push(server!.url, `b${p % SOURCES}`, body) })));
  return { answers: pushes.map((p) => p.answer), pushes };
}

test('64 concurrent 10 MB pushes under a 256 MB heap: 429 beyond the body budget, no crash, every 204 scored', async () => {
  const { answers, pushes } = await run({});
  const { url, child } = server!;
  expect(child.exitCode).toBeNull();
  expect(answers.every((a) => a.status === 204 || a.status === 429)).toBe(true);
  const refused = answers.filter((a) => a.status === 429 && a.text.includes('body budget'));
  expect(refused.length).toBeGreaterThan(0);
  expect(refused[0].retryAfter).toBe('1');
  expect(JSON.parse(refused[0].text)).toEqual({ error: expect.stringContaining('memory.bodyBytes (LAD_MEMORY_BODY_BYTES)'), field: 'body', retryAfterSeconds: 1 });

  const acked = new Map<string, number>();
  for (const { source, answer } of pushes) if (answer.status === 204) acked.set(source, (acked.get(source) ?? 0) + LINES_PER_PUSH);
  expect(acked.size).toBeGreaterThan(0);
  await waitAcknowledgedScored(url, acked, 45_000);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  expect(metrics).toMatch(/^lad_body_refused_requests_total\{reason="budget"\} [1-9]/m);
  expect(metrics).toMatch(/^lad_body_bytes_in_flight 0$/m);
  expect(child.exitCode).toBeNull();
});
