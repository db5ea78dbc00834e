/**
 * Host page for the browser test: stands in for the part of Grafana that loads plugins. It hands the BUILT AMD
 * modules (dist/datasource/module.js, dist/panel/module.js) the shared packages Grafana provides at run time,
 * wires Grafana's BackendSrv to the page's own origin (where tests/browser/host-server.ts plays the data proxy),
 * runs the datasource's query and renders the panel inside Grafana's theme.
 * Bundled by esbuild from the real react / @grafana packages in node_modules; window.grafanaBootData is set
 * by an inline script before this bundle runs (@grafana/runtime reads it when it loads).
 */
import * as React from 'react';
import * as ReactDOM from 'react-dom';
import { createRoot } from 'react-dom/client';
import * as jsxRuntime from 'react/jsx-runtime';
import * as grafanaData from '@grafana/data';
import * as grafanaUi from '@grafana/ui';
import * as grafanaRuntime from '@grafana/runtime';
import * as rxjs from 'rxjs';
import * as emotionCss from '@emotion/css';
import type { BackendSrvRequest, FetchResponse } from '@grafana/runtime';

import { fakeDataSourceSrv } from '../../src/testing/dataSourceSrv';
import { grafanaErrorData, grafanaResponseData } from '../../src/testing/grafanaBackendSrv';

const { createTheme, dateTime, EventBusSrv, LoadingState, ThemeContext } = grafanaData;

const shared: Record<string, unknown> = {
  react: React,
  'react-dom': ReactDOM,
  'react/jsx-runtime': jsxRuntime,
  '@grafana/data': grafanaData,
  '@grafana/ui': grafanaUi,
  '@grafana/runtime': grafanaRuntime,
  rxjs,
  '@emotion/css': emotionCss,
};

type Define = ((deps: string[], factory: (...args: unknown[]) => unknown) => void) & { amd?: object };

/** Loads one AMD plugin module the way Grafana's SystemJS loader does: externals from `shared`, plus `module`. */
function loadPluginModule(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const define: Define = (deps, factory) => {
      try {
        const args = deps.map((dep) => {
          if (dep === 'module') {
            return { uri: url };
          }
          if (!(dep in shared)) {
            throw new Error(`${url} needs ${dep}, which the host does not provide`);
          }
          return shared[dep];
        });
        resolve(factory(...args) as Record<string, unknown>);
      } catch (err) {
        reject(err);
      }
    };
    define.amd = {};
    (window as unknown as { define: Define }).define = define;
    const script = document.createElement('script');
    script.src = url;
    script.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.appendChild(script);
  });
}

/** Grafana's BackendSrv over window.fetch, rejecting like Grafana does ({status, data, statusText}; src/testing/grafanaBackendSrv.ts). */
function fetchBackendSrv(): grafanaRuntime.BackendSrv {
  const request = async <T,>(options: BackendSrvRequest): Promise<FetchResponse<T>> => {
    const init: RequestInit = { method: options.method ?? 'GET', headers: { accept: 'application/json' } };
    if (options.data !== undefined) {
      init.body = JSON.stringify(options.data);
      init.headers = { ...init.headers, 'content-type': 'application/json' };
    }
    let res: Response;
    try {
      res = await fetch(options.url, init);
    } catch (err) {
      throw { status: 502, statusText: 'Bad Gateway', data: { message: String(err) }, config: options };
    }
    const data = grafanaResponseData(await res.text());
    const response = {
      // A failed answer's data as Grafana's BackendSrv reshapes it (a text body becomes {message, error, response}).
      data: (res.ok ? data : grafanaErrorData(data, res.statusText)) as T,
      status: res.status,
      statusText: res.statusText,
      ok: res.ok,
      headers: res.headers,
      redirected: res.redirected,
      type: res.type,
      url: res.url,
      config: options,
    } as FetchResponse<T>;
    if (!res.ok) {
      throw response;
    }
    return response;
  };
  const srv = {
    fetch: <T,>(options: BackendSrvRequest) => rxjs.from(request<T>(options)),
    datasourceRequest: request,
    request: async <T,>(options: BackendSrvRequest) => (await request<T>(options)).data,
    get: async (url: string) => (await request({ url })).data,
    post: async (url: string, data?: unknown) => (await request({ url, method: 'POST', data })).data,
    put: async (url: string, data?: unknown) => (await request({ url, method: 'PUT', data })).data,
    patch: async (url: string, data?: unknown) => (await request({ url, method: 'PATCH', data })).data,
    delete: async (url: string, data?: unknown) => (await request({ url, method: 'DELETE', data })).data,
    chunked: () => {
      throw new Error('not used');
    },
  };
  return srv as unknown as grafanaRuntime.BackendSrv;
}

/** Template service of a dashboard without variables. */
const noVariables = {
  getVariables: () => [],
  replace: (target?: string) => target ?? '',
  containsTemplate: () => false,
  updateTimeRange: () => {},
} as unknown as grafanaRuntime.TemplateSrv;

interface HostApi {
  /** Re-runs the datasource query and re-renders the panel in the given theme. */
  render(mode: 'dark' | 'light'): Promise<number>;
  renderMs: number;
}

const base = '/public/plugins/scorpio-lad-app';

/** The app's root page (dist/module.js), as Grafana renders it under /a/scorpio-lad-app. */
async function renderApp(mode: 'dark' | 'light') {
  const appModule = await loadPluginModule(`${base}/module.js`);
  const Root = (appModule.plugin as grafanaData.AppPlugin).root!;
  const theme = createTheme({ colors: { mode } });
  document.body.style.background = theme.colors.background.canvas;
  createRoot(document.getElementById('root')!).render(
    <ThemeContext.Provider value={theme}>
      <div data-testid="app-frame" style={{ width: 1100, padding: 16, color: theme.colors.text.primary, fontFamily: theme.typography.fontFamily }}>
        <Root
          meta={{ id: 'scorpio-lad-app', name: 'Scorpio', type: grafanaData.PluginType.app, enabled: true, jsonData: {} } as grafanaData.AppPluginMeta}
          basename="/a/scorpio-lad-app"
          path="/a/scorpio-lad-app/overview"
          query={{}}
          onNavChanged={() => {}}
        />
      </div>
    </ThemeContext.Provider>
  );
}

/** The datasource's settings page as Grafana shows it: its ConfigEditor and the result of "Save & test". */
async function renderDatasourceSettings(mode: 'dark' | 'light', uid: string) {
  const dsModule = await loadPluginModule(`${base}/datasource/module.js`);
  const dsPlugin = dsModule.plugin as grafanaData.DataSourcePlugin<grafanaData.DataSourceApi>;
  const DataSource = dsPlugin.DataSourceClass as unknown as new (s: grafanaData.DataSourceInstanceSettings) => grafanaData.DataSourceApi;
  const datasource = new DataSource({ id: 1, uid, type: 'scorpio-lad-datasource', name: 'Scorpio', url: `/api/datasources/proxy/uid/${uid}`, access: 'proxy', jsonData: {}, meta: dsPlugin.meta, readOnly: false } as grafanaData.DataSourceInstanceSettings);
  const result = await datasource.testDatasource();
  document.body.dataset.result = JSON.stringify(result);
  const ConfigEditor = dsPlugin.components.ConfigEditor!;
  const theme = createTheme({ colors: { mode } });
  document.body.style.background = theme.colors.background.canvas;
  const options = {
    id: 1, uid, orgId: 1, name: 'Scorpio', type: 'scorpio-lad-datasource', typeName: 'Scorpio LAD', typeLogoUrl: '', access: 'proxy', url: '',
    user: '', basicAuth: false, basicAuthUser: '', isDefault: true, readOnly: false, withCredentials: false,
    jsonData: { url: 'http://lad-backend:8080' }, secureJsonFields: { token: true },
  } as unknown as grafanaData.DataSourceSettings;
  createRoot(document.getElementById('root')!).render(
    <ThemeContext.Provider value={theme}>
      <div data-testid="settings-frame" style={{ width: 760, padding: 16, color: theme.colors.text.primary, fontFamily: theme.typography.fontFamily }}>
        <ConfigEditor options={options} onOptionsChange={() => {}} />
        <grafanaUi.Alert severity={result.status === 'success' ? 'success' : result.status === 'warning' ? 'warning' : 'error'} title="Save & test">
          {result.message}
        </grafanaUi.Alert>
      </div>
    </ThemeContext.Provider>
  );
}

async function main() {
  grafanaRuntime.setBackendSrv(fetchBackendSrv());
  grafanaRuntime.setTemplateSrv(noVariables);
  const params = new URLSearchParams(location.search);
  const mode = params.get('theme') === 'light' ? 'light' : 'dark';
  const uid = params.get('uid') ?? 'scorpio-lad';
  // The datasources Grafana's DataSourceSrv lists: the app page and the panel find the Scorpio one by type.
  grafanaRuntime.setDataSourceSrv(
    fakeDataSourceSrv([
      { uid: 'prometheus', type: 'prometheus', name: 'Prometheus', isDefault: true },
      { uid, type: 'scorpio-lad-datasource', name: 'Scorpio' },
    ])
  );
  if (params.get('page') === 'app') {
    await renderApp(mode);
    document.body.dataset.ready = 'true';
    return;
  }
  if (params.get('page') === 'settings') {
    await renderDatasourceSettings(mode, uid);
    document.body.dataset.ready = 'true';
    return;
  }
  const width = Number(params.get('width') ?? 1100);
  const height = Number(params.get('height') ?? 640);
  const limit = Number(params.get('limit') ?? 1000);
  const rateEvents = params.get('rate') === '1';

  const dsModule = await loadPluginModule(`${base}/datasource/module.js`);
  const panelModule = await loadPluginModule(`${base}/panel/module.js`);
  const dsPlugin = dsModule.plugin as grafanaData.DataSourcePlugin<grafanaData.DataSourceApi>;
  const panelPlugin = panelModule.plugin as grafanaData.PanelPlugin;
  const DataSource = dsPlugin.DataSourceClass as unknown as new (s: grafanaData.DataSourceInstanceSettings) => grafanaData.DataSourceApi;
  const datasource = new DataSource({
    id: 1,
    uid,
    type: 'scorpio-lad-datasource',
    name: 'Scorpio',
    // What Grafana sets for a proxy-access datasource: its data proxy URL.
    url: `/api/datasources/proxy/uid/${uid}`,
    access: 'proxy',
    jsonData: {},
    meta: dsPlugin.meta,
    readOnly: false,
  } as grafanaData.DataSourceInstanceSettings);
  const Panel = panelPlugin.panel!;
  const root = createRoot(document.getElementById('root')!);
  const eventBus = new EventBusSrv();

  const api: HostApi = {
    renderMs: 0,
    async render(mode) {
      const started = performance.now();
      const now = Date.now();
      const range = { from: dateTime(now - 3600_000), to: dateTime(now + 300_000), raw: { from: 'now-1h', to: 'now+5m' } };
      const request = {
        requestId: 'host',
        interval: '1m',
        intervalMs: 60_000,
        maxDataPoints: 1000,
        range,
        scopedVars: {},
        targets: [
          { refId: 'A', datasource: { uid, type: 'scorpio-lad-datasource' }, queryType: 'anomalies', includeSuppressed: true, limit },
          // `?rate=1`: the surges and drops too, as a dashboard's second query (the panel shows them as rows of their own)
          ...(rateEvents ? [{ refId: 'B', datasource: { uid, type: 'scorpio-lad-datasource' }, queryType: 'rate_events' }] : []),
        ],
        timezone: 'utc',
        app: 'dashboard',
        startTime: now,
      } as unknown as grafanaData.DataQueryRequest;
      // As Grafana's query runner hands a panel its data: Loading before the answer, Error (with the message) when
      // the datasource's query fails, Done otherwise. `?state=loading` holds the panel in the first state.
      let data: grafanaData.PanelData;
      if (params.get('state') === 'loading') {
        data = { state: LoadingState.Loading, series: [], timeRange: range, request };
      } else {
        try {
          const response = await rxjs.lastValueFrom(datasource.query(request) as rxjs.Observable<grafanaData.DataQueryResponse>);
          data = { state: response.errors?.length ? LoadingState.Error : LoadingState.Done, series: response.data, errors: response.errors, timeRange: range, request };
        } catch (err) {
          data = { state: LoadingState.Error, series: [], errors: [{ message: err instanceof Error ? err.message : String(err) }], timeRange: range, request };
        }
      }
      const theme = createTheme({ colors: { mode } });
      document.body.style.background = theme.colors.background.canvas;
      document.body.dataset.theme = mode;
      await new Promise<void>((resolve) => {
        root.render(
          <ThemeContext.Provider value={theme}>
            <div
              data-testid="panel-frame"
              style={{ width, height, padding: 8, background: theme.colors.background.primary, color: theme.colors.text.primary, fontFamily: theme.typography.fontFamily }}
            >
              <Panel
                id={1}
                data={data}
                timeRange={range}
                timeZone="utc"
                options={{ showSuppressed: true }}
                transparent={false}
                width={width - 16}
                height={height - 16}
                fieldConfig={{ defaults: {}, overrides: [] }}
                renderCounter={0}
                title="Anomalous lines"
                eventBus={eventBus}
                onOptionsChange={() => {}}
                onFieldConfigChange={() => {}}
                replaceVariables={(s: string) => s}
                onChangeTimeRange={() => {}}
              />
            </div>
          </ThemeContext.Provider>
        );
        requestAnimationFrame(() => resolve());
      });
      api.renderMs = performance.now() - started;
      return data.series.length;
    },
  };
  (window as unknown as { ladHost: HostApi }).ladHost = api;
  await api.render(mode);
  document.body.dataset.ready = 'true';
}

main().catch((err: unknown) => {
  document.body.dataset.error = err instanceof Error ? `${err.message}\n${err.stack}` : String(err);
  console.error(err);
});
