import React, { useState } from 'react';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { DataSourceInstanceSettings, DataSourceSettings } from '@grafana/data';
import { setBackendSrv, setTemplateSrv, type TemplateSrv } from '@grafana/runtime';

import { ConfigEditor, urlProblem } from './ConfigEditor';
import { QueryEditor, sourceOptions } from './QueryEditor';
import { LadDataSource } from './datasource';
import { DEFAULT_VARIABLE_QUERY } from './variableQuery';
import { VariableQueryEditor } from './VariableQueryEditor';
import type { LadDataSourceOptions, LadQuery, LadSecureJsonData } from './types';
import { backendSrvViaDataProxyStandIn, startWireServer, type WireServer } from '../testing/wireBackend';

// The machine is shared and often loaded: a generous per-test limit (no test here measures time).
jest.setTimeout(30_000);

// jsdom has no canvas; Grafana's Combobox measures option text with one. Width by character count is enough here.
HTMLCanvasElement.prototype.getContext = (() => ({
  measureText: (text: string) => ({ width: text.length * 7 }),
  font: '',
})) as unknown as HTMLCanvasElement['getContext'];

// jsdom has no IntersectionObserver either (Combobox watches its menu with one); nothing here scrolls.
class NoopIntersectionObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
Object.assign(window, { IntersectionObserver: NoopIntersectionObserver });

type Settings = DataSourceSettings<LadDataSourceOptions, LadSecureJsonData>;

function baseSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    id: 1,
    uid: 'scorpio-lad',
    orgId: 1,
    name: 'Scorpio',
    type: 'scorpio-lad-datasource',
    typeName: 'Scorpio LAD',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...overrides,
  } as Settings;
}

/** Keeps the options in state the way Grafana's settings page does, and exposes the latest value. */
function StatefulConfig({ initial, onLatest }: { initial: Settings; onLatest: (s: Settings) => void }) {
  const [options, setOptions] = useState(initial);
  return (
    <ConfigEditor
      options={options}
      onOptionsChange={(o) => {
        setOptions(o);
        onLatest(o);
      }}
    />
  );
}

describe('ConfigEditor', () => {
  it('edits the backend URL into jsonData and flags a malformed one', async () => {
    let latest = baseSettings();
    render(<StatefulConfig initial={latest} onLatest={(s) => (latest = s)} />);
    const url = screen.getByLabelText('Backend URL');
    await userEvent.type(url, 'lad-backend');
    expect(latest.jsonData.url).toBe('lad-backend');
    expect(screen.getByText('Not a URL: write it like http://lad-backend:8080')).toBeInTheDocument();
    await userEvent.clear(url);
    await userEvent.type(url, 'http://lad-backend:8080');
    expect(latest.jsonData.url).toBe('http://lad-backend:8080');
    expect(screen.queryByText(/Not a URL/)).not.toBeInTheDocument();
  });

  it('keeps the optional Loki datasource uid and source label in jsonData', async () => {
    let latest = baseSettings();
    render(<StatefulConfig initial={latest} onLatest={(s) => (latest = s)} />);
    await userEvent.type(screen.getByLabelText('Loki datasource uid'), 'loki-prod');
    await userEvent.type(screen.getByLabelText('Loki source label'), 'service');
    expect(latest.jsonData).toMatchObject({ lokiDatasourceUid: 'loki-prod', lokiSourceLabel: 'service' });
  });

  it('keeps the token in secureJsonData and can reset a configured one', async () => {
    let latest = baseSettings({ secureJsonFields: { token: true } });
    render(<StatefulConfig initial={latest} onLatest={(s) => (latest = s)} />);
    expect(screen.getByDisplayValue('configured')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Reset' }));
    expect(latest.secureJsonFields.token).toBe(false);
    await userEvent.type(screen.getByLabelText('API token'), 'abc');
    expect(latest.secureJsonData?.token).toBe('abc');
    expect(JSON.stringify(latest.jsonData)).not.toContain('abc');
  });

  it('urlProblem accepts http(s) URLs only', () => {
    expect(urlProblem(undefined)).toMatch(/^Required/);
    expect(urlProblem('ftp://x')).toBe('Use an http:// or https:// URL');
    expect(urlProblem('https://lad.example.com/base')).toBeUndefined();
    expect(urlProblem('http://lad-backend:8080')).toBeUndefined();
  });

  it('urlProblem refuses what the route would splice wrongly: a trailing slash, a query, a fragment', async () => {
    expect(urlProblem('http://lad-backend:8080/')).toMatch(/^Remove the trailing slash/);
    expect(urlProblem('https://lad.example.com/base/')).toMatch(/^Remove the trailing slash/);
    expect(urlProblem('http://lad-backend:8080?x=1')).toMatch(/^Leave out \?query/);
    expect(urlProblem('http://lad-backend:8080#x')).toMatch(/^Leave out \?query/);
    // Why: through Grafana's route ({{ .JsonData.url }}/api/health) a trailing slash reaches the backend as //api/health.
    const server = await startWireServer((r) => (r.path === '/api/health' ? { body: { status: 'ok' } } : undefined));
    try {
      setBackendSrv(backendSrvViaDataProxyStandIn(`${server.url}/`));
      const ds = new LadDataSource({ uid: 'scorpio-lad', url: '/api/datasources/proxy/uid/scorpio-lad', jsonData: {}, meta: {} } as unknown as DataSourceInstanceSettings<LadDataSourceOptions>, new NoVariables());
      const result = await ds.testDatasource();
      expect(server.requests.map((r) => r.path)).toContain('//api/health');
      expect(result.status).toBe('error');
    } finally {
      await server.close();
    }
  });
});

class NoVariables implements TemplateSrv {
  getVariables() {
    return [{ name: 'source' }] as ReturnType<TemplateSrv['getVariables']>;
  }
  replace(t?: string) {
    return t ?? '';
  }
  containsTemplate() {
    return false;
  }
  updateTimeRange() {}
}

describe('QueryEditor against a server speaking the documented /api/sources wire format', () => {
  let server: WireServer;
  let ds: LadDataSource;

  beforeAll(async () => {
    server = await startWireServer((r) => (r.path === '/api/sources' ? { body: ['web', 'auth'] } : undefined));
    setBackendSrv(backendSrvViaDataProxyStandIn(server.url));
    setTemplateSrv(new NoVariables());
    ds = new LadDataSource(
      { uid: 'scorpio-lad', url: '/api/datasources/proxy/uid/scorpio-lad', jsonData: {}, meta: {} } as unknown as DataSourceInstanceSettings<LadDataSourceOptions>,
      new NoVariables()
    );
  });
  afterAll(() => server.close());

  function setup(query: LadQuery) {
    const onChange = jest.fn();
    const onRunQuery = jest.fn();
    render(<QueryEditor datasource={ds} query={query} onChange={onChange} onRunQuery={onRunQuery} />);
    return { onChange, onRunQuery };
  }

  it('switches the query type and runs the query', async () => {
    const { onChange, onRunQuery } = setup({ refId: 'A' });
    expect(screen.getByRole('radio', { name: 'Anomalies' })).toBeChecked();
    await userEvent.click(screen.getByRole('radio', { name: 'Anomaly rate' }));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'rate' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('shows the fields that apply to the query type', () => {
    setup({ refId: 'A', queryType: 'rate' });
    expect(screen.queryByLabelText('Search')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Min score')).not.toBeInTheDocument();
    expect(screen.getByLabelText('Include suppressed')).toBeInTheDocument();
  });

  it('writes min score, search, limit and include suppressed into the query', async () => {
    const { onChange } = setup({ refId: 'A', queryType: 'anomalies' });
    await userEvent.type(screen.getByLabelText('Min score'), '0.75');
    await userEvent.tab();
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ minScore: 0.75 }));
    await userEvent.type(screen.getByLabelText('Search'), 'timeout');
    await userEvent.tab();
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ search: 'timeout' }));
    expect(screen.getByLabelText('Limit')).toHaveValue(1000); // the default a new panel starts with
    await userEvent.clear(screen.getByLabelText('Limit'));
    await userEvent.type(screen.getByLabelText('Limit'), '25.7');
    await userEvent.tab();
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ limit: 25 }));
    await userEvent.click(screen.getByLabelText('Include suppressed'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ includeSuppressed: true }));
  });

  it('asks the backend for sources when the source picker opens', async () => {
    setup({ refId: 'A', source: 'web' });
    const picker = screen.getByRole('combobox');
    expect(picker).toHaveValue('web');
    const before = server.requests.filter((r) => r.path === '/api/sources').length;
    await userEvent.click(picker);
    await waitFor(() => expect(server.requests.filter((r) => r.path === '/api/sources').length).toBeGreaterThan(before));
  });

  it('offers all sources, dashboard variables and the backend sources, filtered by the typed text', async () => {
    const options = await sourceOptions(() => ds.client.sources(), [{ name: 'source' }], '');
    expect(options.map((o) => o.value)).toEqual(['', '$source', 'web', 'auth']);
    const filtered = await sourceOptions(() => ds.client.sources(), [{ name: 'source' }], 'AU');
    expect(filtered.map((o) => o.value)).toEqual(['auth']);
    const offline = await sourceOptions(() => Promise.reject(new Error('down')), [{ name: 'source' }], '');
    expect(offline.map((o) => o.value)).toEqual(['', '$source']);
  });
});

describe('VariableQueryEditor', () => {
  it('turns a variable saved with the old string API into the typed query, and shows what it lists', async () => {
    const onChange = jest.fn();
    const ds = new LadDataSource({ uid: 'scorpio-lad', url: '/api/datasources/proxy/uid/scorpio-lad', jsonData: {}, meta: {} } as DataSourceInstanceSettings<LadDataSourceOptions>);
    render(<VariableQueryEditor datasource={ds} query={'sources' as never} onChange={onChange} onRunQuery={() => {}} />);
    await waitFor(() => expect(onChange).toHaveBeenCalledWith(DEFAULT_VARIABLE_QUERY));
    expect(screen.getByRole('radio', { name: 'Log sources' })).toBeChecked();
  });
});
