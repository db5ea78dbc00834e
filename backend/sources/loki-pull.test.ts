/**
 * No Loki runs here: these tests serve Loki's documented GET /loki/api/v1/query_range request/response
 * shapes (query, start/end in Unix ns, limit, direction=forward → {status, data: {resultType: "streams",
 * result: [{stream, values: [[ns, line]]}]}}) from a real HTTP server on loopback.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestService, waitFor, waitScored } from '../../tests/service-helpers';
import { LokiPullSource, type LokiPullConfig } from './loki-pull';
import { parseSourceConfig } from './registry';
import type { LogEntry } from './source';
import { CapacitySink } from '../testing/capacity-sink';
import { FakeLoki, type StoredEntry } from '../testing/fake-loki';
import { waitUntil } from '../testing/wait';
import { removeDir, tempDir } from '../testing/temp-dir';
import { fetchSourceHealth } from '../testing/health';

const BASE_NS = BigInt(Date.now() - 30 * 60_000) * 1_000_000n;

/** Entries in two streams, several sharing one nanosecond (within and across streams). */
function makeEntries(from: number, count: number, ns: (i: number) => bigint): StoredEntry[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { ns: ns(i), line: `request ${i} served`, labels: { job: 'api', pod: i % 2 === 0 ? 'a' : 'b' } };
  });
}
/** Lines by request number: order within one nanosecond across streams is Loki's (and not defined). */
function byNumber(entries: LogEntry[]): string[] {
  for (let i = 1; i < entries.length; i++) expect(entries[i].timestampMs).toBeGreaterThanOrEqual(entries[i - 1].timestampMs);
  return entries.map((e) => e.line).sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1]));
}
const expectedLines = (n: number): string[] => Array.from({ length: n }, (_, i) => `request ${i} served`);
const clustered = (i: number): bigint => BASE_NS + BigInt(Math.floor(i / 5)) * 1_000_000n; // five entries per ms

describe("LokiPullSource against Loki's documented query_range API", () => {
  let dir: string;
  let loki: FakeLoki;
  let url: string;
  const sources: LokiPullSource[] = [];
  const config = (over: Partial<LokiPullConfig> = {}): LokiPullConfig => ({
    type: 'loki-pull',
    name: 'loki-api',
    url,
    query: '{job="api"}',
    pageSize: 7,
    pollIntervalSeconds: 0.05,
    delaySeconds: 0,
    lookbackSeconds: 3600,
    minBackoffSeconds: 0.05,
    maxBackoffSeconds: 0.2,
    auth: { type: 'basic', username: 'scorpio', password: 's3cret-pw' },
    tenant: 'team-a',
    ...over,
  });
  const newSource = (over: Partial<LokiPullConfig> = {}): LokiPullSource => {
    const s = new LokiPullSource(config(over), { dataDir: dir });
    sources.push(s);
    return s;
  };

  beforeEach(async () => {
    dir = tempDir('lad-loki-pull-');
    loki = new FakeLoki();
    url = await loki.start();
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await loki.stop();
    removeDir(dir);
  });

  it('pages forward through every entry in time order with stream labels, basic auth and X-Scope-OrgID sent', async () => {
    loki.entries.push(...makeEntries(0, 60, clustered));
    loki.entries.push({ ns: BASE_NS, line: 'other job', labels: { job: 'db' } });
    const sink = new CapacitySink();
    const source = newSource();
    await source.start(sink);
    await waitUntil(() => sink.entries.length >= 60, () => `60 lines, got ${sink.entries.length}`);
    await new Promise((r) => setTimeout(r, 150)); // further polls must not repeat anything
    expect(byNumber(sink.entries)).toEqual(expectedLines(60));
    expect(sink.entries.find((e) => e.line === 'request 1 served')).toEqual({
      source: 'loki-api',
      timestampMs: Number(BASE_NS / 1_000_000n),
      line: 'request 1 served',
      labels: { job: 'api', pod: 'b' },
    });
    const first = loki.requests[0];
    expect(first.headers.authorization).toBe(`Basic ${Buffer.from('scorpio:s3cret-pw').toString('base64')}`);
    expect(first.headers['x-scope-orgid']).toBe('team-a');
    expect(first.params.get('direction')).toBe('forward');
    expect(first.params.get('limit')).toBe('7');
    expect(first.params.get('query')).toBe('{job="api"}');
    expect(source.status()).toMatchObject({ state: 'connected', linesTotal: 60, lastError: null });
  });

  for (const endInclusive of [false, true]) {
    it(`resumes after a restart with no duplicates and no gaps (end ${endInclusive ? 'inclusive' : 'exclusive'})`, async () => {
      await loki.stop();
      loki = new FakeLoki(endInclusive);
      url = await loki.start();
      loki.entries.push(...makeEntries(0, 43, clustered));
      // The first run stops while the sink is saturated, mid-way through one nanosecond's entries.
      const sink1 = new CapacitySink(23);
      const first = newSource();
      await first.start(sink1);
      await waitUntil(() => sink1.refused > 0, () => `first run to fill its sink, got ${sink1.entries.length}`);
      await first.stop();
      const lastMs = sink1.entries[sink1.entries.length - 1].timestampMs;
      const delivered = sink1.entries.filter((e) => e.timestampMs === lastMs).length;
      const stored = loki.entries.filter((e) => Number(e.ns / 1_000_000n) === lastMs).length;
      expect(delivered).toBeLessThan(stored); // the checkpoint splits one nanosecond

      // While Scorpio is down, more entries arrive (20 minutes later).
      loki.entries.push(...makeEntries(43, 40, (i) => clustered(i) + 1_200_000_000_000n));
      const checkpoint = readdirSync(path.join(dir, 'checkpoints'));
      expect(checkpoint).toHaveLength(1);
      const saved = readFileSync(path.join(dir, 'checkpoints', checkpoint[0]), 'utf8');
      expect(saved).not.toContain('s3cret-pw');

      const sink2 = new CapacitySink();
      const second = newSource();
      await second.start(sink2);
      await waitUntil(() => sink1.entries.length + sink2.entries.length >= 83, () => `second run, got ${sink2.entries.length}`);
      await second.stop();
      // A third run after catching up completely finds nothing new, then exactly what arrives next.
      const stoppedAtMs = Date.now();
      loki.entries.push(...makeEntries(83, 3, () => BigInt(stoppedAtMs + 1) * 1_000_000n));
      await new Promise((r) => setTimeout(r, 20)); // so they are in the past when the third run asks
      const sink3 = new CapacitySink();
      await newSource().start(sink3);
      await waitUntil(() => sink3.entries.length >= 3, () => `third run, got ${sink3.entries.length}`);
      await new Promise((r) => setTimeout(r, 150));
      expect(byNumber([...sink1.entries, ...sink2.entries, ...sink3.entries])).toEqual(expectedLines(86));
    });
  }

  it('waits while the sink is saturated (woken by onDrain) and loses no line', async () => {
    loki.entries.push(...makeEntries(0, 100, clustered));
    const sink = new CapacitySink(10);
    const source = newSource({ batchLines: 5 });
    await source.start(sink);
    await waitUntil(() => sink.refused > 0, () => 'a refused batch');
    expect(source.status().state).toBe('paused');
    expect(source.status().lagMs).toBeGreaterThanOrEqual(29 * 60_000); // behind: the last delivered line is ~30 min old
    while (sink.entries.length < 100) {
      const before = sink.entries.length;
      sink.raise(20);
      await waitUntil(() => sink.entries.length > before, () => `progress after drain (${before})`);
    }
    expect(byNumber(sink.entries)).toEqual(expectedLines(100));
  });

  it('backs off on server errors, reports them without credentials, then recovers', async () => {
    loki.entries.push(...makeEntries(0, 5, clustered));
    loki.failNext = 3;
    const sink = new CapacitySink();
    const source = newSource({ auth: { type: 'bearer', token: 'tok-very-secret' } });
    await source.start(sink);
    await waitUntil(() => source.status().state === 'error', () => 'error state');
    expect(source.status().lastError).toMatch(/answered 500: ingester unavailable/);
    expect(source.status().lastError).not.toContain('tok-very-secret');
    await waitUntil(() => sink.entries.length === 5, () => `recovery, got ${sink.entries.length}`);
    expect(loki.requests[0].headers.authorization).toBe('Bearer tok-very-secret');
    expect(source.status().state).toBe('connected');
  });

  it('delivers more entries sharing one nanosecond than a page holds (asks again with a larger limit)', async () => {
    loki.entries.push(...makeEntries(0, 12, () => BASE_NS).map((e) => ({ ...e, labels: { job: 'api' } })));
    const sink = new CapacitySink();
    const source = newSource({ pageSize: 3 });
    await source.start(sink);
    await waitUntil(() => sink.entries.length >= 12, () => `12 lines, got ${sink.entries.length}`);
    await new Promise((r) => setTimeout(r, 150));
    expect(byNumber(sink.entries)).toEqual(expectedLines(12));
    expect(loki.requests.map((r) => r.params.get('limit'))).toContain('12');
    expect(source.status().lastError).toBeNull();
  });

  it('reads a long outage in bounded windows instead of one huge range', async () => {
    loki.entries.push(...makeEntries(0, 4, (i) => BASE_NS + BigInt(i) * 600_000_000_000n)); // 10 min apart
    const sink = new CapacitySink();
    const source = newSource({ maxWindowSeconds: 300 });
    await source.start(sink);
    await waitUntil(() => sink.entries.length === 4, () => `4 lines, got ${sink.entries.length}`);
    for (const r of loki.requests) {
      expect(BigInt(r.params.get('end')!) - BigInt(r.params.get('start')!)).toBeLessThanOrEqual(300_000_000_000n);
    }
  });

  it('runs inside the service from its config entry: lines scored, state and lag in /api/health and /metrics, checkpoint in dataDir', async () => {
    const normal = readFileSync(path.join(__dirname, '..', 'demo', 'webshop.txt'), 'utf8').trim().split('\n').slice(0, 400);
    loki.entries.push(...normal.map((line, i) => ({ ns: BASE_NS + BigInt(i) * 1_000_000n, line, labels: { job: 'api' } })));
    const service = await startTestService(dir, {}, (c) => ({
      ...c,
      sources: [parseSourceConfig({ ...config({ name: 'loki-svc', pageSize: 100 }), dataDir: path.join(dir, 'pulls') })],
    }));
    try {
      await waitScored(service, 'loki-svc', normal.length);
      // Caught up once a poll finds nothing more: the lines are 30 minutes old, but everything up to
      // (now − delaySeconds) was read, so the lag drops from ~30 min to about the poll interval.
      const mine = await waitFor(async () => {
        const s = await fetchSourceHealth(service.url, 'loki-svc');
        return s && s.lagMs !== null && s.lagMs < 60_000 ? s : undefined;
      }, 'the pull to report itself caught up');
      expect(mine).toMatchObject({ kind: 'loki-pull', state: 'connected', linesIngested: normal.length, lastError: null });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain('lad_source_state{source="loki-svc",state="connected"} 1');
      expect(metrics).toContain('lad_source_up{source="loki-svc",kind="loki-pull"} 1');
    } finally {
      await service.close();
    }
    // After a clean stop: only the checkpoint itself (no temp file left), where the config said.
    expect(readdirSync(path.join(dir, 'pulls', 'checkpoints'))).toEqual(['loki-pull--loki-svc.json']);
  }, 60_000);

  it('keeps the entry keys of checkpoints saved by earlier versions (sha256 of sorted labels, then the line)', async () => {
    const at = BASE_NS.toString();
    loki.entries.push({ ns: BASE_NS, line: 'request 1 served', labels: { pod: 'a', job: 'api' } });
    loki.entries.push({ ns: BASE_NS, line: 'request 2 served', labels: { job: 'api', pod: 'a' } });
    const file = path.join(dir, 'checkpoints', 'loki-pull--loki-api.json');
    mkdirSync(path.dirname(file), { recursive: true });
    // written by the version before streamHash: 'request 1 served' of {job="api", pod="a"} already delivered
    writeFileSync(file, JSON.stringify({ startNs: at, seen: ['w8-hP0gnG4FPyLr3zK2tqT'] }));
    const sink = new CapacitySink();
    await newSource().start(sink);
    await waitUntil(() => sink.entries.length >= 1, 'one line');
    await new Promise((r) => setTimeout(r, 150));
    expect(sink.entries.map((e) => e.line)).toEqual(['request 2 served']);
  });

  it("shares one labels object among a stream's entries (a stream with thousands of labels is not copied per entry)", async () => {
    const labels: Record<string, string> = { job: 'api' };
    for (let i = 0; i < 2000; i++) labels[`k${i}`] = `v${i}`;
    loki.entries.push(...Array.from({ length: 2000 }, (_, i) => ({ ns: BASE_NS + BigInt(i), line: `line ${i}`, labels })));
    const sink = new CapacitySink();
    await newSource({ pageSize: 5000, labels: { env: 'prod' } }).start(sink);
    await waitUntil(() => sink.entries.length >= 2000, () => `2000 lines, got ${sink.entries.length}`);
    expect(new Set(sink.entries.map((e) => e.labels)).size).toBe(1);
    expect(Object.keys(sink.entries[0].labels)).toHaveLength(2002);
    expect(sink.entries[1999].labels).toMatchObject({ env: 'prod', job: 'api', k1999: 'v1999' });
  });

  it('refuses to start from a corrupt checkpoint and reports it in its status', async () => {
    const file = path.join(dir, 'checkpoints', 'loki-pull--loki-api.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '{"startNs": 12');
    const source = newSource();
    await expect(source.start(new CapacitySink())).rejects.toThrow(/not JSON; delete it to start over/);
    expect(source.status()).toMatchObject({ state: 'error', lastError: expect.stringContaining(file) });
    expect(loki.requests).toHaveLength(0);
  });

  it('rejects credentials in the URL and a bad config with the field named', () => {
    expect(() => new LokiPullSource(config({ url: 'http://u:p@127.0.0.1:1' }), { dataDir: '/tmp' })).toThrow(/auth/);
    expect(() => new LokiPullSource({ ...config(), pageSize: 0 }, { dataDir: '/tmp' })).toThrow(/pageSize/);
    expect(() => parseSourceConfig({ ...config(), url: 'not a url' })).toThrow(expect.objectContaining({ field: 'url' }));
  });
});
