/**
 * The process-wide memory budget (backend/server/memory-budget.ts) against the built service as a child process
 * with a small heap (--max-old-space-size=384): 32 sources fed lines of 65,000 characters, 416 M characters in
 * all, more than the heap. Each source's own bounds allow far more (a first training window of LAD_TRAIN_LINES,
 * a queue of 200,000 lines), so without the budget the process runs out of heap and dies; with it, pushes beyond
 * the budget get 429 + Retry-After, every line answered 204 is scored, and the service keeps answering.
 * The budget counts line characters: a body of mostly blank lines must not stay alive behind its few lines.
 */
import path from 'node:path';
import type { SourceHealth } from '../backend/api/health';
import { startBuiltServer, type BuiltServer } from '../backend/testing/built-server';
import { waitAcknowledgedScored } from '../backend/testing/health';
import { pushOnOwnConnection, type PushAnswer } from '../backend/testing/push-own-connection';
import { removeDir, tempDir } from './service-helpers';

const HEAP_MB = 384;
const SOURCES = 32;
const PUSHES_PER_SOURCE = 5;
const LINES_PER_PUSH = 40;
const LINE_CHARS = 65_000;
const CLIENTS = 4;

jest.setTimeout(120_000);

let dir: string;
let server: BuiltServer | null = null;
beforeEach(() => {
  dir = tempDir('lad-memory-budget-');
});
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = null;
  removeDir(dir);
});

/** The error to fail with when a push could not connect: the service's exit and its fatal error, if any. */
function pushFailed(err: Error): Error {
  const out = server!.output();
  const why = /FATAL ERROR[^\n]*/.exec(out)?.[0] ?? out.slice(-1500);
  return new Error(`push failed (${err.message}); service exit code ${server!.child.exitCode}, signal ${server!.child.signalCode}: ${why}`);
}

/** POST text/plain on a connection of its own; no answer fails the test, naming the service's exit. */
async function push(url: string, source: string, body: string): Promise<PushAnswer> {
  const answer = await pushOnOwnConnection(url, source, body);
  if (answer.status === 0) throw pushFailed(new Error(answer.error ?? 'no answer'));
  return answer;
}

/** The value of one Prometheus sample line, e.g. `lad_memory_used_chars{part="retained"}`. */
function sample(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

test('lines of 65,000 characters into 32 sources: 429 beyond the budget, no crash, no acknowledged line lost', async () => {
  server = await startBuiltServer({
    nodeArgs: [`--max-old-space-size=${HEAP_MB}`],
    env: {
      LAD_DATA_DIR: path.join(dir, 'data'),
      LAD_DEMO: 'false',
      LAD_LOG_LEVEL: 'info',
      // first training windows of up to 100,000 lines (51.2 M characters each by their own bound): only the
      // budget keeps 32 of them within a 384 MB heap; after 5 s a window of 10 lines trains (the test's end)
      LAD_TRAIN_LINES: '100000',
      LAD_TRAIN_SECONDS: '5',
      LAD_TRAIN_MIN_LINES: '10',
    },
    keepOutputChars: 6000,
  });
  const { url, child } = server;
  const acked = new Map<string, number>();
  const refusals: { retryAfter: string | undefined; body: string }[] = [];
  const jobs: number[] = [];
  for (let r = 0; r < PUSHES_PER_SOURCE; r++) for (let s = 0; s < SOURCES; s++) jobs.push(s);
  let seq = 0;
  const client = async (): Promise<void> => {
    for (let s = jobs.shift(); s !== undefined; s = jobs.shift()) {
      const source = `big${s}`;
      const body = Array.from({ length: LINES_PER_PUSH }, () => `ERROR ${++seq} ${source} `.padEnd(LINE_CHARS, String.fromCharCode(97 + (seq % 26)))).join('\n');
      for (;;) {
        // a crashed service refuses the connection: the test fails there, naming the exit
        const res = await push(url, source, body);
        if (res.status === 204) {
          acked.set(source, (acked.get(source) ?? 0) + LINES_PER_PUSH);
          break;
        }
        expect(res.status).toBe(429);
        refusals.push({ retryAfter: res.retryAfter, body: res.text });
        // sooner than Retry-After (1 s): the test is about what the service holds, not the sender's patience
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));

  // beyond the budget: 429 with Retry-After and a JSON error naming the memory budget, as a full queue answers
  expect(refusals.length).toBeGreaterThan(0);
  expect(Number(refusals[0].retryAfter)).toBeGreaterThanOrEqual(1);
  expect(JSON.parse(refusals[0].body)).toMatchObject({ error: expect.stringMatching(/memory budget full .*memory\.maxChars/), retryAfterSeconds: expect.any(Number) });

  // every line answered 204 is counted and scored, and the service answers throughout
  const pushed = SOURCES * PUSHES_PER_SOURCE * LINES_PER_PUSH;
  expect([...acked.values()].reduce((a, b) => a + b, 0)).toBe(pushed);
  const sources = await waitAcknowledgedScored(url, acked, 60_000);
  expect(sources).toHaveLength(SOURCES);
  for (const h of sources) expect(h.linesIngested).toBe(acked.get(h.name));

  // the metrics show the budget: refusals counted, retained lines evicted and within their half
  const metrics = await (await fetch(`${url}/metrics`)).text();
  expect(sample(metrics, 'lad_memory_refused_lines_total')).toBeGreaterThan(0);
  const retainedMax = sample(metrics, 'lad_memory_budget_chars{part="retained"}');
  expect(retainedMax).toBeLessThan(pushed * LINE_CHARS);
  // each window keeps its newest line whatever the budget: 3 windows a source
  expect(sample(metrics, 'lad_memory_used_chars{part="retained"}')).toBeLessThanOrEqual(retainedMax + 3 * SOURCES * LINE_CHARS);
  expect(sample(metrics, 'lad_memory_evicted_lines_total{window="recent"}')).toBeGreaterThan(0);
  expect(child.exitCode).toBeNull();
});

test('bodies of 10 MiB holding one short line among blank lines do not stay alive behind it', async () => {
  server = await startBuiltServer({
    nodeArgs: [`--max-old-space-size=${HEAP_MB}`],
    // the lines wait in the first training window (100,000 lines): 60 of them count 1,500 characters
    env: { LAD_DATA_DIR: path.join(dir, 'data'), LAD_DEMO: 'false', LAD_LOG_LEVEL: 'info', LAD_TRAIN_LINES: '100000' },
    keepOutputChars: 6000,
  });
  const blank = '\n'.repeat(10 * 1024 * 1024 - 100);
  // 60 × 10 MiB: each line a slice of its body would hold 629 MB (before: a heap out of memory after 36 pushes).
  // The line is longer than 12 characters: V8 copies a shorter slice instead of pointing into its parent.
  for (let i = 0; i < 60; i++) {
    expect((await push(server.url, 'blank', `line ${i} among blank lines${blank}`)).status).toBe(204);
  }
  const health = (await (await fetch(`${server.url}/api/health`)).json()) as { sources: SourceHealth[] };
  expect(health.sources.find((h) => h.name === 'blank')?.linesIngested).toBe(60);
  expect(server.child.exitCode).toBeNull();
});
