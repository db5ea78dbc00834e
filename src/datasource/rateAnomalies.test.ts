// The rate model's query types through the datasource (issue 12): `template_rates` series as time-series frames
// labelled {source, template}, and `rate_events` (surges and drops) as dashboard annotations. The backend is the
// wire stand-in answering frames shaped as backend/api/query.ts builds them.
import { lastValueFrom } from 'rxjs';
import { dateTime, FieldType, type DataFrame, type DataFrameJSON, type DataQueryRequest } from '@grafana/data';
import { setBackendSrv } from '@grafana/runtime';

import { LadDataSource } from './datasource';
import type { LadQuery } from './types';
import { ladSettings } from '../testing/settings';
import { FakeTemplateSrv } from '../testing/templateSrv';
import { backendSrvViaDataProxyStandIn, startWireServer, type WireServer } from '../testing/wireBackend';

jest.setTimeout(30_000);

const T0 = Date.UTC(2026, 10, 25, 11, 0, 0);
const MINUTE = 60_000;

function request(targets: LadQuery[]): DataQueryRequest<LadQuery> {
  return {
    requestId: 'r1',
    interval: '1m',
    intervalMs: MINUTE,
    maxDataPoints: 500,
    range: { from: dateTime(T0), to: dateTime(T0 + 60 * MINUTE), raw: { from: 'now-1h', to: 'now' } },
    scopedVars: {},
    targets,
    timezone: 'utc',
    app: 'dashboard',
    startTime: 0,
  };
}

function seriesJSON(refId: string, source: string, template: string, observed: number[], expected: number[]): DataFrameJSON {
  const labels = { source, template };
  return {
    schema: {
      name: `${source} ${template}`,
      refId,
      fields: [
        { name: 'time', type: FieldType.time, config: { interval: MINUTE } },
        { name: 'observed', type: FieldType.number, labels, config: { displayNameFromDS: `${template} observed` } },
        { name: 'expected', type: FieldType.number, labels, config: { displayNameFromDS: `${template} expected` } },
      ],
    },
    data: { values: [observed.map((_, i) => T0 + i * MINUTE), observed, expected] },
  };
}

function eventsJSON(refId: string): DataFrameJSON {
  return {
    schema: {
      name: 'rate_events',
      refId,
      meta: { preferredVisualisationType: 'table' },
      fields: ['time', 'source', 'template', 'kind', 'observed', 'expected', 'interval'].map((name) => ({
        name,
        type: name === 'time' ? FieldType.time : ['observed', 'expected'].includes(name) ? FieldType.number : FieldType.string,
        config: {},
      })),
    },
    data: {
      values: [
        [T0 + 10 * MINUTE, T0 + 5 * MINUTE],
        ['app', 'app'],
        ['INFO heartbeat ok from scheduler', 'WARN cache miss for key <*>'],
        ['drop', 'surge'],
        [0, 150],
        [1, 0.3],
        ['1 min', '1 min'],
      ],
    },
  };
}

describe('rate anomalies through the datasource', () => {
  let server: WireServer;

  beforeAll(async () => {
    server = await startWireServer();
    setBackendSrv(backendSrvViaDataProxyStandIn(server.url, { token: 'sekrit' }));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('template_rates: asks for the top N templates (default N: none sent, not the panel default 1000) and returns labelled time series', async () => {
    server.handle((r) =>
      r.path === '/api/query'
        ? {
            body: {
              results: {
                R: {
                  frames: [
                    seriesJSON('R', 'app', 'WARN cache miss for key <*>', [1, 0, 150], [0.3, 0.3, 0.3]),
                    seriesJSON('R', 'app', 'INFO heartbeat ok from scheduler', [1, 0, 0], [1, 1, 1]),
                  ],
                },
              },
            },
          }
        : undefined
    );
    const ds = new LadDataSource(ladSettings, new FakeTemplateSrv({ src: 'app' }));
    const { data } = await lastValueFrom(
      ds.query(request([{ refId: 'R', queryType: 'template_rates', source: '$src' }, { refId: 'S', queryType: 'template_rates', source: 'app', limit: 3 }]))
    );
    const sent = server.requests[0].body as { targets: Array<Record<string, unknown>> };
    expect(sent.targets[0]).toEqual({ refId: 'R', queryType: 'template_rates', source: 'app', includeSuppressed: false });
    expect(sent.targets[1].limit).toBe(3);

    const frames = (data as DataFrame[]).filter((f) => f.refId === 'R');
    expect(frames).toHaveLength(2);
    const [burst] = frames;
    expect(burst.meta?.custom?.ladQueryType).toBe('template_rates');
    expect(burst.fields.map((f) => [f.name, f.type])).toEqual([
      ['time', FieldType.time],
      ['observed', FieldType.number],
      ['expected', FieldType.number],
    ]);
    expect(burst.fields[1].labels).toEqual({ source: 'app', template: 'WARN cache miss for key <*>' });
    expect(burst.fields[1].values).toEqual([1, 0, 150]);
    expect(burst.fields[2].values).toEqual([0.3, 0.3, 0.3]);
    expect(burst.fields[1].config.displayNameFromDS).toBe('WARN cache miss for key <*> observed');
    expect(burst.fields[0].values).toEqual([T0, T0 + MINUTE, T0 + 2 * MINUTE]);
  });

  it('annotations: a stored rate query asks for rate_events; surges and drops become markers with observed vs expected', async () => {
    server.handle((r) => (r.path === '/api/query' ? { body: { results: { Anno: { frames: [eventsJSON('Anno')] } } } } : undefined));
    const ds = new LadDataSource(ladSettings, new FakeTemplateSrv({}));
    const query = ds.annotations.prepareQuery!({ name: 'r', enable: true, iconColor: 'orange', target: { refId: 'Anno', queryType: 'template_rates', source: 'app' } } as never);
    expect(query).toMatchObject({ refId: 'Anno', queryType: 'rate_events', source: 'app' });
    // anything else still shows anomalous lines
    expect(ds.annotations.prepareQuery!({ name: 'a', enable: true, iconColor: 'red', target: { refId: 'A', queryType: 'rate' } } as never)).toMatchObject({ queryType: 'anomalies' });

    const { data } = await lastValueFrom(ds.query(request([query!])));
    expect((server.requests[0].body as { targets: Array<Record<string, unknown>> }).targets[0]).toMatchObject({ queryType: 'rate_events', source: 'app' });
    const events = await lastValueFrom(ds.annotations.processEvents!({} as never, data));
    expect(events).toEqual([
      {
        time: T0 + 10 * MINUTE,
        title: 'Rate drop in app',
        text: 'INFO heartbeat ok from scheduler\nobserved 0 in 1 min, expected 1',
        tags: ['app', 'drop'],
      },
      {
        time: T0 + 5 * MINUTE,
        title: 'Rate surge in app',
        text: 'WARN cache miss for key <*>\nobserved 150 in 1 min, expected 0.3',
        tags: ['app', 'surge'],
      },
    ]);
  });
});
