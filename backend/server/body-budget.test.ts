/**
 * The body budget's accounting, and its middleware over real HTTP on loopback: a body is reserved before it is
 * read and released however its request ends (answered, aborted by the client, cut for trickling).
 */
import { request } from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { admitBodies, BodyBudget, bodyBytesToReserve, defaultBodyBytes } from './body-budget';
import { listen, type Listening } from './listen';
import { waitUntil } from '../testing/wait';

describe('BodyBudget accounting', () => {
  it('reserves within the bound, refuses beyond it, and releases once', () => {
    const refused: string[] = [];
    const budget = new BodyBudget(100, { refused: (reason) => refused.push(reason) });
    const a = budget.reserve(60)!;
    expect(budget.inFlight).toBe(60);
    expect(budget.reserve(50)).toBeNull();
    const b = budget.reserve(40)!;
    expect(budget.inFlight).toBe(100);
    a.release();
    a.release(); // a request ends once, whatever tells it so
    expect(budget.inFlight).toBe(40);
    expect(budget.requests).toBe(1);
    b.release();
    expect(budget.inFlight).toBe(0);
    expect(refused).toEqual([]); // reserve() leaves counting to the middleware, which answers
  });

  it('takes one body alone whatever its size, so none is refused for ever', () => {
    const budget = new BodyBudget(100);
    const big = budget.reserve(1000)!;
    expect(big).not.toBeNull();
    expect(big.grow(5000)).toBe(true);
    expect(budget.reserve(1)).toBeNull();
    big.release();
    expect(budget.inFlight).toBe(0);
  });

  it('grows a reservation only within the bound, counting a refusal', () => {
    const refused: string[] = [];
    const budget = new BodyBudget(100, { refused: (reason) => refused.push(reason) });
    const a = budget.reserve(30)!;
    const b = budget.reserve(30)!;
    expect(a.grow(40)).toBe(true);
    expect(b.grow(1)).toBe(false);
    expect(refused).toEqual(['budget']);
    a.release();
    b.release();
    expect(budget.inFlight).toBe(0);
  });

  it('defaults to a sixteenth of the heap limit', () => {
    expect(defaultBodyBytes(4096 * 1024 * 1024)).toBe(256 * 1024 * 1024);
  });

  it('reserves a compressed or chunked body at the most it may inflate to', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as unknown as express.Request;
    expect(bodyBytesToReserve(req({ 'content-length': '1000' }), 10_000)).toBe(1000);
    expect(bodyBytesToReserve(req({ 'content-length': '1000', 'content-encoding': 'gzip' }), 10_000)).toBe(10_000);
    expect(bodyBytesToReserve(req({ 'transfer-encoding': 'chunked' }), 10_000)).toBe(10_000);
  });
});

describe('admitBodies over HTTP', () => {
  const MAX_BODY = 64 * 1024;
  let budget: BodyBudget;
  let refused: string[];
  let server: Listening;
  let handled: number;
  let hold: Promise<void>;
  let unhold: () => void;

  beforeEach(async () => {
    refused = [];
    handled = 0;
    hold = new Promise((resolve) => (unhold = resolve));
    budget = new BodyBudget(100 * 1024, { refused: (reason) => refused.push(reason) });
    const app = express()
      .use(admitBodies(budget, { maxBodyBytes: MAX_BODY, slow: { graceMs: 300, minBytesPerSecond: 10_000, checkEveryMs: 50 } }))
      .post('/p', express.raw({ type: () => true, limit: MAX_BODY }), async (req, res) => {
        handled++;
        await hold; // the body stays in flight until the test lets it go
        res.json({ bytes: (req.body as Buffer).length });
      });
    server = await listen(app, '127.0.0.1', 0);
  });
  afterEach(async () => {
    unhold();
    await server.close();
  });

  function post(body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request(`${server.url}/p`, { method: 'POST', agent: false, headers: { 'content-length': String(body.length), ...headers } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err); // the answer came before the whole body went
      });
      req.end(body);
    });
  }

  it('refuses a body that would pass the bound with 429 naming the setting, without reading it; releases after', async () => {
    const first = post(Buffer.alloc(60 * 1024, 97));
    await waitUntil(() => handled === 1, 'handled === 1', 5000);
    expect(budget.inFlight).toBe(60 * 1024);
    const second = await post(Buffer.alloc(60 * 1024, 98));
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.json).toEqual({ error: expect.stringContaining('memory.bodyBytes (LAD_MEMORY_BODY_BYTES)'), field: 'body', retryAfterSeconds: 1 });
    expect(handled).toBe(1);
    expect(refused).toEqual(['budget']);
    unhold();
    expect((await first).json).toEqual({ bytes: 60 * 1024 });
    await waitUntil(() => budget.inFlight === 0, 'budget.inFlight === 0', 5000);
    expect(budget.requests).toBe(0);
  });

  /** POSTs with `Expect: 100-continue`, sending the body only on the server's 100; says whether it came. */
  function postExpecting(body: Buffer): Promise<{ status: number; continued: boolean }> {
    return new Promise((resolve, reject) => {
      let continued = false;
      const req = request(`${server.url}/p`, { method: 'POST', agent: false, headers: { 'content-length': String(body.length), expect: '100-continue' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, continued }));
      });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('error', reject);
    });
  }

  it('sends 100 Continue only to a body it admits: a refused sender never sends its body', async () => {
    const first = postExpecting(Buffer.alloc(60 * 1024, 97));
    await waitUntil(() => handled === 1, 'handled === 1', 5000);
    const bytesBefore = budget.inFlight;
    const second = await postExpecting(Buffer.alloc(60 * 1024, 98));
    expect(second).toEqual({ status: 429, continued: false });
    expect(budget.inFlight).toBe(bytesBefore);
    unhold();
    expect(await first).toEqual({ status: 200, continued: true });
  });

  it('reserves a gzip body at maxBodyBytes', async () => {
    const answer = post(gzipSync(Buffer.alloc(1000, 97)), { 'content-encoding': 'gzip' });
    await waitUntil(() => handled === 1, 'handled === 1', 5000);
    expect(budget.inFlight).toBe(MAX_BODY);
    unhold();
    expect((await answer).json).toEqual({ bytes: 1000 });
  });

  it('answers a Content-Length over maxBodyBytes with 413 at once, reserving nothing', async () => {
    const res = await post(Buffer.alloc(MAX_BODY + 1));
    expect(res.status).toBe(413);
    expect(res.json).toEqual({ error: `request body too large (limit ${MAX_BODY} bytes after decompression)`, field: 'body' });
    expect(budget.inFlight).toBe(0);
  });

  it('releases the reservation of a request the client aborts mid-body', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: ${50 * 1024}\r\n\r\n${'a'.repeat(1000)}`);
    await waitUntil(() => budget.inFlight === 50 * 1024, 'budget.inFlight === 50 * 1024', 5000);
    socket.destroy();
    await waitUntil(() => budget.inFlight === 0, 'budget.inFlight === 0', 5000);
    expect(budget.requests).toBe(0);
    expect(handled).toBe(0);
  });

  it('cuts a body that trickles with 408 and releases its reservation', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: ${50 * 1024}\r\n\r\n`);
    const trickle = setInterval(() => socket.writable && socket.write('a'), 20);
    await closed;
    clearInterval(trickle);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: expect.stringContaining('arrived too slowly'), field: 'body' });
    expect(budget.inFlight).toBe(0);
    expect(refused).toEqual(['too_slow']);
    expect(handled).toBe(0);
  });
});
