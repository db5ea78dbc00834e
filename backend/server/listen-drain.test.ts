/**
 * listen()'s connection rules over real HTTP on loopback, with short bounds: silent connections closed, and a close
 * that drains (answers being written are delivered whole; what never completes is cut at the bound).
 */
import net from 'node:net';
import express from 'express';
import { DRAIN_MS, drainTime, listen, type Listening } from './listen';

const BIG = 32 * 1024 * 1024;

let server: Listening;
afterEach(() => server.close());

async function start(options: Parameters<typeof listen>[3] = {}): Promise<Listening> {
  const app = express();
  app.get('/big', (_req, res) => void res.type('application/octet-stream').send(Buffer.alloc(BIG, 120)));
  app.get('/ok', (_req, res) => void res.json({ ok: true }));
  server = await listen(app, '127.0.0.1', 0, options);
  return server;
}

function connect(port: number): Promise<{ socket: net.Socket; bytes: () => number; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let bytes = 0;
    socket.on('data', (d: Buffer) => (bytes += d.length));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, bytes: () => bytes, closed }));
  });
}

test('a connection silent past the bound is closed; one that sent a byte is left to headersTimeout', async () => {
  const s = await start({ silentConnectionMs: 300 });
  const silent = await connect(s.port);
  const started = await connect(s.port);
  started.socket.write('G');
  await silent.closed;
  await new Promise((r) => setTimeout(r, 300));
  expect(started.socket.destroyed).toBe(false);
  started.socket.destroy();
});

test('an answer still being written when close() starts is delivered whole', async () => {
  const s = await start();
  const c = await connect(s.port);
  c.socket.pause(); // the client reads nothing yet: the 32 MB wait in the kernel and in Node's buffer
  c.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 500));
  const closed = s.close();
  await new Promise((r) => setTimeout(r, 200));
  c.socket.resume();
  await c.closed;
  await closed;
  // before: closeAllConnections cut it; Node's closeIdleConnections (server.close) cuts an ended answer too
  expect(c.bytes()).toBeGreaterThan(BIG);
});

test('a request that never completes is cut at the drain bound, and close() resolves', async () => {
  const s = await start({ drainMs: 300 });
  const c = await connect(s.port);
  c.socket.write('POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab');
  await new Promise((r) => setTimeout(r, 100));
  await s.close();
  await c.closed;
});

test('gives a query running at the stop its deadline and a second more, never less than DRAIN_MS', () => {
  expect(drainTime(10_000)).toBe(11_000);
  expect(drainTime(60_000)).toBe(61_000);
  expect(drainTime(100)).toBe(DRAIN_MS);
});
