import { lastValueFrom } from 'rxjs';
import { dateTime, FieldType, VariableSupportType, type DataQueryRequest } from '@grafana/data';
import { setBackendSrv } from '@grafana/runtime';

import { LadDataSource } from './datasource';
import type { LadVariableSupport } from './variables';
import type { LadQuery } from './types';
import { anomaliesFrameJSON, fieldValue, healthJSON, rateFrameJSON } from '../testing/fixtures';
import { ladSettings } from '../testing/settings';
import { FakeTemplateSrv } from '../testing/templateSrv';
import { backendSrvViaDataProxyStandIn, startWireServer, type WireServer } from '../testing/wireBackend';

// The machine is shared and often loaded: a generous per-test limit (no test here measures time).
jest.setTimeout(30_000);

const MapTemplateSrv = FakeTemplateSrv;

const settings = ladSettings;

function request(targets: LadQuery[], extra: Partial<DataQueryRequest<LadQuery>> = {}): DataQueryRequest<LadQuery> {
  const from = dateTime(Date.UTC(2026, 10, 25, 11, 0, 0));
  const to = dateTime(Date.UTC(2026, 10, 25, 12, 0, 0));
  return {
    requestId: 'r1',
    interval: '1m',
    intervalMs: 60000,
    maxDataPoints: 321,
    range: { from, to, raw: { from: 'now-1h', to: 'now' } },
    scopedVars: {},
    targets,
    timezone: 'utc',
    app: 'dashboard',
    startTime: 0,
    ...extra,
  };
}

describe('LadDataSource against a server speaking the documented Scorpio HTTP wire format', () => {
  let server: WireServer;

  beforeAll(async () => {
    server = await startWireServer();
    setBackendSrv(backendSrvViaDataProxyStandIn(server.url, { token: 'sekrit' }));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('posts range, interval, max data points and interpolated targets to /api/query through the data proxy route', async () => {
    server.handle((r) =>
      r.path === '/api/query' ? { body: { results: { A: { frames: [anomaliesFrameJSON('A')] } } } } : undefined
    );
    const ds = new LadDataSource(settings, new MapTemplateSrv({ src: 'web', needle: 'quota' }));
    await lastValueFrom(
      ds.query(request([{ refId: 'A', source: '$src', search: '${needle}', minScore: 0.7, limit: 50, includeSuppressed: true }]))
    );
    expect(server.requests).toHaveLength(1);
    const sent = server.requests[0];
    expect(sent.method).toBe('POST');
    expect(sent.headers.authorization).toBe('Bearer sekrit');
    expect(sent.body).toEqual({
      range: { from: Date.UTC(2026, 10, 25, 11, 0, 0), to: Date.UTC(2026, 10, 25, 12, 0, 0) },
      intervalMs: 60000,
      maxDataPoints: 321,
      targets: [
        { refId: 'A', queryType: 'anomalies', source: 'web', search: 'quota', minScore: 0.7, limit: 50, includeSuppressed: true },
      ],
    });
  });

  it('fills defaults for an empty query and drops hidden ones', () => {
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    const body = ds.buildQueryBody(request([{ refId: 'A' }, { refId: 'B', hide: true, queryType: 'rate' }]));
    expect(body.targets).toEqual([{ refId: 'A', queryType: 'anomalies', includeSuppressed: false, limit: 1000 }]);
  });

  it('asks for all sources in one target when the variable is "All" (allValue *) or empty', () => {
    const ds = new LadDataSource(settings, new MapTemplateSrv({ all: '*', none: '' }));
    const body = ds.buildQueryBody(request([{ refId: 'A', source: '$all' }, { refId: 'B', source: '$none', queryType: 'rate' }]));
    expect(body.targets.map((t) => [t.refId, t.source])).toEqual([
      ['A', undefined],
      ['B', undefined],
    ]);
  });

  it('sends a multi-value source variable as ONE target with the list, so rankings span the sources', async () => {
    server.handle((r) => {
      const body = r.body as { targets: Array<{ refId: string; source: string[] }> };
      // The backend answers a rate target with one frame per source, and a templates target with one frame.
      const results = Object.fromEntries(body.targets.map((t) => [t.refId, { frames: t.source.map((s) => rateFrameJSON(t.refId, s)) }]));
      return { body: { results } };
    });
    const ds = new LadDataSource(settings, new MapTemplateSrv({ src: ['web', 'auth'] }));
    const response = await lastValueFrom(
      ds.query(request([{ refId: 'R', queryType: 'rate', source: '$src' }, { refId: 'T', queryType: 'templates', source: '$src' }]))
    );
    const sent = server.requests[0].body as { targets: Array<{ refId: string; source: string[] }> };
    expect(sent.targets.map((t) => [t.refId, t.source])).toEqual([
      ['R', ['web', 'auth']],
      ['T', ['web', 'auth']],
    ]);
    expect(response.data.filter((f) => f.refId === 'R')).toHaveLength(2);
    const web = response.data[0];
    expect(web.fields[0].type).toBe(FieldType.time);
    const ratio = web.fields.find((f: { name: string }) => f.name === 'ratio');
    expect(ratio.config.unit).toBeUndefined();
    expect(ratio.config.displayNameFromDS).toBe('web anomaly ratio');
    expect(web.fields.find((f: { name: string }) => f.name === 'anomalies').config.displayNameFromDS).toBe('web anomalies');
  });

  it('sends one source as a string and "All" as no source', () => {
    const ds = new LadDataSource(settings, new MapTemplateSrv({ one: ['web'], all: ['*'] }));
    const body = ds.buildQueryBody(request([{ refId: 'A', source: '$one' }, { refId: 'B', source: '$all' }]));
    expect(body.targets.map((t) => t.source)).toEqual(['web', undefined]);
  });

  it('builds anomaly frames as logs frames (timestamp, body, severity, id, labels) with the details as extra fields', async () => {
    server.handle(() => ({ body: { results: { A: { frames: [anomaliesFrameJSON('A', 4)] } } } }));
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    const { data } = await lastValueFrom(ds.query(request([{ refId: 'A' }])));
    expect(data).toHaveLength(1);
    const frame = data[0];
    expect(frame.length).toBe(4);
    expect(frame.meta.type).toBe('log-lines');
    expect(frame.fields.map((f: { name: string }) => f.name)).toEqual([
      'timestamp', 'body', 'severity', 'id', 'labels', 'source', 'score', 'threshold', 'template', 'reason', 'suppressed', 'feedback',
    ]);
    expect(frame.fields[0].type).toBe(FieldType.time);
    expect(frame.fields[0].values[3]).toBe(Date.UTC(2026, 10, 25, 12, 0, 3));
    expect(frame.fields[1].values[1]).toContain('user u1');
    expect(frame.fields[6].config).toEqual({ displayNameFromDS: 'Score' });
  });

  it('turns a 400 {error, field} into a readable error naming the field', async () => {
    server.handle(() => ({ status: 400, body: { error: 'minScore must be a number', field: 'targets.0.minScore' } }));
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    await expect(lastValueFrom(ds.query(request([{ refId: 'A' }])))).rejects.toThrow(
      'Query failed: HTTP 400 minScore must be a number [field targets.0.minScore]'
    );
  });

  it('reports per-target errors from the backend next to the frames of the other targets', async () => {
    server.handle(() => ({
      body: { results: { A: { frames: [anomaliesFrameJSON('A', 1)] }, B: { error: 'unknown source "nope"' } } },
    }));
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    const response = await lastValueFrom(ds.query(request([{ refId: 'A' }, { refId: 'B', source: 'nope' }])));
    expect(response.data).toHaveLength(1);
    expect(response.errors).toEqual([{ refId: 'B', message: 'unknown source "nope"' }]);
  });

  it('testDatasource reports the sources and their model state', async () => {
    server.handle((r) => (r.path === '/api/health' ? { body: healthJSON() } : undefined));
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    const result = await ds.testDatasource();
    expect(result.status).toBe('success');
    expect(result.message).toContain('2 source(s)');
    expect(result.message).toContain('web (push, model ready)');
    expect(result.message).toContain('auth (file, model collecting)');
    expect(result.message).toContain('1 model(s) ready');
    expect(result.message).toContain('4 false positive(s), 2 confirmed');
  });

  it('testDatasource names the token when the backend answers liveness only (no token configured)', async () => {
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    server.handle((r) => (r.path === '/api/health' ? { body: { status: 'ok' } } : undefined));
    const result = await ds.testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toContain('shows details only with its API token');
  });

  it('testDatasource names the token when the backend refuses it (401 on health too)', async () => {
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    server.handle((r) => (r.path === '/api/health' ? { status: 401, body: { error: 'invalid bearer token', field: 'authorization' } } : undefined));
    const denied = await ds.testDatasource();
    expect(denied.status).toBe('error');
    expect(denied.message).toContain('API token');
  });

  it('testDatasource checks the token with a write that cannot change anything', async () => {
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    server.handle((r) =>
      r.path === '/api/health'
        ? { body: healthJSON() }
        : r.method === 'DELETE'
          ? { status: r.headers.authorization === 'Bearer right' ? 404 : 401, body: { error: 'invalid bearer token' } }
          : undefined
    );
    setBackendSrv(backendSrvViaDataProxyStandIn(server.url, { token: 'wrong' }));
    try {
      const denied = await ds.testDatasource();
      expect(denied.status).toBe('warning');
      expect(denied.message).toContain('Feedback will be refused');
      setBackendSrv(backendSrvViaDataProxyStandIn(server.url, { token: 'right' }));
      const ok = await ds.testDatasource();
      expect(ok.status).toBe('success');
      const probe = server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
      expect(probe).toEqual(['/api/feedback/__scorpio-token-check__', '/api/feedback/__scorpio-token-check__']);
    } finally {
      setBackendSrv(backendSrvViaDataProxyStandIn(server.url, { token: 'sekrit' }));
    }
  });

  it('testDatasource warns about sources in error', async () => {
    const h = healthJSON();
    (h.sources[1] as { lastError: string | null }).lastError = 'ENOENT /var/log/auth.log';
    server.handle(() => ({ body: h }));
    const result = await new LadDataSource(settings, new MapTemplateSrv({})).testDatasource();
    expect(result.status).toBe('warning');
    expect(result.message).toContain('auth: ENOENT /var/log/auth.log');
  });

  it('testDatasource explains a rejected token and an answer of the wrong shape', async () => {
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    server.handle(() => ({ status: 401, body: { error: 'missing or wrong bearer token' } }));
    const denied = await ds.testDatasource();
    expect(denied.status).toBe('error');
    // Grafana's data proxy turned the backend's 401 into its own 400 (the stand-in does what ds_proxy.go does).
    expect(denied.message).toContain('HTTP 400 Authentication to data source failed');
    expect(denied.message).toContain('check the API token');

    server.handle(() => ({ body: { hello: 'world' }, offContract: true }));
    const wrong = await ds.testDatasource();
    expect(wrong.status).toBe('error');
    expect(wrong.message).toMatch(/unexpected answer from the backend \(status/);
  });

  it('testDatasource explains an unreachable backend', async () => {
    const dead = await startWireServer();
    const url = dead.url;
    await dead.close();
    setBackendSrv(backendSrvViaDataProxyStandIn(url));
    try {
      const result = await new LadDataSource(settings, new MapTemplateSrv({})).testDatasource();
      expect(result.status).toBe('error');
      expect(result.message).toContain('is the Scorpio backend running');
    } finally {
      setBackendSrv(backendSrvViaDataProxyStandIn(server.url, { token: 'sekrit' }));
    }
  });

  it('template variables list the sources through the variable API, for typed and old string queries', async () => {
    server.handle((r) => (r.path === '/api/sources' ? { body: ['web', 'auth', 'demo'] } : undefined));
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    expect(ds.variables!.getType()).toBe(VariableSupportType.Custom);
    const listed = [{ text: 'web', value: 'web' }, { text: 'auth', value: 'auth' }, { text: 'demo', value: 'demo' }];
    const run = (query: unknown) => lastValueFrom((ds.variables as LadVariableSupport).query(request([query as never]) as never));
    expect((await run({ refId: 'LadVariable', kind: 'sources' })).data).toEqual(listed);
    // A dashboard saved with the old string API keeps working.
    expect((await run('sources')).data).toEqual(listed);
    await expect(run('colours')).rejects.toThrow('Unknown variable query');
    expect(ds.metricFindQuery).toBeUndefined();
  });

  it('turns anomalies into annotations, whatever query type the annotation stored', async () => {
    server.handle(() => ({ body: { results: { Anno: { frames: [anomaliesFrameJSON('Anno', 2)] } } } }));
    const ds = new LadDataSource(settings, new MapTemplateSrv({}));
    const query = ds.annotations.prepareQuery!({ name: 'a', enable: true, iconColor: 'red', target: { refId: 'Anno', queryType: 'rate' } } as never);
    expect(query).toMatchObject({ refId: 'Anno', queryType: 'anomalies' });
    const { data } = await lastValueFrom(ds.query(request([query!])));
    const events = await lastValueFrom(ds.annotations.processEvents!({} as never, data));
    expect(events).toHaveLength(2);
    expect(events![1]).toMatchObject({ time: Date.UTC(2026, 10, 25, 12, 0, 1), title: 'Anomaly in auth', tags: ['anomaly', 'auth'] });
    expect(events![1].text).toContain('user u1');
    const at = (name: string) => (fieldValue(anomaliesFrameJSON('Anno', 2), name, 1) as number).toFixed(3);
    expect(events![1].text).toContain(`score ${at('score')} (threshold ${at('threshold')})`);
  });
});
