/**
 * Connections against the real service on loopback: open connections are capped (maxConnections; 20,000 silent
 * ones took every file descriptor: pushes 503 with EMFILE, health reset), ones that never send a byte are closed
 * after 10 s, unanswered (Node answered them 408 after 20 s), and a stop answers the requests it has received
 * before closing their connections (it reset them all at once).
 */
import net from 'node:net';
import { SILENT_CONNECTION_MS } from '../backend/server/listen';
import type { Service } from '../backend/server/service';
import { removeDir, startTestService, tempDir, waitFor } from './service-helpers';

jest.setTimeout(30_000);

let dir: string;
let service: Service | undefined;
beforeEach(() => {
  dir = tempDir('lad-conns-');
});
afterEach(async () => {
  await service?.close();
  service = undefined;
  removeDir(dir);
});

/** A raw connection that records what it receives and when the server closes it. */
interface Conn {
  socket: net.Socket;
  received(): string;
  closed: Promise<void>;
}

function connect(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', () => undefined); // a reset is a close too
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

test('a connection that never sends a byte is closed (after SILENT_CONNECTION_MS); one that asks is answered', async () => {
  service = await startTestService(dir);
  const silent = await Promise.all(Array.from({ length: 20 }, () => connect(service!.port)));
  const asking = await connect(service.port);
  asking.socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
  const opened = Date.now();
  await Promise.all(silent.map((c) => c.closed));
  expect(Date.now() - opened).toBeGreaterThanOrEqual(SILENT_CONNECTION_MS - 1_000);
  // closed unanswered: before, Node's headersTimeout answered each 408 after 20 s
  expect(silent.map((c) => c.received())).toEqual(silent.map(() => ''));
  expect(asking.received()).toMatch(/^HTTP\/1\.1 200 /);
  asking.socket.destroy();
});

test('past maxConnections (LAD_MAX_CONNECTIONS) a new connection is closed at once; the service answers once some go', async () => {
  service = await startTestService(dir, { LAD_MAX_CONNECTIONS: '10' });
  // the kernel hands connections over in the order they were made, so these 10 are the ones held
  const held = await Promise.all(Array.from({ length: 10 }, () => connect(service!.port)));
  const extra = await connect(service.port);
  extra.socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
  await extra.closed;
  expect(extra.received()).toBe('');
  for (const c of held) c.socket.destroy();
  // each try bounded: a fetch whose connection met the cap while the held ones were still closing may never end
  const health = () => fetch(`${service!.url}/api/health`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
  const status = await waitFor(async () => (await health())?.status, 'a health answer');
  expect(status).toBe(200);
});

test('a stop answers a request it has received (its body still arriving) and closes idle keep-alive connections first', async () => {
  service = await startTestService(dir);
  const events: string[] = [];
  // an idle keep-alive connection: one answer, then nothing
  const idle = await connect(service.port);
  idle.socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor(() => (/\r\n\r\n[\s\S]*\}/.test(idle.received()) ? true : undefined), 'the health answer');
  void idle.closed.then(() => events.push('idle closed'));
  // a push whose head arrived and whose body has not all come
  const body = 'GET /shop/cart 200 12ms\nGET /shop/item/7 200 9ms';
  const push = await connect(service.port);
  push.socket.write(`POST /api/push?source=web HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  await new Promise((r) => setTimeout(r, 300));
  const stopped = service.close().then(() => events.push('stopped'));
  service = undefined;
  await idle.closed;
  push.socket.write(body.slice(10));
  await push.closed;
  await stopped;
  // before: every connection was reset at once, the push with it
  expect(push.received()).toMatch(/^HTTP\/1\.1 204 /);
  expect(push.received()).toMatch(/\r\nConnection: close\r\n/i);
  expect(events).toEqual(['idle closed', 'stopped']);
});
