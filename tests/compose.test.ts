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
  profiles?: string[];
  working_dir?: string;
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
}
// merge: the cluster services share their block through YAML merge keys (<<: *lad-cluster), as compose reads them.
const compose = parse(read('docker-compose.yaml'), { merge: true }) as Compose;
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

/**
 * A compose value with its variables substituted from `hostEnv` as compose does: `${VAR}`, `${VAR:-default}`
 * (default when unset or empty) and `${VAR:?message}` (refused when unset or empty).
 */
function interpolate(value: string, hostEnv: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_all, name: string, op: string | undefined, arg: string) => {
    const set = hostEnv[name] !== undefined && hostEnv[name] !== '';
    if (op === '?' && !set) {
      throw new Error(`required variable ${name} is missing a value: ${arg}`);
    }
    return set ? hostEnv[name] : op === '-' ? arg : '';
  });
}

/** Every environment entry of a service as its container sees it, given the host's environment. */
function containerEnv(service: Service, hostEnv: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), hostEnv)]));
}

/** A host environment with the one variable compose requires. */
const HOST_ENV = { LAD_API_TOKEN: 'compose-token-1234' };

/** The Scorpio datasource's URL as Grafana provisions it: its ${VAR}s come from the grafana container's environment. */
function scorpioUrl(hostEnv: Record<string, string>): URL {
  return new URL(interpolate(String(scorpioDs.jsonData!.url), containerEnv(grafana, { ...HOST_ENV, ...hostEnv })));
}

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
    // Without SCORPIO_BACKEND_URL on the host (the default stack): the embedded backend.
    const url = scorpioUrl({});
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
    // Every proxy route (one per read or write under ROUTE_PATH; tests/manifest.test.ts checks them per purpose)
    // forwards to the datasource's URL with the token.
    const routes = json('src/datasource/plugin.json').routes as Array<{ path: string; url: string; headers: unknown }>;
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      expect(route.path.startsWith(`${ROUTE_PATH}/`)).toBe(true);
      expect(route.url.startsWith('{{ .JsonData.url }}/')).toBe(true);
      expect(route.headers).toEqual([{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }]);
    }
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

// The cluster profile (docs/cluster.md): the same checkout in cluster mode, as separate services per role.
const DEFAULT_SERVICES = ['grafana', 'lad-backend', 'prometheus'];
const CLUSTER_REPLICAS: Record<string, number> = { ingest: 2, score: 3, query: 1 };

/** Every LAD_* variable backend/server/config.ts reads: its ENV_KEYS table and the ones it reads directly (env.LAD_X). */
const configSource = read('backend/server/config.ts');
const SETTINGS_READ = new Set([...configSource.matchAll(/^\s+(LAD_\w+): \{ path:/gm), ...configSource.matchAll(/\benv\.(LAD_\w+)/g)].map((m) => m[1]));

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  authorization?: unknown;
  static_configs?: Array<{ targets: string[] }>;
  dns_sd_configs?: Array<{ names: string[]; type: string; port: number }>;
}

/** Every string in a parsed YAML tree. */
function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node && typeof node === 'object') return Object.values(node).flatMap(strings);
  return [];
}

function dependsOn(service: Service): string[] {
  return Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
}

/**
 * What is wrong with the cluster profile of `c` against the code (backend/server/config.ts, package.json), the
 * default stack and the Prometheus config `prom`; [] when nothing. A list rather than assertions, so the test
 * below can show that each kind of mistake is caught.
 */
function clusterProblems(c: Compose, prom: { scrape_configs: ScrapeConfig[] }): string[] {
  const problems: string[] = [];
  const embedded = c.services['lad-backend'];
  for (const [name, service] of Object.entries(c.services)) {
    if (DEFAULT_SERVICES.includes(name)) {
      // `docker compose up` without a profile starts exactly the default stack, as before the cluster profile.
      if (service.profiles !== undefined) problems.push(`${name}: a default service has profiles ${JSON.stringify(service.profiles)}`);
    } else if (JSON.stringify(service.profiles) !== JSON.stringify(['cluster'])) {
      problems.push(`${name}: not a default service, so it must have profiles [cluster], has ${JSON.stringify(service.profiles)}`);
    }
  }
  // Compose substitutes variables in every service before it applies profiles: a variable required only by the
  // cluster services would stop the default stack too. LAD_API_TOKEN is required by the default stack already.
  for (const text of strings(c.services)) {
    for (const m of text.matchAll(/\$\{(\w+):?\?/g)) {
      if (m[1] !== 'LAD_API_TOKEN') problems.push(`\${${m[1]}:?...}: only LAD_API_TOKEN may be required (compose checks it without the profile too)`);
    }
  }
  const startEntry = /node (\S+)$/.exec(json('package.json').scripts.start)?.[1];
  const lad = Object.entries(c.services).filter(([name, s]) => !DEFAULT_SERVICES.includes(name) && s.image === embedded.image);
  const byRole: Record<string, string[]> = {};
  for (const [name, service] of lad) {
    const at = (what: string) => problems.push(`${name}: ${what}`);
    if (service.working_dir !== embedded.working_dir || mountOf(service, '.') !== mountOf(embedded, '.')) at('does not run the mounted checkout as lad-backend does');
    if (JSON.stringify(service.command) !== JSON.stringify(['node', startEntry])) at(`command ${JSON.stringify(service.command)} is not the built entry of npm start (${startEntry})`);
    for (const key of Object.keys(service.environment ?? {})) {
      if (!SETTINGS_READ.has(key)) at(`${key} is not a setting backend/server/config.ts reads`);
    }
    const token = service.environment?.LAD_API_TOKEN;
    if (!/^\$\{LAD_API_TOKEN:\?[^}]+\}$/.test(token ?? '') || token !== embedded.environment!.LAD_API_TOKEN) at('LAD_API_TOKEN is not required as for lad-backend');
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(containerEnv(service, HOST_ENV));
    } catch (err) {
      at(`loadConfig: ${(err as Error).message}`);
      continue;
    }
    if (config.mode !== 'cluster') at(`mode ${config.mode}`);
    if (config.roles.length !== 1) at(`roles ${config.roles.join(',')}: one role per service`);
    (byRole[config.roles.join(',')] ??= []).push(name);
    if (!service.healthcheck?.test.join(' ').includes(`127.0.0.1:${config.port}/api/health`)) at(`healthcheck does not ask port ${config.port}`);

    const nats = new URL(config.cluster.natsUrl!);
    const natsService = c.services[nats.hostname];
    if (nats.protocol !== 'nats:' || !natsService || !/^nats:/.test(natsService.image)) {
      at(`LAD_NATS_URL ${nats.href} is not a compose nats service`);
    } else {
      const args = natsService.command ?? [];
      const store = args[args.indexOf('-sd') + 1];
      if (!args.includes('-js') || !args.includes('-sd') || !natsService.volumes?.some((v) => v.split(':')[1] === store)) at(`${nats.hostname} does not run JetStream with its store (-sd) in a volume`);
      // nats-server listens on 4222 unless told otherwise (-p/--port).
      const port = args.includes('-p') ? Number(args[args.indexOf('-p') + 1]) : 4222;
      if (Number(nats.port || 4222) !== port) at(`LAD_NATS_URL port ${nats.port} is not ${nats.hostname}'s ${port}`);
    }
    const pg = new URL(config.cluster.postgresUrl!);
    const pgService = c.services[pg.hostname];
    if (!/^postgres(ql)?:$/.test(pg.protocol) || !pgService || !/^postgres:15\b/.test(pgService.image)) {
      at(`LAD_POSTGRES_URL ${pg.host} is not a compose postgres:15 service`);
    } else {
      // The official image's defaults: user postgres, database named as the user, port 5432.
      const pgEnv = containerEnv(pgService, HOST_ENV);
      const user = pgEnv.POSTGRES_USER ?? 'postgres';
      if (decodeURIComponent(pg.username) !== user || pg.pathname !== `/${pgEnv.POSTGRES_DB ?? user}` || Number(pg.port || 5432) !== 5432) {
        at(`LAD_POSTGRES_URL user/database/port do not match ${pg.hostname}'s`);
      }
      for (const hostEnv of [HOST_ENV, { ...HOST_ENV, LAD_POSTGRES_PASSWORD: 'a-chosen-password' }]) {
        const password = decodeURIComponent(new URL(loadConfig(containerEnv(service, hostEnv)).cluster.postgresUrl!).password);
        if (password !== containerEnv(pgService, hostEnv).POSTGRES_PASSWORD) at(`LAD_POSTGRES_URL's password is not ${pg.hostname}'s POSTGRES_PASSWORD (host env ${JSON.stringify(hostEnv)})`);
      }
      if (!pgService.volumes?.some((v) => v.split(':')[1] === '/var/lib/postgresql/data')) at(`${pg.hostname} keeps its data outside a volume`);
    }
    for (const needed of [nats.hostname, pg.hostname]) {
      if (!dependsOn(service).includes(needed)) at(`does not depend on ${needed}`);
    }
  }
  for (const [role, count] of Object.entries(CLUSTER_REPLICAS)) {
    if ((byRole[role] ?? []).length !== count) problems.push(`role ${role}: ${(byRole[role] ?? []).length} services, expected ${count}`);
  }
  // Two services publishing the same host port could not start together.
  const hostPorts = Object.values(c.services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));
  if (new Set(hostPorts).size !== hostPorts.length) problems.push(`host ports published twice: ${hostPorts.join(', ')}`);

  // Grafana reaches the query replica when the host sets SCORPIO_BACKEND_URL; Prometheus finds it by name.
  const queries = (byRole.query ?? []).sort();
  const queryPort = queries.length ? Number(containerEnv(c.services[queries[0]], HOST_ENV).LAD_PORT) : NaN;
  for (const q of queries) {
    const url = `http://${q}:${queryPort}`;
    const grafanaEnv = containerEnv(c.services.grafana, { ...HOST_ENV, SCORPIO_BACKEND_URL: url });
    if (interpolate(String(scorpioDs.jsonData!.url), grafanaEnv) !== url) problems.push(`SCORPIO_BACKEND_URL=${url} does not reach Grafana's Scorpio datasource`);
  }
  const scorpioJob = prom.scrape_configs.find((j) => j.job_name === 'scorpio');
  const clusterJob = prom.scrape_configs.find((j) => j.job_name === 'scorpio-cluster');
  const sd = clusterJob?.dns_sd_configs?.[0];
  if (!clusterJob || clusterJob.metrics_path !== '/metrics' || JSON.stringify(clusterJob.authorization) !== JSON.stringify(scorpioJob?.authorization)) {
    problems.push('prometheus.yml: job scorpio-cluster does not scrape /metrics with the token as job scorpio does');
  } else {
    // every role serves /metrics (workers count the scored lines and anomalies), all on the same port
    const roleServices = Object.values(byRole).flat().sort();
    if (JSON.stringify([...(sd?.names ?? [])].sort()) !== JSON.stringify(roleServices) || sd?.port !== queryPort || sd?.type !== 'A') {
      problems.push(`prometheus.yml: job scorpio-cluster finds ${JSON.stringify(sd)}, the cluster role services are ${roleServices.join(',')} on ${queryPort}`);
    }
  }
  return problems;
}

describe('the cluster profile agrees with the code and leaves the default stack alone', () => {
  it('2 ingest, 3 scoring and 1 query services in cluster mode, on the compose nats and postgres, token required', () => {
    expect(clusterProblems(compose, promConfig)).toEqual([]);
    // The settings really reach the configuration: each role, its engines, listening for the other containers.
    const ingest = loadConfig(containerEnv(compose.services['lad-ingest-1'], HOST_ENV));
    expect(ingest).toMatchObject({ mode: 'cluster', roles: ['ingest'], host: '0.0.0.0', port: 8080, apiToken: HOST_ENV.LAD_API_TOKEN });
    expect(ingest.cluster).toEqual({ natsUrl: 'nats://nats:4222', postgresUrl: 'postgres://postgres:scorpio@postgres:5432/postgres', leaseSeconds: 10 });
    expect(() => containerEnv(compose.services['lad-query'], {})).toThrow(/required variable LAD_API_TOKEN/);
    expect([...SETTINGS_READ]).toEqual(expect.arrayContaining(['LAD_MODE', 'LAD_ROLES', 'LAD_NATS_URL', 'LAD_POSTGRES_URL', 'LAD_API_TOKEN', 'LAD_API_TOKEN_FILE']));
  });

  it('the default stack has no profile and its Scorpio datasource still reaches lad-backend', () => {
    for (const name of DEFAULT_SERVICES) {
      expect({ name, profiles: compose.services[name].profiles }).toEqual({ name, profiles: undefined });
    }
    expect(scorpioUrl({}).href).toBe('http://lad-backend:8080/');
    expect(scorpioUrl({ SCORPIO_BACKEND_URL: 'http://lad-query:8080' }).hostname).toBe('lad-query');
    // The command in compose's header and the README starts the profile with the datasource on the query replica.
    const command = /SCORPIO_BACKEND_URL=http:\/\/([\w-]+):(\d+)/;
    for (const text of [read('docker-compose.yaml'), read('README.md')]) {
      const [, host, port] = command.exec(text) ?? [];
      expect(loadConfig(containerEnv(compose.services[host], HOST_ENV))).toMatchObject({ roles: ['query'], port: Number(port) });
      expect(text).toContain('--profile cluster');
    }
  });

  it('each kind of mistake is caught (the check can fail)', () => {
    const mutated = (change: (c: Compose, prom: { scrape_configs: ScrapeConfig[] }) => void): string[] => {
      const c = structuredClone(compose);
      const prom = structuredClone(promConfig) as { scrape_configs: ScrapeConfig[] };
      change(c, prom);
      return clusterProblems(c, prom);
    };
    const env = (c: Compose, name: string) => c.services[name].environment!;
    const cases: Array<[string, (c: Compose, prom: { scrape_configs: ScrapeConfig[] }) => void, RegExp]> = [
      ['a worker missing', (c) => delete c.services['lad-score-3'], /role score: 2 services, expected 3/],
      ['an unknown role', (c) => (env(c, 'lad-query').LAD_ROLES = 'querry'), /lad-query: loadConfig: .*roles/],
      ['a setting the code does not read', (c) => (env(c, 'lad-ingest-1').LAD_NATS_SERVER = 'nats://nats:4222'), /LAD_NATS_SERVER is not a setting/],
      ['NATS at another host', (c) => (env(c, 'lad-score-1').LAD_NATS_URL = 'nats://natz:4222'), /LAD_NATS_URL nats:\/\/natz:4222\/? is not a compose nats service/],
      ['NATS at another port', (c) => (env(c, 'lad-score-1').LAD_NATS_URL = 'nats://nats:4223'), /LAD_NATS_URL port 4223/],
      ['JetStream off', (c) => (c.services.nats.command = ['-sd', '/data']), /does not run JetStream/],
      ['another PostgreSQL password', (c) => (c.services.postgres.environment!.POSTGRES_PASSWORD = '${PGPASS:-other}'), /password is not postgres's POSTGRES_PASSWORD/],
      ['a PostgreSQL port that is not 5432', (c) => (env(c, 'lad-query').LAD_POSTGRES_URL = 'postgres://postgres:scorpio@postgres:5433/postgres'), /lad-query: LAD_POSTGRES_URL user\/database\/port/],
      ['a token with a default', (c) => (env(c, 'lad-ingest-2').LAD_API_TOKEN = '${LAD_API_TOKEN:-changeme}'), /lad-ingest-2: LAD_API_TOKEN is not required/],
      ['a default service in a profile', (c) => (c.services['lad-backend'].profiles = ['embedded']), /lad-backend: a default service has profiles/],
      ['a cluster service without the profile', (c) => delete c.services.nats.profiles, /nats: not a default service/],
      ['another required variable', (c) => (c.services.nats.image = 'nats:${NATS_VERSION:?set it}'), /NATS_VERSION:\?...\}: only LAD_API_TOKEN/],
      ['a second service on host port 8081', (c) => (c.services['lad-query'].ports = ['8081:8080']), /host ports published twice/],
      ['Prometheus missing a scoring worker', (_c, prom) => (prom.scrape_configs.find((j) => j.job_name === 'scorpio-cluster')!.dns_sd_configs![0].names = ['lad-ingest-1', 'lad-ingest-2', 'lad-query', 'lad-score-1', 'lad-score-2']), /job scorpio-cluster finds/],
      ['Grafana not passing SCORPIO_BACKEND_URL on', (c) => (c.services.grafana.environment!.SCORPIO_BACKEND_URL = 'http://lad-backend:8080'), /SCORPIO_BACKEND_URL=http:\/\/lad-query:8080 does not reach/],
    ];
    for (const [what, change, expected] of cases) {
      const problems = mutated(change);
      expect({ what, caught: problems.some((p) => expected.test(p)) }).toEqual({ what, caught: true });
    }
  });
});
