/**
 * The pull sources' HTTP exchange against peers that misbehave (a HostilePeer on loopback): redirects,
 * compression bombs, stalls, drips, throttling. Whatever the peer does, the poll ends, memory stays bounded,
 * nothing wrong is delivered and the problem is in the source's status.
 */
import { gzipSync } from 'node:zlib';
import { retryAfterSecondsOf } from './checkpoint-pull';
import { ElasticsearchPullSource, type ElasticsearchPullConfig } from './elasticsearch-pull';
import { LokiPullSource, type LokiPullConfig } from './loki-pull';
import { CapacitySink } from '../testing/capacity-sink';
import { HostilePeer, type HostileHandler } from '../testing/hostile-peer';
import { removeDir, tempDir } from '../testing/temp-dir';
import { waitUntil } from '../testing/wait';

const emptyLoki = JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [] } });

describe('pull sources against a hostile peer', () => {
  let dir: string;
  const peers: HostilePeer[] = [];
  const sources: Array<LokiPullSource | ElasticsearchPullSource> = [];
  const peer = async (handler: HostileHandler): Promise<{ peer: HostilePeer; url: string }> => {
    const p = new HostilePeer(handler);
    peers.push(p);
    return { peer: p, url: await p.start() };
  };
  const timing = { pollIntervalSeconds: 0.05, delaySeconds: 0, lookbackSeconds: 600, minBackoffSeconds: 0.05, maxBackoffSeconds: 0.2, requestTimeoutSeconds: 5 };
  const loki = (url: string, over: Partial<LokiPullConfig> = {}): LokiPullSource => {
    const s = new LokiPullSource({ type: 'loki-pull', name: 'hostile-loki', url, query: '{job="api"}', ...timing, ...over }, { dataDir: dir });
    sources.push(s);
    return s;
  };
  const es = (url: string, over: Partial<ElasticsearchPullConfig> = {}): ElasticsearchPullSource => {
    const s = new ElasticsearchPullSource({ type: 'elasticsearch-pull', name: 'hostile-es', url, index: 'logs-*', ...timing, ...over }, { dataDir: dir });
    sources.push(s);
    return s;
  };

  beforeEach(() => {
    dir = tempDir('lad-hostile-pull-');
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await Promise.all(peers.splice(0).map((p) => p.stop()));
    removeDir(dir);
  });

  it('does not follow a redirect: no secret header to another host, no _search turned into an unfiltered GET', async () => {
    const other = await peer((_req, res) => {
      const hit = { _index: 'elsewhere', _id: 'x', _source: { message: 'not what the query asked for' }, sort: [Date.now() - 60_000] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits: { hits: [hit] } }));
    });
    const redirecting = await peer((_req, res) => res.writeHead(302, { location: `${other.url}/logs-*/_search?token=abc` }).end());
    const sink = new CapacitySink();
    const source = es(redirecting.url, { headers: { 'x-api-key': 'header-secret' }, query: { term: { service: 'auth' } } });
    await source.start(sink);
    await waitUntil(() => redirecting.peer.requests.length >= 2, 'two polls');
    expect(other.peer.requests).toHaveLength(0);
    expect(sink.entries).toHaveLength(0);
    expect(source.status()).toMatchObject({ state: 'error', lastError: expect.stringMatching(/answered 302 redirecting to http:\/\/127\.0\.0\.1:\d+\/logs-\*\/_search: redirects are not followed/) });
    expect(source.status().lastError).not.toContain('token=abc');
  });

  it('a redirect loop costs one request per poll, not twenty', async () => {
    const looping = await peer((req, res) => res.writeHead(307, { location: req.url }).end());
    const source = loki(looping.url, { minBackoffSeconds: 0.5, maxBackoffSeconds: 0.5 });
    await source.start(new CapacitySink());
    await waitUntil(() => source.status().state === 'error', 'error state');
    await new Promise((r) => setTimeout(r, 300));
    expect(looping.peer.requests.length).toBeLessThanOrEqual(2);
    expect(source.status().lastError).toMatch(/answered 307 redirecting/);
  });

  it('inflates a gzip bomb only up to maxResponseBytes', async () => {
    // 512 gzip members of 1 MiB of spaces each: a 0.5 MB body that inflates to 512 MiB.
    const member = gzipSync(Buffer.alloc(1024 * 1024, 0x20));
    const bomb = Buffer.concat(Array.from({ length: 512 }, () => member));
    const bomber = await peer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb));
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
    const source = loki(bomber.url, { maxResponseBytes: 1024 * 1024 });
    try {
      await source.start(new CapacitySink());
      await waitUntil(() => source.status().state === 'error', 'error state');
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
    expect(source.status().lastError).toMatch(/answered more than maxResponseBytes \(1048576\)/);
  });

  it('ends a body that drips at the request deadline, naming the request', async () => {
    const dripping = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).write('{');
      const timer = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(timer));
    });
    const source = loki(dripping.url, { requestTimeoutSeconds: 0.5 });
    await source.start(new CapacitySink());
    await waitUntil(() => source.status().state === 'error', 'error state');
    expect(source.status().lastError).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/query_range timed out after 0\.5s reading the body$/);
  });

  it('ends a request whose headers never come at the deadline, and polls again', async () => {
    const silent = await peer(() => undefined);
    const source = loki(silent.url, { requestTimeoutSeconds: 0.3 });
    await source.start(new CapacitySink());
    await waitUntil(() => silent.peer.requests.length >= 2, 'a second attempt after the first timed out');
    expect(source.status().lastError).toMatch(/query_range failed: timed out after 0\.3s$/);
  });

  it('stops reading a body that never ends at maxResponseBytes', async () => {
    const endless = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      pump();
    });
    const source = loki(endless.url, { maxResponseBytes: 256 * 1024 });
    await source.start(new CapacitySink());
    await waitUntil(() => source.status().state === 'error', 'error state');
    expect(source.status().lastError).toMatch(/query_range answered more than maxResponseBytes \(262144\)$/);
  });

  for (const tiebreakerField of ['event.id', undefined]) {
    it(`refuses Elasticsearch pages that ignore the cursor instead of re-delivering them (${tiebreakerField ?? 'no tiebreaker'})`, async () => {
      const t = Date.now() - 60_000;
      const page = Array.from({ length: 4 }, (_, i) => ({ _index: 'logs-a', _id: `d${i}`, _source: { message: `line ${i}` }, sort: tiebreakerField ? [t, `ev-${i}`] : [t] }));
      const stubborn = await peer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits: { hits: page } })));
      const sink = new CapacitySink();
      const source = es(stubborn.url, { tiebreakerField, pageSize: 4 });
      await source.start(sink);
      await waitUntil(() => stubborn.peer.requests.length >= 3, 'three requests');
      expect(sink.entries.map((e) => e.line)).toEqual(['line 0', 'line 1', 'line 2', 'line 3']);
      expect(source.status()).toMatchObject({ state: 'error', lastError: expect.stringMatching(/_search answered hit d\d already delivered: the server did not apply/) });
    });
  }

  it('refuses an Elasticsearch page whose hits go back in time', async () => {
    const t = Date.now() - 60_000;
    const hits = [t, t - 5].map((ms, i) => ({ _index: 'logs-a', _id: `d${i}`, _source: { message: `line ${i}` }, sort: [ms, `ev-${i}`] }));
    const backwards = await peer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits: { hits } })));
    const sink = new CapacitySink();
    const source = es(backwards.url, { tiebreakerField: 'event.id' });
    await source.start(sink);
    await waitUntil(() => source.status().state === 'error', 'error state');
    expect(sink.entries).toHaveLength(0);
    expect(source.status().lastError).toMatch(/hit d1 out of time order/);
  });

  it('ignores Loki entries outside the window asked for instead of delivering them at every poll', async () => {
    const futureNs = (BigInt(Date.now() + 3_600_000) * 1_000_000n).toString();
    const pastNs = (BigInt(Date.now() - 7_200_000) * 1_000_000n).toString();
    const inNs = (BigInt(Date.now() - 60_000) * 1_000_000n).toString();
    const streams = (values: string[][]): string => JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [{ stream: { job: 'api' }, values }] } });
    const careless = await peer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(streams([[pastNs, 'too old'], [inNs, 'in the window'], [futureNs, 'from the future']])));
    const sink = new CapacitySink();
    const source = loki(careless.url);
    await source.start(sink);
    await waitUntil(() => careless.peer.requests.length >= 4, 'four polls');
    expect(sink.entries.map((e) => e.line)).toEqual(['in the window']);
    expect(source.status().lastError).toMatch(/answered [23] of 3 entries outside the window asked for/);
  });

  it('backs off when a full Loki page holds nothing but entries outside the window', async () => {
    const pastNs = BigInt(Date.now() - 7_200_000) * 1_000_000n;
    const values = Array.from({ length: 5 }, (_, i) => [(pastNs + BigInt(i)).toString(), `old ${i}`]);
    const body = JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [{ stream: { job: 'api' }, values }] } });
    // Answers `limit` entries whatever the limit, all before `start`.
    const stubborn = await peer((req, res) => {
      const limit = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('limit'));
      const many = Array.from({ length: limit }, (_, i) => values[i % values.length]);
      res.writeHead(200, { 'content-type': 'application/json' }).end(limit === 5 ? body : JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [{ stream: { job: 'api' }, values: many }] } }));
    });
    const source = loki(stubborn.url, { pageSize: 5, minBackoffSeconds: 0.2, maxBackoffSeconds: 0.2 });
    await source.start(new CapacitySink());
    await new Promise((r) => setTimeout(r, 500));
    expect(stubborn.peer.requests.length).toBeLessThan(10);
    expect(source.status()).toMatchObject({ state: 'error', lastError: expect.stringMatching(/answered 5 of 5 entries outside the window/) });
  });

  it('refuses a Loki answer with more entries than the limit asked for (20,000 streams of one entry for limit 100)', async () => {
    const ns = BigInt(Date.now() - 60_000) * 1_000_000n;
    const result = Array.from({ length: 20_000 }, (_, i) => ({ stream: { job: 'api', id: String(i) }, values: [[(ns + BigInt(i)).toString(), `line ${i}`]] }));
    const body = JSON.stringify({ status: 'success', data: { resultType: 'streams', result } });
    const flooding = await peer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    const sink = new CapacitySink();
    const source = loki(flooding.url, { pageSize: 100 });
    await source.start(sink);
    await waitUntil(() => source.status().state === 'error', 'error state');
    expect(sink.entries).toHaveLength(0);
    expect(source.status().lastError).toBe('Loki query_range answered 20000 entries, more than the 100 asked for: refused');
  });

  it('refuses an Elasticsearch answer with more hits than the size asked for', async () => {
    const t = Date.now() - 60_000;
    const hits = Array.from({ length: 50 }, (_, i) => ({ _index: 'logs-a', _id: `d${i}`, _source: { message: `line ${i}` }, sort: [t + i] }));
    const flooding = await peer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits: { hits } })));
    const sink = new CapacitySink();
    const source = es(flooding.url, { pageSize: 4 });
    await source.start(sink);
    await waitUntil(() => source.status().state === 'error', 'error state');
    expect(sink.entries).toHaveLength(0);
    expect(source.status().lastError).toBe('_search answered 50 hits, more than the 4 asked for: refused');
  });

  it('keeps polling a well-behaved peer after all that (an empty answer is no error)', async () => {
    const fine = await peer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(emptyLoki));
    const source = loki(fine.url);
    await source.start(new CapacitySink());
    await waitUntil(() => fine.peer.requests.length >= 3, 'three polls');
    expect(source.status()).toMatchObject({ state: 'connected', lastError: null });
  });

  it('a failure that is over leaves the status once the peer answers again (a reported problem stays)', async () => {
    let calls = 0;
    const flaky = await peer((_req, res) => {
      calls += 1;
      if (calls <= 2) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(emptyLoki);
    });
    const source = loki(flaky.url);
    await source.start(new CapacitySink());
    await waitUntil(() => source.status().state === 'error', 'the first failure');
    expect(source.status().lastError).toMatch(/answered 500/);
    await waitUntil(() => calls >= 4, 'polls after the recovery');
    expect(source.status()).toMatchObject({ state: 'connected', lastError: null });
  });

  it("waits as long as a 429's Retry-After asks, within maxBackoffSeconds", async () => {
    const at: number[] = [];
    const busy = await peer((_req, res) => {
      at.push(Date.now());
      if (at.length <= 2) res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': at.length === 1 ? '1' : '3600' }).end('too many requests');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(emptyLoki);
    });
    const source = loki(busy.url, { minBackoffSeconds: 0.05, maxBackoffSeconds: 1.5 });
    await source.start(new CapacitySink());
    await waitUntil(() => at.length >= 3, 'three requests', 10_000);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(1000); // asked 1 s: not the 0.05 s backoff
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(1500); // asked an hour: capped at maxBackoffSeconds
    expect(at[2] - at[1]).toBeLessThan(4500);
  });

  it('reads Retry-After as seconds or an HTTP date, and nothing else', () => {
    const now = Date.parse('2026-11-28T10:00:00Z');
    expect(retryAfterSecondsOf('120', now)).toBe(120);
    expect(retryAfterSecondsOf(' 7 ', now)).toBe(7);
    expect(retryAfterSecondsOf('Sat, 28 Nov 2026 10:00:30 GMT', now)).toBe(30);
    expect(retryAfterSecondsOf('Sat, 28 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterSecondsOf(null, now)).toBeNull();
    expect(retryAfterSecondsOf('soon', now)).toBeNull();
    expect(retryAfterSecondsOf('-5', now)).toBeNull();
  });
});
