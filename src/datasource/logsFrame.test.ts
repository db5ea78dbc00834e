import { DataFrameType, FieldCache, FieldType, LogRowContextQueryDirection, type DataFrame, type LogRowModel } from '@grafana/data';
import { setBackendSrv } from '@grafana/runtime';

import { LadDataSource } from './datasource';
import { framesFromJSON } from './frames';
import { severityOf } from './logsFrame';
import { anomaliesFrameJSON } from '../testing/fixtures';
import { ladSettings } from '../testing/settings';
import { FakeTemplateSrv } from '../testing/templateSrv';
import { backendSrvViaDataProxyStandIn, startWireServer, type WireServer } from '../testing/wireBackend';

/**
 * What Grafana's logs code takes from a data-plane logs frame (public/app/features/logs/logsFrame.ts
 * parseDataplaneLogsFrame): the frame typed DataFrameType.LogLines, `timestamp` a time field and `body` a string
 * field (both required, or the frame is not logs), `severity` and `id` string fields and `labels` an "other" field
 * of string maps (each optional, ignored when of another type). Returns what it would find.
 */
function asGrafanaReadsIt(frame: DataFrame) {
  expect(frame.meta?.type).toBe(DataFrameType.LogLines);
  const cache = new FieldCache(frame);
  const typed = (name: string, type: FieldType) => {
    const f = cache.getFieldByName(name);
    return f?.type === type ? f : undefined;
  };
  return {
    timestamp: typed('timestamp', FieldType.time)?.values,
    body: typed('body', FieldType.string)?.values,
    severity: typed('severity', FieldType.string)?.values,
    id: typed('id', FieldType.string)?.values,
    labels: typed('labels', FieldType.other)?.values as Array<Record<string, unknown>> | undefined,
  };
}

describe('anomalies as logs', () => {
  it('the anomalies frame is a logs frame whose line is the body, with severity, id and labels', () => {
    const [frame] = framesFromJSON([anomaliesFrameJSON('A', 2)], 'A', 'anomalies');
    const read = asGrafanaReadsIt(frame);
    expect(read.timestamp).toEqual([Date.UTC(2026, 10, 25, 12, 0, 0), Date.UTC(2026, 10, 25, 12, 0, 1)]);
    expect(read.body![0]).toBe(anomaliesFrameJSON('A', 2).data!.values[5][0]);
    expect(read.id).toEqual(['a0', 'a1']);
    expect(read.severity).toEqual(['error', 'error']);
    for (const labels of read.labels!) {
      expect(Object.values(labels).every((v) => typeof v === 'string')).toBe(true);
    }
    expect(read.labels![1]).toMatchObject({ source: 'auth' });
    expect(frame.meta?.preferredVisualisationType).toBe('logs');
  });

  it('reads the severity a line states about itself', () => {
    expect(severityOf('2026-11-25 ERROR disk full')).toBe('error');
    expect(severityOf('level=warn msg="slow"')).toBe('warning');
    expect(severityOf('[CRIT] kernel panic')).toBe('critical');
    expect(severityOf('GET /index.html 200')).toBe('unknown');
    // the engine's reading: spellings the old keyword search missed or misread
    expect(severityOf('E0507 12:04:17.597069       1 node.go:169] "Pod does not fit" pod="ns/pod-4"')).toBe('error');
    expect(severityOf('03-17 16:13:38.811  1702  8671 W PowerManagerService: slow')).toBe('warning');
    expect(severityOf('{"level":50,"msg":"request failed"}')).toBe('error');
    expect(severityOf('- 1117838570 2005.06.03 R02-M1-N0 RAS KERNEL INFO instruction cache parity error corrected')).toBe('info');
    expect(severityOf('Dec 10 06:55:46 LabSZ sshd[24200]: error: Received disconnect')).toBe('error'); // prose, no level
  });
});

describe('logs context from the context endpoint', () => {
  let server: WireServer;
  beforeAll(async () => {
    const row = (id: string, time: number, line: string) => ({ id, time, source: 'web', line, score: 0.1, anomaly: false, suppressed: false, labels: { host: 'h1' } });
    server = await startWireServer((r) => {
      // Grafana's data proxy re-encodes a routed query with its keys sorted (src/testing/grafanaDataProxy.ts).
      const m = /^\/api\/anomalies\/a1\/context\?after=(\d+)&before=(\d+)$/.exec(r.path);
      if (!m) {
        return undefined;
      }
      return {
        body: {
          anomaly: { ...row('a1', 5000, 'ERROR boom'), anomaly: true },
          before: Number(m[2]) ? [row('b1', 3000, 'INFO one'), row('b2', 4000, 'INFO two')] : [],
          after: Number(m[1]) ? [row('c1', 6000, 'INFO three')] : [],
        },
      };
    });
    setBackendSrv(backendSrvViaDataProxyStandIn(server.url));
  });
  afterAll(() => server.close());

  it('returns the lines before (newest first) or after an anomalous line as logs frames', async () => {
    const ds = new LadDataSource(ladSettings, new FakeTemplateSrv({}));
    const [frame] = framesFromJSON([anomaliesFrameJSON('A', 2)], 'A', 'anomalies');
    const row = { dataFrame: frame, rowIndex: 1, uid: 'A_1', timeEpochMs: 0 } as unknown as LogRowModel;
    const before = await ds.getLogRowContext(row, { direction: LogRowContextQueryDirection.Backward, limit: 10 });
    expect(server.requests.at(-1)?.path).toBe('/api/anomalies/a1/context?after=0&before=10');
    expect(asGrafanaReadsIt(before.data[0]).body).toEqual(['INFO two', 'INFO one']);
    const after = await ds.getLogRowContext(row, { direction: LogRowContextQueryDirection.Forward, limit: 5 });
    expect(server.requests.at(-1)?.path).toBe('/api/anomalies/a1/context?after=5&before=0');
    expect(asGrafanaReadsIt(after.data[0])).toMatchObject({ body: ['INFO three'], id: ['c1'], severity: ['info'], labels: [{ host: 'h1', source: 'web' }] });
  });
});
