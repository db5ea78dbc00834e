import React from 'react';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  dateTime,
  EventBusSrv,
  LoadingState,
  type DataFrame,
  type DataFrameJSON,
  type PanelProps,
} from '@grafana/data';
import { setBackendSrv, setDataSourceSrv } from '@grafana/runtime';

import { AnomalyPanel, datasourceResolver } from './AnomalyPanel';
import { anomalyRowsFromFrames, groupByTemplate } from './rows';
import { DEFAULT_OPTIONS, type PanelOptions } from './types';
import { framesFromJSON } from '../datasource/frames';
import { fakeDataSourceSrv } from '../testing/dataSourceSrv';
import { anomaliesFrameJSON, fieldValue, FIXTURE_REASON, FIXTURE_TEMPLATE } from '../testing/fixtures';
import { feedbackRecordSchema } from '../shared/contract';
import {
  backendSrvViaDataProxyStandIn,
  startWireServer,
  type RecordedRequest,
  type StandInBackendSrv,
  type WireReply,
  type WireServer,
} from '../testing/wireBackend';

// The machine is shared and often loaded: a generous per-test limit (no test here measures time).
jest.setTimeout(30_000);

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function frames(json: DataFrameJSON[]): DataFrame[] {
  return json.flatMap((j) => framesFromJSON([j], 'A', 'anomalies'));
}

/** `n` anomalies in `kinds` templates, in the backend's anomalies frame format. */
function manyAnomalies(n: number, kinds: number): DataFrameJSON {
  const base = anomaliesFrameJSON('A', n);
  const v = base.data!.values;
  v[1] = v[1].map((_, i) => `m${i}`);
  v[2] = v[2].map(() => 'web');
  v[3] = v[3].map((_, i) => 0.5 + (i % 7) / 10);
  v[5] = v[5].map((_, i) => `kind ${i % kinds}: request ${i} failed with code ${500 + (i % kinds)}`);
  v[6] = v[6].map((_, i) => `kind ${i % kinds}: request <*> failed with code <*>`);
  return base;
}

function props(series: DataFrame[], options: Partial<PanelOptions> = {}, width = 1000, height = 600): PanelProps<PanelOptions> {
  const timeRange = { from: dateTime(T0 - 3600_000), to: dateTime(T0 + 3600_000), raw: { from: 'now-1h', to: 'now' } };
  return {
    id: 1,
    data: {
      state: LoadingState.Done,
      series,
      timeRange,
      request: { targets: [{ refId: 'A', datasource: { uid: '${ds}', type: 'scorpio-lad-datasource' } }] } as never,
    },
    timeRange,
    timeZone: 'utc',
    options: { ...DEFAULT_OPTIONS, ...options },
    transparent: false,
    width,
    height,
    fieldConfig: { defaults: {}, overrides: [] },
    renderCounter: 0,
    title: 'Anomalies',
    eventBus: new EventBusSrv(),
    onOptionsChange: jest.fn(),
    onFieldConfigChange: jest.fn(),
    replaceVariables: (s: string) => s.replace('${ds}', 'scorpio-lad'),
    onChangeTimeRange: jest.fn(),
  };
}

const TYPE = 'scorpio-lad-datasource';
let server: WireServer;
let backendSrv: StandInBackendSrv;
let replyTo: (r: RecordedRequest) => WireReply | undefined;
let nextFeedbackId = 1;

function defaultReplies(r: RecordedRequest): WireReply | undefined {
  if (r.method === 'POST' && r.path === '/api/feedback') {
    const body = r.body as Record<string, unknown>;
    // As the backend fills a record (backend/api/feedback.ts): what the client left out comes from the message.
    const record = { source: '*', template: body.message, score: null, ...body, id: `fb${nextFeedbackId++}`, time: new Date().toISOString(), comment: null, user: null };
    return { status: 201, body: feedbackRecordSchema.parse(record) };
  }
  if (r.method === 'DELETE' && r.path.startsWith('/api/feedback/')) {
    return { status: 204 };
  }
  // Grafana's data proxy re-encodes a routed query with its keys sorted (src/testing/grafanaDataProxy.ts).
  const ctx = /^\/api\/anomalies\/([^/]+)\/context\?after=(\d+)&before=(\d+)$/.exec(r.path);
  if (ctx) {
    const row = (id: string, t: number, line: string, anomaly = false) => ({ id, time: t, source: 'web', line, score: 0.1, anomaly, suppressed: false, labels: { job: 'web' } });
    return {
      body: {
        anomaly: row(ctx[1], T0, 'THE ANOMALY ITSELF', true),
        before: [row('b1', T0 - 2000, 'GET /index.html 200'), row('b2', T0 - 1000, 'GET /cart 200')],
        after: [row('c1', T0 + 1000, 'GET /checkout 200')],
      },
    };
  }
  return undefined;
}

beforeAll(async () => {
  server = await startWireServer((r) => replyTo(r));
  backendSrv = backendSrvViaDataProxyStandIn(server.url, { uids: ['scorpio-lad', 'lad-other'] });
  setBackendSrv(backendSrv);
  setDataSourceSrv(
    fakeDataSourceSrv([
      { uid: 'loki', type: 'loki', name: 'Loki', isDefault: true },
      { uid: 'scorpio-lad', type: TYPE, name: 'Scorpio' },
      { uid: 'lad-other', type: TYPE, name: 'Scorpio (other)' },
    ])
  );
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  backendSrv.proxied.length = 0;
  replyTo = defaultReplies;
});

describe('anomaly rows', () => {
  it('orders rows newest first, caps them at maxRows and groups them by template with counts', () => {
    const rows = anomalyRowsFromFrames(frames([manyAnomalies(10, 3)]), 8);
    expect(rows).toHaveLength(8);
    expect(rows[0].time).toBeGreaterThan(rows[1].time);
    expect(rows[0].id).toBe('m9');
    const groups = groupByTemplate(rows);
    expect(groups.map((g) => g.count).sort()).toEqual([2, 3, 3]);
    expect(groups[0].rows[0].id).toBe('m9');
  });
});

describe('AnomalyPanel against a server speaking the documented Scorpio feedback/context wire format', () => {
  it('lists anomalies newest first with time, source, score against the threshold, line, template and reason', () => {
    render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 3)]))} />);
    const items = screen.getAllByRole('listitem');
    expect(items).toHaveLength(3);
    expect(within(items[0]).getByText(/user u2 on \/dev\/sd2/)).toBeInTheDocument();
    expect(within(items[2]).getByText(/user u0 on \/dev\/sd0/)).toBeInTheDocument();
    expect(within(items[0]).getByText('web')).toBeInTheDocument();
    expect(within(items[0]).getByText('2026-11-25 12:00:02')).toBeInTheDocument();
    const at = (name: string) => (fieldValue(anomaliesFrameJSON('A', 3), name, 2) as number).toFixed(3);
    expect(within(items[0]).getByRole('meter', { name: `Score ${at('score')}, threshold ${at('threshold')}` })).toBeInTheDocument();
    expect(within(items[0]).getByText(FIXTURE_TEMPLATE)).toBeInTheDocument();
    expect(within(items[0]).getByText(FIXTURE_REASON, { exact: false })).toBeInTheDocument();
    expect(screen.getByText('3 anomalies')).toBeInTheDocument();
  });

  it('hides the columns switched off in the options', () => {
    render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 1)]), { columns: ['time'] })} />);
    expect(screen.queryByRole('meter')).not.toBeInTheDocument();
    expect(screen.queryByText('web')).not.toBeInTheDocument();
    expect(screen.queryByText(FIXTURE_REASON, { exact: false })).not.toBeInTheDocument();
    expect(screen.getByText('2026-11-25 12:00:00')).toBeInTheDocument();
  });

  it('"False positive" posts feedback through the data proxy of the query\'s datasource and hides the line', async () => {
    render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 3)]))} />);
    const first = screen.getAllByRole('listitem')[0];
    await userEvent.click(within(first).getByRole('button', { name: 'False positive' }));
    await waitFor(() => expect(screen.getByText('Marked as false positive', { exact: false })).toBeInTheDocument());
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0].path).toBe('/api/feedback');
    expect(posts[0].body).toEqual({
      message: 'ERROR disk quota exceeded for user u2 on /dev/sd2',
      kind: 'false_positive',
      source: 'web',
      template: FIXTURE_TEMPLATE,
      score: fieldValue(anomaliesFrameJSON('A', 3), 'score', 2),
      anomalyId: 'a2',
    });
    // Hidden by default: the line and its near-duplicate (same source and template, a0) go, a1 (auth) stays.
    expect(screen.getAllByRole('listitem')).toHaveLength(1);
    expect(screen.getByText(/user u1/)).toBeInTheDocument();
    expect(screen.getByText('1 anomalies (2 suppressed hidden)')).toBeInTheDocument();
  });

  it('greys suppressed lines instead when "show suppressed" is on, and Undo deletes the feedback', async () => {
    render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 2)]), { showSuppressed: true })} />);
    const first = screen.getAllByRole('listitem')[0];
    await userEvent.click(within(first).getByRole('button', { name: 'False positive' }));
    const undo = await within(first).findByRole('button', { name: 'Undo' });
    expect(first.querySelector('[data-suppressed]')).not.toBeNull();
    expect(within(first).getByText('Marked false positive')).toBeInTheDocument();
    await userEvent.click(undo);
    await waitFor(() => expect(within(first).getByRole('button', { name: 'False positive' })).toBeEnabled());
    const deletes = server.requests.filter((r) => r.method === 'DELETE');
    expect(deletes.map((d) => d.path)).toEqual(['/api/feedback/' + (server.requests.find((r) => r.method === 'POST') ? `fb${nextFeedbackId - 1}` : '')]);
    expect(first.querySelector('[data-suppressed]')).toBeNull();
  });

  it('does not submit twice while a post is in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    replyTo = (r) => (r.method === 'POST' ? { ...defaultReplies(r)!, delay: gate } : defaultReplies(r));
    render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 1)]), { showSuppressed: true })} />);
    const button = screen.getByRole('button', { name: 'Confirm anomaly' });
    await userEvent.click(button);
    expect(button).toBeDisabled();
    expect(screen.getByRole('button', { name: 'False positive' })).toBeDisabled();
    await userEvent.click(button);
    await waitFor(() => expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1));
    act(() => release());
    await screen.findByText('Confirmed');
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect((server.requests.find((r) => r.method === 'POST')!.body as { kind: string }).kind).toBe('confirmed');
    expect(screen.getAllByRole('listitem')[0].querySelector('[data-suppressed]')).toBeNull();
  });

  it('shows a clear error when the post fails and lets the user try again', async () => {
    replyTo = (r) => (r.method === 'POST' ? { status: 401, body: { error: 'missing or wrong bearer token' } } : defaultReplies(r));
    render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 1)]))} />);
    await userEvent.click(screen.getByRole('button', { name: 'False positive' }));
    const alert = await screen.findByRole('alert');
    // What the browser sees of the backend's 401 behind Grafana's data proxy: a 400 with Grafana's text.
    expect(alert).toHaveTextContent('Sending feedback failed: HTTP 400 Authentication to data source failed (check the API token');
    expect(screen.getAllByRole('listitem')).toHaveLength(1);
    replyTo = defaultReplies;
    await userEvent.click(screen.getByRole('button', { name: 'False positive' }));
    await waitFor(() => expect(screen.queryByRole('listitem')).not.toBeInTheDocument());
    expect(screen.getByText('Every anomaly in this time range is suppressed.')).toBeInTheDocument();
  });

  it('expands a line to show its context from the backend', async () => {
    render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 2)]), { contextLines: 3 })} />);
    const toggle = screen.getAllByRole('button', { name: 'Expand line and its context' })[0];
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const context = await screen.findByRole('group', { name: 'Surrounding log lines' });
    expect(within(context).getByText('GET /cart 200')).toBeInTheDocument();
    expect(within(context).getByText('THE ANOMALY ITSELF').closest('[aria-current]')).not.toBeNull();
    expect(server.requests.map((r) => r.path)).toContain('/api/anomalies/a1/context?after=3&before=3');
  });

  it('groups 1,000 anomalies of one kind into one row with a count; one click suppresses the kind', async () => {
    render(<AnomalyPanel {...props(frames([manyAnomalies(1000, 1)]), { grouping: 'templates' })} />);
    const items = screen.getAllByRole('listitem');
    expect(items).toHaveLength(1);
    expect(within(items[0]).getByLabelText('1000 lines')).toBeInTheDocument();
    expect(screen.getByText('1 templates, 1000 lines')).toBeInTheDocument();
    await userEvent.click(within(items[0]).getByRole('button', { name: 'False positive' }));
    await waitFor(() => expect(screen.queryByRole('listitem')).toBeNull());
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    await userEvent.click(screen.getByRole('radio', { name: 'Lines' }));
    expect(screen.queryByRole('listitem')).toBeNull();
    expect(screen.getByText('0 anomalies (1000 suppressed hidden)')).toBeInTheDocument();
  });

  // Plain DOM queries here: role queries compute accessible names over the whole tree and are slow on a loaded machine.
  it('renders only a window of 5,000 rows (virtualised) and moves between rows with the arrow keys', async () => {
    const { container } = render(<AnomalyPanel {...props(frames([manyAnomalies(5000, 40)]), {}, 1000, 500)} />);
    expect(screen.getByText('5000 anomalies')).toBeInTheDocument();
    const rendered = container.querySelectorAll('[role="listitem"]');
    expect(rendered.length).toBeGreaterThan(3);
    expect(rendered.length).toBeLessThan(30);
    const toggles = () => container.querySelectorAll<HTMLButtonElement>('[role="listitem"] [data-row-focus]');
    expect(toggles()[0]).toHaveAccessibleName('Expand line and its context');
    toggles()[0].focus();
    await userEvent.keyboard('{ArrowDown}');
    await waitFor(() => expect(document.activeElement).toBe(toggles()[1]));
  }, 20_000);

  it('stacks rows in a narrow panel', () => {
    const { container } = render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 1)]), {}, 400, 400)} />);
    expect(screen.getByRole('button', { name: 'False positive' })).toBeInTheDocument();
    expect(container.querySelectorAll('[role="listitem"]')[0].getAttribute('style')).toContain('height: 136px');
  });

  it('marks lines the backend already suppresses as known false positives, which can still be confirmed', () => {
    const json = anomaliesFrameJSON('A', 2);
    json.data!.values[8] = [true, false];
    json.data!.values[9] = ['false_positive', ''];
    render(<AnomalyPanel {...props(frames([json]), { showSuppressed: true })} />);
    const [newest, oldest] = screen.getAllByRole('listitem');
    expect(within(newest).queryByText('Known false positive')).toBeNull();
    expect(within(newest).getByRole('button', { name: 'False positive' })).toBeEnabled();
    expect(within(oldest).getByText('Known false positive')).toBeInTheDocument();
    expect(within(oldest).queryByRole('button', { name: 'False positive' })).toBeNull();
    expect(within(oldest).getByRole('button', { name: 'Confirm anomaly' })).toBeEnabled();
    expect(oldest.querySelector('[data-suppressed]')).not.toBeNull();
  });

  it('hides lines the backend suppresses unless "show suppressed" is on', () => {
    const json = anomaliesFrameJSON('A', 3);
    json.data!.values[8] = [true, false, true];
    render(<AnomalyPanel {...props(frames([json]))} />);
    expect(screen.getAllByRole('listitem')).toHaveLength(1);
    expect(screen.getByText('1 anomalies (2 suppressed hidden)')).toBeInTheDocument();
  });

  it('a Viewer\'s feedback stops at Grafana\'s data proxy (the feedback routes need Editor) with a message saying why', async () => {
    setBackendSrv(backendSrvViaDataProxyStandIn(server.url, { role: 'Viewer' }));
    try {
      render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 1)]))} />);
      await userEvent.click(screen.getByRole('button', { name: 'False positive' }));
      const alert = await screen.findByRole('alert');
      expect(alert).toHaveTextContent('HTTP 403 plugin proxy route access denied (your Grafana role may not do this');
      expect(server.requests).toEqual([]);
    } finally {
      setBackendSrv(backendSrv);
    }
  });

  it('claims "No anomalies" only for a finished query without errors', () => {
    render(<AnomalyPanel {...props([])} />);
    expect(screen.getByRole('status')).toHaveTextContent('No anomalies in this time range.');
  });

  it('says the query is loading instead of giving an all-clear', () => {
    const base = props([]);
    render(<AnomalyPanel {...base} data={{ ...base.data, state: LoadingState.Loading }} />);
    expect(screen.getByRole('status')).toHaveTextContent('Loading anomalies');
    expect(screen.queryByText(/No anomalies/)).not.toBeInTheDocument();
    expect(screen.queryByText('0 anomalies')).not.toBeInTheDocument();
  });

  it('says the query failed, with its message, instead of giving an all-clear', () => {
    const base = props([]);
    const error = { refId: 'A', message: 'Query failed: HTTP 401 invalid bearer token (check the API token in the datasource settings)' };
    render(<AnomalyPanel {...base} data={{ ...base.data, state: LoadingState.Error, errors: [error] }} />);
    expect(screen.getByRole('alert')).toHaveTextContent('The query failed');
    expect(screen.getByRole('alert')).toHaveTextContent('check the API token');
    expect(screen.queryByText(/No anomalies/)).not.toBeInTheDocument();
    // An error next to a finished state (one target of several failed) is a failure too.
    const { container } = render(<AnomalyPanel {...base} data={{ ...base.data, state: LoadingState.Done, errors: [{ refId: 'B', message: 'boom' }] }} />);
    expect(container).toHaveTextContent('The query failed, so this panel cannot say whether there are anomalies: boom');
  });

  it('explains what to do when the query is not an anomalies query', () => {
    const notAnomalies = framesFromJSON(
      [{ schema: { refId: 'A', fields: [{ name: 'count', type: 'number' as never, config: {} }] }, data: { values: [[1]] } }],
      'A',
      'rate'
    );
    render(<AnomalyPanel {...props(notAnomalies)} />);
    expect(screen.getByText(/pick that query type/)).toBeInTheDocument();
  });

  it('takes the datasource from the options, then the row\'s own query, then the first Scorpio datasource', () => {
    const base = props([]);
    const row = { refId: 'A' };
    expect(datasourceResolver(base)(row)).toBe('scorpio-lad');
    expect(datasourceResolver({ ...base, options: { ...base.options, datasourceUid: 'other' } })(row)).toBe('other');
    // No request (or a query on another kind of datasource): the organisation's first Scorpio datasource, found by type.
    expect(datasourceResolver({ ...base, data: { ...base.data, request: undefined } })(row)).toBe('scorpio-lad');
    const onLoki = { ...base.data, request: { targets: [{ refId: 'A', datasource: { uid: 'loki', type: 'loki' } }] } as never };
    expect(datasourceResolver({ ...base, data: onLoki })(row)).toBe('scorpio-lad');
  });

  it('in a Mixed panel, sends each row\'s feedback and context to the datasource of the query that produced it', async () => {
    const base = props([]);
    // Anomaly ids are unique across sources (the backend's are), so B's rows get their own: with the
    // fixture's a0 in both frames the list had two rows of one key and the click landed on either.
    const fromB = anomaliesFrameJSON('B', 2, T0 + 60_000);
    fromB.data!.values[1] = ['b0', 'b1'];
    const series = [...framesFromJSON([anomaliesFrameJSON('A', 1)], 'A', 'anomalies'), ...framesFromJSON([fromB], 'B', 'anomalies')];
    const request = {
      targets: [
        { refId: 'A', datasource: { uid: 'scorpio-lad', type: TYPE } },
        { refId: 'B', datasource: { uid: '${other}', type: TYPE } },
      ],
    } as never;
    const replaceVariables = (s: string) => s.replace('${other}', 'lad-other');
    render(<AnomalyPanel {...base} data={{ ...base.data, series, request }} replaceVariables={replaceVariables} />);
    // Newest first: B's two rows (lad-other), then A's (scorpio-lad).
    const items = screen.getAllByRole('listitem');
    await userEvent.click(within(items[0]).getByRole('button', { name: 'False positive' }));
    await waitFor(() => expect(backendSrv.proxied).toEqual(['lad-other POST /api/feedback']));
    await userEvent.click(within(screen.getAllByRole('listitem').at(-1)!).getByRole('button', { name: 'Confirm anomaly' }));
    await waitFor(() => expect(backendSrv.proxied).toEqual(['lad-other POST /api/feedback', 'scorpio-lad POST /api/feedback']));
  });
});

/** The `review` query's table frame (backend/api/query.ts reviewFrame) with one item per template. */
function reviewFrameJSON(): DataFrameJSON {
  const f = (name: string, type: string) => ({ name, type: type as never, config: {} });
  return {
    schema: {
      name: 'review',
      refId: 'A',
      fields: [f('source', 'string'), f('line', 'string'), f('template', 'string'), f('score', 'number'), f('threshold', 'number'), f('flagged', 'boolean'), f('affected', 'number'), f('priority', 'number'), f('why', 'string')],
    },
    data: {
      values: [
        ['web', 'web'],
        ['WARN cache miss for key k17', 'ERROR disk quota exceeded for user u0 on /dev/sd0'],
        ['WARN cache miss for key <*>', 'ERROR disk quota exceeded for user <*> on <*>'],
        [0.38, 0.5],
        [0.4, 0.4],
        [false, true],
        [12, 1],
        [3.1, 1.2],
        ['score 0.38 is 0.02 below the threshold 0.40; 12 similar lines', 'score 0.50 is 0.10 above the threshold 0.40'],
      ],
    },
  };
}

function reviewReplies(r: RecordedRequest): WireReply | undefined {
  const q = /^\/api\/review\?limit=(\d+)&source=([^&]+)$/.exec(r.path);
  if (r.method === 'GET' && q) {
    const source = decodeURIComponent(q[2]);
    const items =
      source === 'web'
        ? [{ line: 'WARN cache miss for key k17', lineId: '5-0123456789', template: 'WARN cache miss for key <*>', score: 0.38, threshold: 0.4, flagged: false, affected: 12, templateLines: 9, priority: 3.1, why: ['score 0.38 is 0.02 below the threshold 0.40', '12 similar lines'] }]
        : [];
    return { body: { source, modelState: 'ready', threshold: 0.4, items } };
  }
  return defaultReplies(r);
}

describe('Review view', () => {
  it('asks the backend for each source\'s queue through the proxy, answers "Normal" and says what it changed; Undo takes it back', async () => {
    replyTo = reviewReplies;
    render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 3)]))} />);
    await userEvent.click(screen.getByRole('radio', { name: 'Review' }));
    const list = await screen.findByRole('list', { name: 'Review queue' });
    const item = await within(list).findByRole('listitem');
    expect(server.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual(['/api/review?limit=20&source=auth', '/api/review?limit=20&source=web']);
    expect(within(item).getByText('WARN cache miss for key k17')).toBeInTheDocument();
    expect(within(item).getByText(/0.02 below the threshold/)).toBeInTheDocument();
    expect(within(item).getByLabelText('an answer decides 12 recent lines')).toHaveTextContent('×12');
    expect(screen.getByText('1 to review')).toBeInTheDocument();

    await userEvent.click(within(item).getByRole('button', { name: 'Normal' }));
    expect(await within(item).findByRole('status')).toHaveTextContent('Answered Normal: 12 similar recent lines now treated as normal');
    const posts = server.requests.filter((r) => r.method === 'POST');
    // The item's stored line id goes with the answer (the Lines view keys feedback by it).
    expect(posts.map((p) => p.body)).toEqual([
      { message: 'WARN cache miss for key k17', kind: 'false_positive', source: 'web', template: 'WARN cache miss for key <*>', score: 0.38, anomalyId: '5-0123456789' },
    ]);
    // The answer leaves the queue: it is asked for again, and the item is listed under the answers given here.
    const reviewGets = () => server.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/review')).length;
    await waitFor(() => expect(reviewGets()).toBe(4));
    expect(within(item).getByText('Answered here (1)')).toBeInTheDocument();
    expect(screen.getByText('0 to review')).toBeInTheDocument();
    const id = `fb${nextFeedbackId - 1}`;
    await userEvent.click(within(item).getByRole('button', { name: 'Undo' }));
    await within(item).findByRole('button', { name: 'Normal' });
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/api/feedback/${id}`]);
    await waitFor(() => expect(reviewGets()).toBe(6));
    expect(screen.getByText('1 to review')).toBeInTheDocument();
    expect(screen.queryByText(/Answered here/)).toBeNull();
  });

  it("shows any item's surrounding lines by its stored line id, anomaly or not", async () => {
    replyTo = reviewReplies;
    render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 1)]), { grouping: 'review', contextLines: 2 })} />);
    const item = await within(await screen.findByRole('list', { name: 'Review queue' })).findByRole('listitem');
    await userEvent.click(within(item).getByRole('button', { name: 'Expand line and its context' }));
    const context = await within(item).findByRole('group', { name: 'Surrounding log lines' });
    expect(within(context).getByText('GET /cart 200')).toBeInTheDocument();
    expect(server.requests.map((r) => r.path)).toContain('/api/anomalies/5-0123456789/context?after=2&before=2');
  });

  it('opens on the review queue of a `review` query\'s frame without asking the backend, and does not submit twice', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    replyTo = (r) => (r.method === 'POST' ? { ...defaultReplies(r)!, delay: gate } : defaultReplies(r));
    render(<AnomalyPanel {...props(framesFromJSON([reviewFrameJSON()], 'A', 'review'))} />);
    const items = within(screen.getByRole('list', { name: 'Review queue' })).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    const anomaly = within(items[0]).getByRole('button', { name: 'Anomaly' });
    await userEvent.click(anomaly);
    expect(anomaly).toBeDisabled();
    expect(within(items[0]).getByRole('button', { name: 'Normal' })).toBeDisabled();
    await userEvent.click(anomaly);
    act(() => release());
    expect(await within(items[0]).findByRole('status')).toHaveTextContent('Answered Anomaly: 12 similar recent lines now flagged');
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(server.requests.filter((r) => r.method === 'GET')).toEqual([]);
  });

  it('shows a line\'s context when the panel holds it as a stored anomaly, and says so when it does not; arrows move between items', async () => {
    const series = [...frames([anomaliesFrameJSON('A', 1)]), ...framesFromJSON([reviewFrameJSON()], 'A', 'review')];
    render(<AnomalyPanel {...props(series, { grouping: 'review', contextLines: 2 })} />);
    const items = within(screen.getByRole('list', { name: 'Review queue' })).getAllByRole('listitem');
    await userEvent.click(within(items[1]).getByRole('button', { name: 'Expand line and its context' }));
    const context = await within(items[1]).findByRole('group', { name: 'Surrounding log lines' });
    expect(within(context).getByText('THE ANOMALY ITSELF')).toBeInTheDocument();
    expect(server.requests.map((r) => r.path)).toContain('/api/anomalies/a0/context?after=2&before=2');
    within(items[0]).getByRole('button', { name: 'Expand line and its context' }).focus();
    await userEvent.keyboard('{Enter}');
    expect(within(items[0]).getByText(/not among this panel.s anomalies/)).toBeInTheDocument();
    await userEvent.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(within(items[1]).getByRole('button', { name: /line and its context/ }));
  });

  it('a Viewer can read the queue, and an answer stops at the data proxy with a message saying why', async () => {
    setBackendSrv(backendSrvViaDataProxyStandIn(server.url, { role: 'Viewer' }));
    replyTo = reviewReplies;
    try {
      render(<AnomalyPanel {...props(frames([anomaliesFrameJSON('A', 1)]), { grouping: 'review' })} />);
      const item = await within(await screen.findByRole('list', { name: 'Review queue' })).findByRole('listitem');
      await userEvent.click(within(item).getByRole('button', { name: 'Anomaly' }));
      expect(await within(item).findByRole('alert')).toHaveTextContent('HTTP 403 plugin proxy route access denied (your Grafana role may not do this');
      expect(server.requests.filter((r) => r.method === 'POST')).toEqual([]);
    } finally {
      setBackendSrv(backendSrv);
    }
  });
});

describe('Rate events in the Lines view', () => {
  const SURGE_TEMPLATE = 'WARN cache miss for key <*>';
  const DROP_TEMPLATE = 'INFO heartbeat ok from scheduler';
  /** The backend's rate_events frame (backend/api/query.ts rateEventsFrame): a surge among the lines, an older drop. */
  function rateEventsJSON(): DataFrameJSON {
    return {
      schema: {
        refId: 'B',
        name: 'rate_events',
        fields: [
          { name: 'time', type: 'time' as never },
          { name: 'source', type: 'string' as never },
          { name: 'template', type: 'string' as never },
          { name: 'kind', type: 'string' as never },
          { name: 'observed', type: 'number' as never },
          { name: 'expected', type: 'number' as never },
          { name: 'interval', type: 'string' as never },
        ],
      },
      data: { values: [[T0 + 1500, T0 - 60_000], ['web', 'web'], [SURGE_TEMPLATE, DROP_TEMPLATE], ['surge', 'drop'], [150, 0], [0.3, 1], ['1 min', '1 min']] },
    };
  }
  const series = () => [...frames([anomaliesFrameJSON('A', 3)]), ...framesFromJSON([rateEventsJSON()], 'B', 'rate_events')];

  it('shows surge and drop rows among the lines by time: kind, template, observed against expected, time, source', () => {
    render(<AnomalyPanel {...props(series())} />);
    const items = screen.getAllByRole('listitem');
    expect(items).toHaveLength(5);
    // a2 (12:00:02), the surge (12:00:01.5), a1, a0, the drop (11:59:00)
    const surge = items[1];
    expect(surge.querySelector('[data-rate-event="surge"]')).not.toBeNull();
    expect(within(surge).getByText('Surge')).toBeInTheDocument();
    expect(within(surge).getByText(SURGE_TEMPLATE)).toBeInTheDocument();
    expect(within(surge).getByText('surge: 150 in 1 min, expected 0.3')).toBeInTheDocument();
    expect(within(surge).getByText('2026-11-25 12:00:01')).toBeInTheDocument();
    expect(within(surge).getByText('web')).toBeInTheDocument();
    const drop = items[4];
    expect(within(drop).getByText('Drop')).toBeInTheDocument();
    expect(within(drop).getByText(DROP_TEMPLATE)).toBeInTheDocument();
    expect(within(drop).getByText('drop: stopped: 0 in 1 min, expected 1')).toBeInTheDocument();
    expect(within(items[0]).getByText(/user u2/)).toBeInTheDocument();
    // the count names rows: lines and events
    expect(screen.getByText('5 anomalies')).toBeInTheDocument();
  });

  it('"Anomaly" on a drop posts the event\'s answer (no line, no anomaly id) and Undo withdraws it', async () => {
    render(<AnomalyPanel {...props(series())} />);
    const drop = screen.getAllByRole('listitem')[4];
    await userEvent.click(within(drop).getByRole('button', { name: 'Anomaly' }));
    expect(await within(drop).findByText('Answered: anomaly')).toBeInTheDocument();
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts.map((p) => [p.path, p.body])).toEqual([
      ['/api/feedback', { message: `rate drop: ${DROP_TEMPLATE}`, kind: 'confirmed', source: 'web', template: DROP_TEMPLATE }],
    ]);
    await userEvent.click(within(drop).getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(within(drop).getByRole('button', { name: 'Anomaly' })).toBeEnabled());
    expect(server.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('"Not an anomaly" on a surge posts a false positive for its template; the lines stay', async () => {
    render(<AnomalyPanel {...props(series())} />);
    const surge = screen.getAllByRole('listitem')[1];
    await userEvent.click(within(surge).getByRole('button', { name: 'Not an anomaly' }));
    expect(await within(surge).findByText('Answered: not an anomaly')).toBeInTheDocument();
    expect(server.requests.find((r) => r.method === 'POST')?.body).toEqual({ message: `rate surge: ${SURGE_TEMPLATE}`, kind: 'false_positive', source: 'web', template: SURGE_TEMPLATE });
    expect(screen.getAllByRole('listitem')).toHaveLength(5);
    // the notice names an answer about the rate, not a false positive line (the template's lines are not suppressed)
    expect(screen.getByText('Answered not an anomaly', { exact: false })).toBeInTheDocument();
    expect(screen.queryByText('Marked as false positive', { exact: false })).toBeNull();
    expect(screen.getAllByRole('listitem').filter((i) => i.querySelector('[data-suppressed]') !== null)).toHaveLength(0);
  });
});
