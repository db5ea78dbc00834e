/**
 * Syslog TCP at maxConnections: connections that never send a byte cannot keep real senders out. Before, they held
 * every slot as long as their peer liked and each real sender was closed at once, its lines lost.
 */
import { connect, type Socket } from 'node:net';
import { CapacitySink } from '../testing/capacity-sink';
import { waitUntil } from '../testing/wait';
import { SyslogSource } from './syslog';

const QUIET_MS = 300;

let source: SyslogSource;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await source.stop();
});

function open(port: number): Promise<{ socket: Socket; closed: () => boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let closed = false;
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    socket.once('connect', () => resolve({ socket, closed: () => closed }));
  });
}

test('at the limit a new sender closes the connection quiet longest, and its lines arrive', async () => {
  source = new SyslogSource({ type: 'syslog', name: 'sys', tcpPort: 0, udpPort: null, maxConnections: 3 }, QUIET_MS);
  const sink = new CapacitySink(Infinity, 1);
  await source.start(sink);
  const port = source.tcpAddress()!.port;
  const silent = [await open(port), await open(port), await open(port)];
  await waitUntil(() => source.openConnections === 3, 'three connections held');
  await new Promise((r) => setTimeout(r, QUIET_MS + 100));
  const sender = await open(port);
  sender.socket.write('<13>Nov 28 11:00:00 host app: a real line\n');
  await waitUntil(() => sink.entries.length === 1, 'the real line');
  expect(sink.entries[0].line).toBe('a real line');
  await waitUntil(() => silent[0].closed(), 'the first silent connection closed');
  expect(silent.map((c) => c.closed())).toEqual([true, false, false]);
  expect(source.openConnections).toBe(3);
  expect(source.status().lastError).toMatch(/maxConnections \(3\) reached: closed a connection quiet for/);
});

test('at the limit with every connection recently active, the new one is refused and the others stay', async () => {
  source = new SyslogSource({ type: 'syslog', name: 'sys', tcpPort: 0, udpPort: null, maxConnections: 2 }, 60_000);
  const sink = new CapacitySink(Infinity, 1);
  await source.start(sink);
  const port = source.tcpAddress()!.port;
  const held = [await open(port), await open(port)];
  await waitUntil(() => source.openConnections === 2, 'two connections held');
  const extra = await open(port);
  await waitUntil(() => extra.closed(), 'the new connection closed');
  held[1].socket.write('<13>Nov 28 11:00:00 host app: still here\n');
  await waitUntil(() => sink.entries.length === 1, 'a line from a held connection');
  expect(held.map((c) => c.closed())).toEqual([false, false]);
  expect(source.status().lastError).toMatch(/a new connection was refused/);
});
