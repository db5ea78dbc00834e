import fs from 'fs';
import path from 'path';
import { parse } from 'yaml';

import { urlProblem } from '../src/datasource/backendUrl';
import { DEFAULT_VARIABLE_QUERY, toVariableQuery } from '../src/datasource/variableQuery';

// How Grafana 12.4 reads the provisioning files, checked against its source (no Grafana server runs here).

const root = path.resolve(__dirname, '..');
const yaml = (p: string) => parse(fs.readFileSync(path.join(root, p), 'utf8'));

interface Provider {
  folder?: string;
  folderUid?: string;
  options: { foldersFromFilesStructure?: boolean };
}
interface Route {
  receiver?: string;
  object_matchers?: Array<[string, string, string]>;
  group_by?: string[];
  routes?: Route[];
}
interface AlertingFile {
  groups?: Array<{ folder: string; name: string; rules: Array<{ uid: string; title: string; labels?: Record<string, string> }> }>;
  contactPoints?: Array<{ name: string; receivers: Array<{ uid: string; type: string; settings: Record<string, string> }> }>;
  policies?: Array<Route & { orgId: number }>;
}

const providers = (yaml('provisioning/dashboards/dashboards.yaml') as { providers: Provider[] }).providers;
const alertingFiles = fs
  .readdirSync(path.join(root, 'provisioning/alerting'))
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => yaml(path.join('provisioning/alerting', f)) as AlertingFile);
const groups = alertingFiles.flatMap((f) => f.groups ?? []);

describe('provisioning puts the dashboards and the alert rule in one folder', () => {
  it('every dashboard provider and every rule group name the same folder, by title', () => {
    expect(groups.length).toBeGreaterThan(0);
    const titles = new Set([...providers.map((p) => p.folder), ...groups.map((g) => g.folder)]);
    expect([...titles]).toEqual(['Scorpio']);
  });

  it('no dashboard provider names its folder by uid, so it reuses the folder alerting created first', () => {
    // Alerting provisions before dashboards and finds or creates a rule group's folder by title only
    // (pkg/services/provisioning/alerting/rules_provisioner.go). A provider with `folderUid` looks the folder up by
    // uid instead (pkg/services/provisioning/dashboards/file_reader.go getOrCreateFolder), misses it and creates a
    // second folder with the same title (grafana/grafana#125079).
    for (const provider of providers) {
      expect(provider.folderUid).toBeUndefined();
      expect(provider.options.foldersFromFilesStructure).not.toBe(true);
    }
  });
});

describe('the anomaly-rate alert notifies someone', () => {
  const contactPoints = alertingFiles.flatMap((f) => f.contactPoints ?? []);
  const policies = alertingFiles.flatMap((f) => f.policies ?? []);
  const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yaml'), 'utf8')) as {
    services: { grafana: { environment: Record<string, string> } };
  };

  it('a webhook contact point takes its URL from an environment variable compose always sets', () => {
    expect(contactPoints).toHaveLength(1);
    const [webhook] = contactPoints[0].receivers;
    expect(webhook.type).toBe('webhook');
    const variable = /^\$\{?(\w+)\}?$/.exec(webhook.settings.url)?.[1];
    expect(variable).toBe('SCORPIO_ALERT_WEBHOOK_URL');
    // An empty URL would fail alerting provisioning, and with it Grafana's start: compose gives a default.
    expect(compose.services.grafana.environment[variable!]).toMatch(/^\$\{SCORPIO_ALERT_WEBHOOK_URL:-https?:\/\/[^}]+\}$/);
  });

  it('the policy tree routes the rule, by its alertname, to that contact point, one group per source', () => {
    const names = new Set(contactPoints.map((c) => c.name));
    expect(policies).toHaveLength(1);
    const [root] = policies;
    expect(names).toContain(root.receiver);
    const rule = groups[0].rules[0];
    const route = root.routes!.find((r) => r.object_matchers?.some(([label, op, value]) => label === 'alertname' && op === '=' && value === rule.title));
    expect(route).toBeDefined();
    expect(names).toContain(route!.receiver);
    expect(route!.group_by).toEqual(expect.arrayContaining(['alertname', 'grafana_folder', 'source']));
  });
});

describe('the dashboard variable uses the datasource variable API', () => {
  it('stores the typed variable query the datasource reads (not the old metricFindQuery string)', () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'provisioning/dashboards/json/log-anomalies.json'), 'utf8'));
    const variable = dashboard.templating.list.find((v: { name: string }) => v.name === 'source');
    expect(typeof variable.query).toBe('object');
    expect(toVariableQuery(variable.query)).toEqual(DEFAULT_VARIABLE_QUERY);
  });
});

describe('the provisioned Scorpio datasource URL fits its plugin.json routes', () => {
  it('compose\'s default backend URL is one the routes can append /api/... to (no trailing slash, query or fragment)', () => {
    // The routes are `{{ .JsonData.url }}/api/...` and Grafana sends the spliced text as it stands
    // (pkg/api/pluginproxy/utils.go ApplyRoute): "http://b:8080/" would ask the backend for //api/health.
    const ds = (yaml('provisioning/datasources/datasources.yaml') as { datasources: Array<{ type: string; jsonData: { url: string } }> }).datasources.find(
      (d) => d.type === 'scorpio-lad-datasource'
    )!;
    const variable = /^\$\{(\w+)\}$/.exec(ds.jsonData.url)![1];
    const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yaml'), 'utf8')) as { services: { grafana: { environment: Record<string, string> } } };
    const fallback = /^\$\{\w+:-([^}]+)\}$/.exec(compose.services.grafana.environment[variable])![1];
    expect({ fallback, problem: urlProblem(fallback) }).toEqual({ fallback: 'http://lad-backend:8080', problem: undefined });
  });
});
