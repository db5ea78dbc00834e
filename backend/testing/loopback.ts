/** Test helpers: an HTTP server on 127.0.0.1 with an ephemeral port, and closing it with its keep-alive sockets. */
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';

/** Listens on 127.0.0.1 port 0 and resolves with the base URL (`http://127.0.0.1:<port>`). */
export async function listenLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes the server, also the keep-alive sockets a client (fetch) still holds open. */
export async function closeServer(server: Server | null | undefined): Promise<void> {
  if (!server?.listening) return;
  const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  server.closeAllConnections();
  await closed;
}

/** A TCP port free on 127.0.0.1 right now (for a config that needs a fixed port, e.g. a syslog listener). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
