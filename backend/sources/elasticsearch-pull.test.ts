/**
 * No Elasticsearch runs here: these tests serve the documented POST /<index>/_search request/response shapes
 * (bool filter + range on the time field in epoch_millis, `ids` in must_not, sort asc with an optional
 * tiebreaker, search_after = the previous hit's `sort` values → {hits: {hits: [{_index, _id, _source, sort}]}})
 * from a real HTTP server on loopback, evaluating them over an in-memory index.
 */
import { readFileSync, readdirSync, } from 'node:fs';
import path from 'node:path';
import { startTestService, waitScored } from '../../tests/service-helpers';
import { ElasticsearchPullSource, type ElasticsearchPullConfig } from './elasticsearch-pull';
import { parseSourceConfig } from './registry';
import type { LogEntry } from './source';
import { CapacitySink } from '../testing/capacity-sink';
import { FakeElasticsearch, type Doc } from '../testing/fake-elasticsearch';
import { waitUntil } from '../testing/wait';
import { removeDir, tempDir } from '../testing/temp-dir';
import { fetchSourceHealth } from '../testing/health';

const BASE_MS = Date.now() - 30 * 60_000;
/** Docs three to a millisecond, so pages and checkpoints split timestamps. */
function makeDocs(from: number, count: number, offsetMs = 0): Doc[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      _index: i % 2 ? 'logs-2026.11.25' : 'logs-2026.11.24',
      _id: `id-${String(i).padStart(4, '0')}`,
      _source: {
        '@timestamp': new Date(BASE_MS + offsetMs + Math.floor(i / 3)).toISOString(),
        message: `user ${i} logged in`,
        host: { name: `web-${i % 3}` },
        'log.level': 'info',
        'event.id': `ev-${String(i).padStart(4, '0')}`,
        service: 'auth',
      },
    };
  });
}
const lines = (entries: LogEntry[]): string[] => entries.map((e) => e.line).sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1]));
const expected = (n: number): string[] => Array.from({ length: n }, (_, i) => `user ${i} logged in`);

describe("ElasticsearchPullSource against Elasticsearch's documented _search API (search_after)", () => {
  let dir: string;
  let es: FakeElasticsearch;
  let url: string;
  const sources: ElasticsearchPullSource[] = [];
  const config = (over: Partial<ElasticsearchPullConfig> = {}): ElasticsearchPullConfig => ({
    type: 'elasticsearch-pull',
    name: 'es-auth',
    url,
    index: 'logs-*',
    query: { term: { service: 'auth' } },
    pageSize: 4,
    pollIntervalSeconds: 0.05,
    delaySeconds: 0,
    lookbackSeconds: 3600,
    labelFields: { host: 'host.name', level: 'log.level' },
    auth: { type: 'basic', username: 'elastic', password: 'es-pass-123' },
    ...over,
  });
  const newSource = (over: Partial<ElasticsearchPullConfig> = {}): ElasticsearchPullSource => {
    const s = new ElasticsearchPullSource(config(over), { dataDir: dir });
    sources.push(s);
    return s;
  };

  beforeEach(async () => {
    dir = tempDir('lad-es-pull-');
    es = new FakeElasticsearch();
    url = await es.start();
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await es.stop();
    removeDir(dir);
  });

  it('pages with search_after on [time, tiebreaker], maps message and label fields, sends basic auth', async () => {
    es.docs.push(...makeDocs(0, 30));
    es.docs.push({ _index: 'logs-x', _id: 'other', _source: { '@timestamp': new Date(BASE_MS).toISOString(), message: 'not auth', service: 'db' } });
    const sink = new CapacitySink();
    const source = newSource({ tiebreakerField: 'event.id' });
    await source.start(sink);
    await waitUntil(() => sink.entries.length >= 30, () => `30 lines, got ${sink.entries.length}`);
    await new Promise((r) => setTimeout(r, 150));
    expect(sink.entries.map((e) => e.line)).toEqual(expected(30)); // exact order: time, then tiebreaker
    expect(sink.entries[4]).toEqual({
      source: 'es-auth',
      timestampMs: BASE_MS + 1,
      line: 'user 4 logged in',
      labels: { index: 'logs-2026.11.24', host: 'web-1', level: 'info' },
    });
    const [first, second] = es.requests;
    expect(first.path).toBe('/logs-*/_search');
    expect(first.headers.authorization).toBe(`Basic ${Buffer.from('elastic:es-pass-123').toString('base64')}`);
    expect(first.body.sort).toEqual([{ '@timestamp': { order: 'asc', numeric_type: 'date' } }, { 'event.id': { order: 'asc' } }]);
    expect(first.body.search_after).toBeUndefined();
    expect(first.body.query.bool.filter[0]).toEqual({ term: { service: 'auth' } });
    expect(second.body.search_after).toEqual([BASE_MS + 1, 'ev-0003']);
    expect(source.status()).toMatchObject({ state: 'connected', linesTotal: 30 });
  });

  for (const tiebreakerField of ['event.id', undefined]) {
    it(`resumes after a restart with no duplicates and no gaps (${tiebreakerField ? 'tiebreaker' : 'time + seen _ids'})`, async () => {
      es.docs.push(...makeDocs(0, 25));
      const sink1 = new CapacitySink(13); // stops mid-way, inside one millisecond's documents
      const first = newSource({ tiebreakerField, batchLines: 2 });
      await first.start(sink1);
      await waitUntil(() => sink1.refused > 0, () => `first run to fill its sink, got ${sink1.entries.length}`);
      await first.stop();
      const saved = readFileSync(path.join(dir, 'checkpoints', readdirSync(path.join(dir, 'checkpoints'))[0]), 'utf8');
      expect(saved).not.toContain('es-pass-123');

      es.docs.push(...makeDocs(25, 20, 60_000)); // arrived while Scorpio was down
      const sink2 = new CapacitySink();
      const second = newSource({ tiebreakerField, batchLines: 2 });
      await second.start(sink2);
      await waitUntil(() => sink1.entries.length + sink2.entries.length >= 45, () => `second run, got ${sink2.entries.length}`);
      await new Promise((r) => setTimeout(r, 150));
      expect(lines([...sink1.entries, ...sink2.entries])).toEqual(expected(45));
    });
  }

  it('without a tiebreaker, steps through more documents at one timestamp than a page holds', async () => {
    const sameMs = new Date(BASE_MS).toISOString();
    es.docs.push(...makeDocs(0, 11).map((d) => ({ ...d, _source: { ...d._source, '@timestamp': sameMs } })));
    const sink = new CapacitySink();
    const source = newSource({ pageSize: 3, auth: { type: 'apiKey', apiKey: 'aWQ6a2V5' } });
    await source.start(sink);
    await waitUntil(() => sink.entries.length >= 11, () => `11 lines, got ${sink.entries.length}`);
    await new Promise((r) => setTimeout(r, 150));
    expect(lines(sink.entries)).toEqual(expected(11));
    expect(es.requests[0].headers.authorization).toBe('ApiKey aWQ6a2V5');
    expect(es.requests[1].body.query.bool.must_not[0].ids.values).toHaveLength(3);
  });

  it('without a tiebreaker, steps past a millisecond holding more documents than maxSeenPerTimestamp instead of re-reading it forever', async () => {
    const sameMs = new Date(BASE_MS).toISOString();
    es.docs.push(...makeDocs(0, 12).map((d) => ({ ...d, _source: { ...d._source, '@timestamp': sameMs } })));
    es.docs.push(...makeDocs(12, 3, 5_000));
    const sink = new CapacitySink();
    const source = newSource({ pageSize: 3, maxSeenPerTimestamp: 5 });
    await source.start(sink);
    await waitUntil(() => sink.entries.some((e) => e.line === 'user 14 logged in'), () => `the documents after that millisecond, got ${sink.entries.length}`);
    await new Promise((r) => setTimeout(r, 150));
    const delivered = sink.entries.map((e) => e.line);
    expect(new Set(delivered).size).toBe(delivered.length); // no duplicates
    expect(delivered.slice(-3)).toEqual(['user 12 logged in', 'user 13 logged in', 'user 14 logged in']);
    expect(source.status().lastError).toMatch(/more than 5 documents at .*: the rest of that millisecond was skipped \(set tiebreakerField/);
  });

  it('runs inside the service from its config entry: lines scored with their labels counted, state in /api/health', async () => {
    const normal = readFileSync(path.join(__dirname, '..', 'demo', 'webshop.txt'), 'utf8').trim().split('\n').slice(0, 400);
    es.docs.push(
      ...normal.map((line, i) => ({
        _index: 'logs-shop',
        _id: `d${i}`,
        _source: { '@timestamp': new Date(BASE_MS + i).toISOString(), message: line, service: 'auth', host: { name: 'web-1' } },
      }))
    );
    const service = await startTestService(dir, {}, (c) => ({
      ...c,
      sources: [parseSourceConfig({ ...config({ name: 'es-svc', pageSize: 150 }), dataDir: path.join(dir, 'pulls') })],
    }));
    try {
      await waitScored(service, 'es-svc', normal.length);
      expect(await fetchSourceHealth(service.url, 'es-svc')).toMatchObject({
        kind: 'elasticsearch-pull',
        state: 'connected',
        linesIngested: normal.length,
        linesScored: normal.length,
        lastError: null,
      });
    } finally {
      await service.close();
    }
    // After a clean stop: only the checkpoint itself (no temp file left), where the config said.
    expect(readdirSync(path.join(dir, 'pulls', 'checkpoints'))).toEqual(['elasticsearch-pull--es-svc.json']);
  }, 60_000);

  it('refuses a response larger than maxResponseBytes instead of buffering it, and retries', async () => {
    es.docs.push(...makeDocs(0, 3).map((d) => ({ ...d, _source: { ...d._source, message: `${d._source.message} ${'x'.repeat(2000)}` } })));
    const sink = new CapacitySink();
    const source = newSource({ maxResponseBytes: 4096, minBackoffSeconds: 0.05, maxBackoffSeconds: 0.1 });
    await source.start(sink);
    await waitUntil(() => source.status().state === 'error', () => 'error state');
    expect(source.status().lastError).toMatch(/more than maxResponseBytes \(4096\)/);
    expect(sink.entries).toHaveLength(0);
  });

  it("backs off on Elasticsearch's 429 es_rejected_execution_exception, shows it, then reads everything", async () => {
    es.docs.push(...makeDocs(0, 10));
    es.rejectNext = 2;
    const sink = new CapacitySink();
    const source = newSource({ tiebreakerField: 'event.id', minBackoffSeconds: 0.05, maxBackoffSeconds: 0.1 });
    const seen = new Set<string>();
    const sampler = setInterval(() => {
      const e = source.status().lastError;
      if (e !== null) seen.add(e);
    }, 1);
    try {
      await source.start(sink);
      await waitUntil(() => sink.entries.length >= 10, () => `10 lines, got ${sink.entries.length}`);
    } finally {
      clearInterval(sampler);
    }
    expect(sink.entries.map((e) => e.line)).toEqual(expected(10));
    expect([...seen]).toEqual([expect.stringMatching(/answered 429: .*es_rejected_execution_exception/)]);
    // over once the pages come again
    expect(source.status()).toMatchObject({ state: 'connected', lastError: null });
  });

  it('rejects an index pattern with a path character and names the field', () => {
    expect(() => new ElasticsearchPullSource({ ...config(), index: 'logs/_delete' }, { dataDir: dir })).toThrow(/index/);
  });
});
