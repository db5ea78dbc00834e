/**
 * The query gate over real HTTP on loopback: beyond `concurrent` running queries the next ones wait (their bodies
 * unread), beyond `waiting` more they get 429 JSON with Retry-After, and a slot is freed when an answer is sent or
 * its client has gone.
 */
import express from 'express';
import { listen, type Listening } from '../server/listen';
import { queryGate } from './query-gate';

let server: Listening;
let started: string[];
let finishers: Map<string, () => void>;

beforeEach(async () => {
  started = [];
  finishers = new Map();
  const app = express()
    .post('/api/query', queryGate({ concurrent: 1, waiting: 1 }))
    .use(express.json())
    .post('/api/query', (req, res) => {
      const id = String((req.body as { id: string }).id);
      started.push(id);
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
