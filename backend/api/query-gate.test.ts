/**
 * The query gate over real HTTP on loopback: beyond `concurrent` running queries the next ones wait (their bodies
 * unread), beyond `waiting` more they get 429 JSON with Retry-After, and a slot is freed when an answer is sent,
 * its client has gone, or it held its slot `holdMs` (a client not reading its answer).
 */
import { connect } from 'node:net';
import express from 'express';
import { listen, type Listening } from '../server/listen';
import { mountQueryGate, QUERY_GATE, queryGate } from './query-gate';

let server: Listening;
let started: string[];
let finishers: Map<string, () => void>;
let startedAt: Map<string, number>;

beforeEach(async () => {
  started = [];
  finishers = new Map();
  startedAt = new Map();
  const app = express()
    .post('/api/query', queryGate({ concurrent: 1, waiting: 1, holdMs: 500 }))
    .use(express.json())
    .post('/api/query', (req, res) => {
      const id = String((req.body as { id: string }).id);
      started.push(id);
      startedAt.set(id, Date.now());
      // 'big': an answer far larger than the socket buffers, sent at once (a client must read it for it to leave)
      if (id === 'big') res.json({ id, filler: 'x'.repeat(32 * 1024 * 1024) });
      finishers.set(id, () => void res.json({ id }));
    });
  server = await listen(app, '127.0.0.1', 0);
});
afterEach(() => server.close());

const ask = (id: string, signal?: AbortSignal) =>
  fetch(`${server.url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }), signal });
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('one runs, one waits, the next is refused with 429 JSON; the waiting one runs when the first is answered', async () => {
  const a = ask('a');
  await until(() => started.includes('a'));
  const b = ask('b');
  await new Promise((r) => setTimeout(r, 100));
  const c = await ask('c');
  expect(c.status).toBe(429);
  expect(c.headers.get('retry-after')).toBe('1');
  expect(await c.json()).toEqual({ error: expect.stringContaining('1 queries are running and 1 waiting') });
  expect(started).toEqual(['a']);
  finishers.get('a')!();
  expect(await (await a).json()).toEqual({ id: 'a' });
  await until(() => started.includes('b'));
  finishers.get('b')!();
  expect(await (await b).json()).toEqual({ id: 'b' });
  expect(started).toEqual(['a', 'b']);
});

test('a client gone while running frees its slot, one gone while waiting leaves the queue', async () => {
  const gone = new AbortController();
  void ask('a', gone.signal).catch(() => undefined);
  await until(() => started.includes('a'));
  const quitter = new AbortController();
  void ask('b', quitter.signal).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 100));
  quitter.abort(); // waiting: leaves the queue
  await new Promise((r) => setTimeout(r, 100));
  const c = ask('c'); // takes the freed waiting place
  await new Promise((r) => setTimeout(r, 100));
  gone.abort(); // running: frees the slot for c, not for the quitter
  await until(() => started.includes('c'));
  finishers.get('c')!();
  expect(await (await c).json()).toEqual({ id: 'c' });
  expect(started).toEqual(['a', 'c']);
});

test('a client that never reads its answer is cut after holdMs and the next query runs', async () => {
  // Without the cut, 4 such clients held every slot of the built service for ever: all other queries waited.
  const body = JSON.stringify({ id: 'big' });
  const reader = connect(server.port, '127.0.0.1');
  reader.pause(); // reads nothing: the 32 MB answer fills the socket buffers and stops
  reader.write(`POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  await until(() => started.includes('big'));
  const b = ask('b');
  await until(() => started.includes('b'));
  expect(started).toEqual(['big', 'b']);
  // b waited for big's hold time (500 ms from big's start), not longer
  const waited = startedAt.get('b')! - startedAt.get('big')!;
  expect(waited).toBeGreaterThanOrEqual(450);
  expect(waited).toBeLessThan(3000);
  finishers.get('b')!();
  expect(await (await b).json()).toEqual({ id: 'b' });
  reader.destroy();
});

test('GET /api/feedback (every record: up to 66 MB) shares the gate with POST /api/query', async () => {
  // Ungated, 40 clients asking for a full store's feedback and not reading took the built service to 2.8 GB.
  const holding: (() => void)[] = [];
  const ran: string[] = [];
  const app = express();
  mountQueryGate(app, 10_000);
  app.post('/api/query', (_req, res) => void holding.push(() => res.json({})));
  app.get('/api/feedback', (_req, res) => {
    ran.push('feedback');
    res.json([]);
  });
  const gated = await listen(app, '127.0.0.1', 0);
  try {
    const queries = Array.from({ length: QUERY_GATE.concurrent }, () => fetch(`${gated.url}/api/query`, { method: 'POST' }));
    await until(() => holding.length === QUERY_GATE.concurrent);
    const feedback = fetch(`${gated.url}/api/feedback`);
    await new Promise((r) => setTimeout(r, 200));
    expect(ran).toEqual([]); // waiting its turn
    holding.shift()!();
    expect((await feedback).status).toBe(200);
    expect(ran).toEqual(['feedback']);
    for (const release of holding) release();
    await Promise.all(queries);
  } finally {
    await gated.close();
  }
});
