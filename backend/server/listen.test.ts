/**
 * Requests Node's HTTP parser refuses before express sees them get a JSON error like every other API error, over
 * real HTTP on loopback. Before: a 20 KB query string got `431` with an empty body, a malformed request `400`
 * with an empty body.
 */
import net from 'node:net';
import express from 'express';
import { listen, type Listening } from './listen';

let server: Listening;
beforeAll(async () => {
  server = await listen(express().get('/ok', (_req, res) => void res.json({ ok: true })), '127.0.0.1', 0);
});
afterAll(() => server.close());

/** Raw bytes to the server, the whole answer back (the server closes the connection after an error). */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

test('a query string over the header limit → 431 JSON naming the url', async () => {
  const res = await fetch(`${server.url}/ok?q=${'a'.repeat(20_000)}`);
  expect(res.status).toBe(431);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await res.json()).toEqual({ error: expect.stringContaining('query string'), field: 'url' });
});

test('a malformed request → 400 JSON, and the server answers the next one', async () => {
  const answer = await raw('NOT HTTP AT ALL\r\n\r\n');
  expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: expect.stringContaining('malformed HTTP request') });
  expect(await (await fetch(`${server.url}/ok`)).json()).toEqual({ ok: true });
});
