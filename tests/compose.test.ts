import fs from 'fs';
import path from 'path';
import { parse } from 'yaml';

import { loadConfig } from '../backend/server/config';
import { Metrics } from '../backend/metrics/metrics';
import {
  APP_ID,
  DASHBOARD_UID,
  DATASOURCE_TYPE,
  DEFAULT_DATASOURCE_UID,
  PANEL_ID,
  ROUTE_PATH,
} from '../src/shared/constants';

// docker-compose cannot run here (no Docker engine): this checks that compose, provisioning, the plugin manifests,
// the Prometheus config and the backend's defaults agree with each other.

const root = path.resolve(__dirname, '..');
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const yaml = (p: string) => parse(read(p));
const json = (p: string) => JSON.parse(read(p));

interface Service {
  image: string;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
}
const compose = yaml('docker-compose.yaml') as { services: Record<string, Service> };
const grafana = compose.services.grafana;
const backend = compose.services['lad-backend'];
const prometheus = compose.services.prometheus;

const datasources = (yaml('provisioning/datasources/datasources.yaml') as {
  datasources: Array<{ name: string; type: string; uid: string; url?: string; jsonData?: Record<string, unknown>; secureJsonData?: Record<string, string> }>;
}).datasources;
const scorpioDs = datasources.find((d) => d.type === DATASOURCE_TYPE)!;
const promDs = datasources.find((d) => d.type === 'prometheus')!;
const dashboard = json('provisioning/dashboards/json/log-anomalies.json');
const alerting = yaml('provisioning/alerting/anomaly-rate.yaml');
const promConfig = yaml('provisioning/prometheus/prometheus.yml');
const promRules = yaml('provisioning/prometheus/rules.yml');

/** Container-side path of a compose volume whose host side is `host`. */
function mountOf(service: Service, host: string): string | undefined {
  return service.volumes?.map((v) => v.split(':')).find(([h]) => path.resolve(root, h) === path.resolve(root, host))?.[1];
}

/** Every datasource uid a dashboard or rule refers to (panels, targets, variables, annotations). */
function datasourceUids(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    node.forEach((n) => datasourceUids(n, out));
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'datasource' && value && typeof value === 'object' && 'uid' in value) {
        out.add(String((value as { uid: string }).uid));
      } else if (key === 'datasourceUid' && value) {
        out.add(String(value));
      } else {
        datasourceUids(value, out);
      }
    }
  }
  return out;
}

describe('compose, provisioning, plugin manifests and backend defaults agree', () => {
  const backendDefaults = loadConfig({});

  it('plugin ids: manifests, constants, compose unsigned-plugin list and apps.yaml', () => {
    expect(json('plugin.json').id).toBe(APP_ID);
    expect(json('src/datasource/plugin.json').id).toBe(DATASOURCE_TYPE);
    expect(json('src/panel/plugin.json').id).toBe(PANEL_ID);
    const allowed = grafana.environment!.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS.split(',');
    expect(allowed.sort()).toEqual([APP_ID, DATASOURCE_TYPE, PANEL_ID].sort());
    const apps = yaml('provisioning/plugins/apps.yaml').apps;
    expect(apps).toEqual([expect.objectContaining({ type: APP_ID, disabled: false })]);
  });

  it('grafana mounts the built plugin under its app id and the provisioning folder', () => {
    expect(grafana.image).toMatch(/^grafana\/grafana:\$\{GRAFANA_VERSION:-12\.4\.\d+\}$/);
    expect(mountOf(grafana, './dist')).toBe(`/var/lib/grafana/plugins/${APP_ID}`);
    expect(mountOf(grafana, './provisioning')).toBe('/etc/grafana/provisioning');
  });

  it('the backend service listens where the Scorpio datasource and Prometheus look for it', () => {
    const url = new URL(String(scorpioDs.jsonData!.url));
    expect(compose.services[url.hostname]).toBe(backend);
    const port = Number(backend.environment!.LAD_PORT ?? backendDefaults.port);
    expect(Number(url.port)).toBe(port);
    expect(backendDefaults.port).toBe(8080);
    expect(backend.ports).toContain(`${port}:${port}`);
    // The backend's default host is loopback only; in a container it must listen on every interface.
    expect(backendDefaults.host).toBe('127.0.0.1');
    expect(backend.environment!.LAD_HOST).toBe('0.0.0.0');
    expect(backend.command).toEqual(['npm', 'start']);
    expect(json('package.json').scripts.start).toContain('backend/dist/server/main.js');
    const scrape = promConfig.scrape_configs.find((s: { job_name: string }) => s.job_name === 'scorpio');
    expect(scrape.metrics_path).toBe('/metrics');
    expect(scrape.static_configs[0].targets).toEqual([`${url.hostname}:${port}`]);
  });

  it('the API token is required and reaches the backend, the datasource and the Prometheus scrape from one variable', () => {
    // `${VAR:?message}`: compose refuses to start without it (the backend listens beyond loopback).
    const required = /^\$\{LAD_API_TOKEN:\?[^}]+\}$/;
    expect(backend.environment!.LAD_API_TOKEN).toMatch(required);
    expect(grafana.environment!.LAD_API_TOKEN).toBe(backend.environment!.LAD_API_TOKEN);
    expect(scorpioDs.secureJsonData).toEqual({ token: '${LAD_API_TOKEN}' });
    // The backend would refuse this host without a token; with one it starts.
    expect(() => loadConfig({ LAD_HOST: backend.environment!.LAD_HOST })).toThrow(/LAD_API_TOKEN/);
    expect(loadConfig({ LAD_HOST: backend.environment!.LAD_HOST, LAD_API_TOKEN: 'compose-token' }).apiToken).toBe('compose-token');
    // Prometheus reads the same variable as a compose secret file.
    const secrets = (compose as unknown as { secrets: Record<string, { environment?: string }> }).secrets;
    expect(secrets.lad_api_token).toEqual({ environment: 'LAD_API_TOKEN' });
    expect((prometheus as Service & { secrets?: string[] }).secrets).toEqual(['lad_api_token']);
    const scrape = promConfig.scrape_configs.find((s: { job_name: string }) => s.job_name === 'scorpio');
    expect(scrape.authorization).toEqual({ type: 'Bearer', credentials_file: '/run/secrets/lad_api_token' });
    expect(backendDefaults.metricsPublic).toBe(false);
    // The read route (GET, the whole API under ROUTE_PATH); tests/manifest.test.ts checks the routes per purpose.
    const route = json('src/datasource/plugin.json').routes.find((r: { path: string }) => r.path === ROUTE_PATH);
    expect(route.path).toBe(ROUTE_PATH);
    expect(route.url).toBe('{{ .JsonData.url }}');
    expect(route.headers).toEqual([{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }]);
  });

  it('the Prometheus datasource points at the compose prometheus, which loads the checked config and rules', () => {
    const url = new URL(promDs.url!);
    expect(compose.services[url.hostname]).toBe(prometheus);
    expect(prometheus.ports).toContain(`${url.port}:9090`);
    expect(mountOf(prometheus, './provisioning/prometheus')).toBe('/etc/prometheus');
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(promConfig.rule_files).toEqual(['rules.yml']);
    expect(fs.existsSync(path.join(root, 'provisioning/prometheus', promConfig.rule_files[0]))).toBe(true);
  });

  it('the dashboard provider finds the Log anomalies dashboard, which uses only provisioned datasources', () => {
    const provider = yaml('provisioning/dashboards/dashboards.yaml').providers[0];
    const local = path.join(root, 'provisioning', path.relative('/etc/grafana/provisioning', provider.options.path));
    expect(fs.readdirSync(local)).toContain('log-anomalies.json');
    expect(dashboard.uid).toBe(DASHBOARD_UID);
    expect(dashboard.title).toBe('Log anomalies');
    const provisioned = new Set(datasources.map((d) => d.uid));
    expect(scorpioDs.uid).toBe(DEFAULT_DATASOURCE_UID);
    for (const uid of datasourceUids(dashboard)) {
      if (uid !== '-- Grafana --') {
        expect(provisioned).toContain(uid);
      }
    }
    const types = dashboard.panels.map((p: { type: string }) => p.type);
    expect(types).toEqual(expect.arrayContaining([PANEL_ID, 'timeseries', 'table', 'stat']));
    const queryTypes = dashboard.panels.flatMap((p: { targets?: Array<{ queryType?: string }> }) => (p.targets ?? []).map((t) => t.queryType));
    expect(queryTypes).toEqual(expect.arrayContaining(['anomalies', 'rate', 'templates']));
  });

  it('the Grafana-managed alert and the Prometheus rule alert on the same expression, threshold and duration', () => {
    const rule = alerting.groups[0].rules[0];
    for (const uid of datasourceUids(alerting)) {
      expect([...datasources.map((d) => d.uid), '__expr__']).toContain(uid);
    }
    const query = rule.data.find((d: { refId: string }) => d.refId === 'A');
    expect(query.datasourceUid).toBe(promDs.uid);
    const threshold = rule.data.find((d: { model: { type?: string } }) => d.model.type === 'threshold').model.conditions[0].evaluator;
    const promAlert = promRules.groups[0].rules.find((r: { alert?: string }) => r.alert === 'LogAnomalyRateHigh');
    expect(promAlert.expr).toBe(`${query.model.expr} > ${threshold.params[0]}`);
    expect(threshold.type).toBe('gt');
    expect(rule.for).toBe(promAlert.for);
    expect(rule.for).toBe('5m');
    expect(rule.dashboardUid).toBe(DASHBOARD_UID);
    expect(dashboard.panels.map((p: { id: number }) => p.id)).toContain(rule.panelId);
  });

  it('every lad_* metric the rules and dashboard use is one the backend exports', () => {
    const exported = new Set(new Metrics().registry.getMetricsAsArray().map((m) => m.name));
    const used = new Set<string>();
    for (const text of [read('provisioning/prometheus/rules.yml'), read('provisioning/alerting/anomaly-rate.yaml'), read('provisioning/dashboards/json/log-anomalies.json')]) {
      // Not after a colon: `source:lad_anomaly_ratio:rate5m` is our own recording rule, not a backend metric.
      for (const m of text.matchAll(/(?<![:\w])lad_[a-z_]+\b/g)) {
        used.add(m[0]);
      }
    }
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) {
      // Histograms and counters appear in PromQL with their exposition names; the registry holds the base name.
      const base = name.replace(/_(bucket|sum|count)$/, '');
      expect({ name, exported: exported.has(name) || exported.has(base) }).toEqual({ name, exported: true });
    }
  });
});
