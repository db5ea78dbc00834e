import fs from 'fs';
import path from 'path';
import { z } from 'zod';

import { proxyDecision, type OrgRole, type PluginRoute } from '../src/testing/grafanaDataProxy';

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const readJson = (p: string) => JSON.parse(fs.readFileSync(p, 'utf8'));

/**
 * The rules of Grafana's plugin.json schema (grafana/grafana docs/sources/developers/plugins/plugin.schema.json),
 * written out in zod: required fields, id pattern, type enum, no unknown top-level or info keys, version/date and
 * grafanaDependency patterns, include types, route shape.
 */
const ID = /^[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource|secretsmanager|transformer)$/;
const pluginJsonSchema = z
  .object({
    $schema: z.string().optional(),
    id: z.string().regex(ID),
    type: z.enum(['app', 'datasource', 'panel', 'renderer', 'secretsmanager', 'transformer']),
    name: z.string().min(1),
    info: z
      .object({
        author: z.object({ name: z.string().optional(), email: z.string().email().optional(), url: z.string().url().optional() }).strict().optional(),
        build: z.record(z.string(), z.unknown()).optional(),
        description: z.string().optional(),
        keywords: z.array(z.string()).min(1),
        links: z.array(z.object({ name: z.string(), url: z.string().url() }).strict()).optional(),
        logos: z.object({ small: z.string(), large: z.string() }).strict(),
        screenshots: z.array(z.object({ name: z.string().optional(), path: z.string().optional() }).strict()).optional(),
        updated: z.string().regex(/^(\d{4}-\d{2}-\d{2}|%TODAY%)$/),
        version: z.string().regex(/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)|(%VERSION%)$/),
      })
      .strict(),
    dependencies: z
      .object({
        grafanaVersion: z.string().optional(),
        grafanaDependency: z
          .string()
          .regex(/^(<=|>=|<|>|=|~|\^)?([0-9]+)(\.[0-9x*]+)(\.[0-9x*]+)?(\s(<=|>=|<|=>)?([0-9]+)(\.[0-9x]+)(\.[0-9x]+))?$/),
        plugins: z
          .array(z.object({ id: z.string().regex(ID), type: z.enum(['app', 'datasource', 'panel', 'secretsmanager']), name: z.string(), version: z.string() }))
          .optional(),
      })
      .strict(),
    alerting: z.boolean().optional(),
    annotations: z.boolean().optional(),
    autoEnabled: z.boolean().optional(),
    backend: z.boolean().optional(),
    // Written into dist/**/plugin.json by the scaffold's BuildModeWebpackPlugin; Grafana's loader reads it.
    buildMode: z.enum(['development', 'production']).optional(),
    builtIn: z.boolean().optional(),
    category: z.enum(['tsdb', 'logging', 'cloud', 'tracing', 'profiling', 'sql', 'enterprise', 'iot', 'other']).optional(),
    executable: z.string().optional(),
    hideFromList: z.boolean().optional(),
    includes: z
      .array(
        z.object({
          uid: z.string().optional(),
          type: z.enum(['dashboard', 'page', 'panel', 'datasource', 'secretsmanager']),
          name: z.string().optional(),
          component: z.string().optional(),
          role: z.enum(['Admin', 'Editor', 'Viewer']).optional(),
          path: z.string().optional(),
          addToNav: z.boolean().optional(),
          defaultNav: z.boolean().optional(),
          icon: z.string().optional(),
        })
      )
      .optional(),
    logs: z.boolean().optional(),
    metrics: z.boolean().optional(),
    preload: z.boolean().optional(),
    queryOptions: z.object({ maxDataPoints: z.boolean(), minInterval: z.boolean(), cacheTimeout: z.boolean() }).partial().strict().optional(),
    routes: z
      .array(
        z
          .object({
            path: z.string(),
            method: z.string(),
            url: z.string(),
            reqSignedIn: z.boolean(),
            reqRole: z.string(),
            headers: z.array(z.unknown()),
            body: z.record(z.string(), z.unknown()),
            tokenAuth: z.record(z.string(), z.unknown()),
            jwtTokenAuth: z.record(z.string(), z.unknown()),
            urlParams: z.array(z.object({ name: z.string(), content: z.string() }).strict()),
          })
          .partial()
          .strict()
      )
      .optional(),
    skipDataQuery: z.boolean().optional(),
    state: z.enum(['alpha', 'beta']).optional(),
    streaming: z.boolean().optional(),
    tracing: z.boolean().optional(),
  })
  .strict();

function problems(manifest: unknown): string[] {
  const result = pluginJsonSchema.safeParse(manifest);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const sources = {
  app: path.join(root, 'plugin.json'),
  datasource: path.join(root, 'src', 'datasource', 'plugin.json'),
  panel: path.join(root, 'src', 'panel', 'plugin.json'),
};

describe('plugin manifest wiring', () => {
  it('src/plugin.json is the root plugin.json itself (the scaffold build reads src/plugin.json)', () => {
    const rootManifest = path.join(root, 'plugin.json');
    const srcManifest = path.join(root, 'src', 'plugin.json');
    expect(fs.lstatSync(srcManifest).isSymbolicLink()).toBe(true);
    expect(fs.realpathSync(srcManifest)).toBe(fs.realpathSync(rootManifest));
    expect(JSON.parse(fs.readFileSync(srcManifest, 'utf8')).type).toBe('app');
  });

  it.each(Object.entries(sources))('the %s plugin.json follows the plugin.json schema rules', (kind, file) => {
    const manifest = readJson(file);
    expect(problems(manifest)).toEqual([]);
    expect(manifest.type).toBe(kind);
  });

  it('the schema rules reject what Grafana rejects (the check can fail)', () => {
    const good = readJson(sources.panel);
    expect(problems({ ...good, id: 'Scorpio_Panel' })).toEqual([expect.stringContaining('id:')]);
    expect(problems({ ...good, type: 'widget' })).toEqual([expect.stringContaining('type:')]);
    const { logos: _logos, ...infoWithoutLogos } = good.info;
    expect(problems({ ...good, info: infoWithoutLogos })).toEqual([expect.stringContaining('info.logos')]);
    expect(problems({ ...good, colour: 'red' })).toEqual([expect.stringContaining('colour')]);
    expect(problems({ ...good, info: { ...good.info, version: 'one' } })).toEqual([expect.stringContaining('info.version')]);
  });

  it('the app includes its nested datasource and panel by name', () => {
    const app = readJson(sources.app);
    const included = app.includes.map((i: { type: string; name: string }) => `${i.type}:${i.name}`);
    expect(included).toContain(`datasource:${readJson(sources.datasource).name}`);
    expect(included).toContain(`panel:${readJson(sources.panel).name}`);
    expect(app.includes.find((i: { type: string }) => i.type === 'page')).toMatchObject({ addToNav: true, defaultNav: true });
  });

  it('the datasource reaches the backend only through data-proxy routes with the secure token', () => {
    const ds = readJson(sources.datasource);
    for (const route of ds.routes) {
      expect(route.path === 'lad' || route.path.startsWith('lad/')).toBe(true);
      expect(route.url.startsWith('{{ .JsonData.url }}')).toBe(true);
      expect(route.headers).toEqual([{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }]);
      // A route without a method would forward every method (ds_proxy.go matches "" and "*" to any).
      expect(['GET', 'POST', 'DELETE']).toContain(route.method);
      expect(['Viewer', 'Editor']).toContain(route.reqRole);
    }
    // logs: Explore offers its logs view and logs context for the anomalies (src/datasource/logsFrame.ts).
    expect(ds).toMatchObject({ metrics: true, logs: true, annotations: true });
  });

  describe('proxy routes per purpose: what Grafana\'s data proxy lets each role do with them', () => {
    const routes = readJson(sources.datasource).routes as PluginRoute[];
    const proxy = (role: OrgRole, method: string, path: string) =>
      proxyDecision(
        { routes, role, datasources: [{ uid: 'lad', jsonData: { url: 'http://backend:8080' }, secureJsonData: { token: 't0ken' } }] },
        method,
        `/api/datasources/proxy/uid/lad/lad${path}`
      );
    const outcome = (role: OrgRole, method: string, path: string) => {
      const d = proxy(role, method, path);
      return d.kind === 'forward' ? `${d.url} ${d.headers.authorization}` : d.status;
    };

    it.each(['Viewer', 'Editor', 'Admin'] as OrgRole[])('a %s reads (health, sources, context, the review queue) and queries', (role) => {
      expect(outcome(role, 'GET', '/api/health')).toBe('http://backend:8080/api/health Bearer t0ken');
      expect(outcome(role, 'GET', '/api/sources')).toBe('http://backend:8080/api/sources Bearer t0ken');
      // The query arrives re-encoded, keys sorted (pkg/api/pluginproxy/utils.go ApplyRoute, addQueryString).
      expect(outcome(role, 'GET', '/api/anomalies/a1/context?before=5&after=5')).toBe('http://backend:8080/api/anomalies/a1/context?after=5&before=5 Bearer t0ken');
      expect(outcome(role, 'GET', '/api/review?source=web&limit=20')).toBe('http://backend:8080/api/review?limit=20&source=web Bearer t0ken');
      expect(outcome(role, 'POST', '/api/query')).toBe('http://backend:8080/api/query Bearer t0ken');
    });

    it.each(['Viewer', 'Editor', 'Admin'] as OrgRole[])('a %s reads nothing else with the token: each read has its own route', (role) => {
      // The datasource has no URL of its own (only jsonData.url), so Grafana has nowhere to send an unrouted path.
      for (const path of ['/metrics', '/api/feedback', '/api/v1/labels', '/']) {
        const d = proxy(role, 'GET', path);
        expect({ path, token: d.kind === 'forward' ? d.headers.authorization : undefined }).toEqual({ path, token: undefined });
      }
    });

    it('every GET the plugin sends has a read route (paths read from the request calls in src/)', () => {
      const files = fs.readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f));
      const paths = files.flatMap((f) =>
        [...fs.readFileSync(path.join(root, 'src', f), 'utf8').matchAll(/'GET',\s*[`']([^`']+)[`']/g)].map((m) => m[1].replace(/\$\{[^}]*\}/g, 'x'))
      );
      expect(paths).toEqual(expect.arrayContaining(['/api/health', '/api/sources', '/api/review' + 'x']));
      for (const p of paths) expect({ p, kind: proxy('Viewer', 'GET', p).kind }).toEqual({ p, kind: 'forward' });
    });

    it('feedback POST and DELETE need at least Editor', () => {
      expect(outcome('Viewer', 'POST', '/api/feedback')).toBe(403);
      expect(outcome('Viewer', 'DELETE', '/api/feedback/fb1')).toBe(403);
      expect(outcome('Editor', 'POST', '/api/feedback')).toBe('http://backend:8080/api/feedback Bearer t0ken');
      expect(outcome('Editor', 'DELETE', '/api/feedback/fb1')).toBe('http://backend:8080/api/feedback/fb1 Bearer t0ken');
      expect(outcome('Admin', 'DELETE', '/api/feedback/fb1')).toBe('http://backend:8080/api/feedback/fb1 Bearer t0ken');
    });

    it.each(['Viewer', 'Editor', 'Admin'] as OrgRole[])('no route pushes lines or writes anything else for a %s (log shippers talk to the backend)', (role) => {
      for (const [method, path] of [
        ['POST', '/api/push?source=x'],
        ['POST', '/loki/api/v1/push'],
        ['POST', '/api/v1/push'],
        ['PUT', '/api/feedback/fb1'],
        ['DELETE', '/api/anomalies/a1'],
        ['POST', '/api/sources'],
      ]) {
        expect({ method, path, forwarded: proxy(role, method, path).kind === 'forward' }).toEqual({ method, path, forwarded: false });
      }
    });
  });
});

describe('built plugin in dist/ (npm run build:plugin)', () => {
  const built = [
    { dir: '', source: sources.app },
    { dir: 'datasource', source: sources.datasource },
    { dir: 'panel', source: sources.panel },
  ];

  it.each(built)('dist/$dir has an AMD module.js and a plugin.json with placeholders filled', ({ dir, source }) => {
    const manifestPath = path.join(dist, dir, 'plugin.json');
    const modulePath = path.join(dist, dir, 'module.js');
    expect({ manifest: fs.existsSync(manifestPath), module: fs.existsSync(modulePath), hint: 'run npm run build:plugin' }).toEqual({
      manifest: true,
      module: true,
      hint: 'run npm run build:plugin',
    });
    const manifest = readJson(manifestPath);
    expect(manifest.id).toBe(readJson(source).id);
    expect(problems(manifest)).toEqual([]);
    expect(manifest.info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(JSON.stringify(manifest)).not.toContain('%PLUGIN_ID%');
    const code = fs.readFileSync(modulePath, 'utf8');
    expect(code).toMatch(/^\/\* \[create-plugin\][^\n]*\n[^\n]*\n?define\(\[/);
    // Grafana provides these at load time; bundling a second React would break hooks.
    const deps = JSON.parse(/define\((\[[^\]]*\])/.exec(code)![1]) as string[];
    expect(deps).toEqual(expect.arrayContaining(['react', '@grafana/data', '@grafana/ui']));
  });

  it.each(built)('the logos of dist/$dir/plugin.json exist in dist/', ({ dir }) => {
    const manifest = readJson(path.join(dist, dir, 'plugin.json'));
    for (const logo of [manifest.info.logos.small, manifest.info.logos.large]) {
      // Grafana resolves a nested plugin's logo against that plugin's own folder.
      const file = path.resolve(dist, dir, logo);
      expect({ logo, file, exists: fs.existsSync(file), inside: file.startsWith(dist + path.sep) }).toEqual({
        logo,
        file,
        exists: true,
        inside: true,
      });
    }
  });
});
