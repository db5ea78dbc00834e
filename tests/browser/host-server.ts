/**
 * The HTTP side of the browser test's stand-in for Grafana: serves the host page and its bundle, serves the
 * built plugin at Grafana's plugin URL (/public/plugins/<app id>/...), and plays Grafana's data proxy for the
 * Scorpio datasource: `/api/datasources/proxy/uid/<uid>/<route path>/...` is forwarded to the URL and with the
 * headers of the route in dist/datasource/plugin.json, its `{{ .JsonData.url }}` / `{{ .SecureJsonData.token }}`
 * filled from the datasource settings, as Grafana's server does.
 */
import fs from 'fs';
import http from 'http';
import type { AddressInfo } from 'net';
import path from 'path';

import { build } from 'esbuild';

export interface DatasourceSettings {
  uid: string;
  jsonData: Record<string, string>;
  secureJsonData: Record<string, string>;
}

export interface HostServer {
  url: string;
  /** Requests that went through the data proxy, in order ("POST /api/feedback"). */
  proxied: string[];
  close(): Promise<void>;
}

interface Route {
  path: string;
  url: string;
  headers?: Array<{ name: string; content: string }>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.html': 'text/html',
};

/** Fills Grafana's route templates ({{ .JsonData.x }}, {{ .SecureJsonData.x }}). */
function fillTemplate(template: string, ds: DatasourceSettings): string {
  return template.replace(/\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g, (_all, where: string, key: string) =>
    where === 'JsonData' ? (ds.jsonData[key] ?? '') : (ds.secureJsonData[key] ?? '')
  );
}

/** Bundles tests/browser/host.tsx (real react and @grafana packages) into `outDir/host.js`. */
export async function bundleHost(outDir: string): Promise<string> {
  const outfile = path.join(outDir, 'host.js');
  await build({
    entryPoints: [path.join(__dirname, 'host.tsx')],
    bundle: true,
    outfile,
    format: 'iife',
    platform: 'browser',
    jsx: 'automatic',
    minify: true,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
    // @grafana/ui pulls in a few stylesheets and fonts the panel does not need here.
    loader: { '.css': 'empty', '.svg': 'text', '.woff': 'empty', '.woff2': 'empty', '.ttf': 'empty', '.png': 'empty' },
    logLevel: 'error',
  });
  return outfile;
}

export async function startHostServer(opts: { distDir: string; hostJs: string; appId: string; datasource: DatasourceSettings }): Promise<HostServer> {
  const routes = (JSON.parse(fs.readFileSync(path.join(opts.distDir, 'datasource', 'plugin.json'), 'utf8')) as { routes: Route[] }).routes;
  const proxied: string[] = [];
  const bootData = {
    assets: { dark: '', light: '' },
    settings: { appSubUrl: '', featureToggles: {}, buildInfo: { version: '12.4.0', env: 'production' } },
    user: { theme: 'dark', timezone: 'utc', regionalFormat: 'en-US', isSignedIn: true, login: 'browser-test' },
    navTree: [],
  };
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Scorpio panel host</title>
<script>window.grafanaBootData = ${JSON.stringify(bootData)};</script>
<style>html,body{margin:0}</style></head>
<body><div id="root"></div><script src="/host.js"></script></body></html>`;

  const proxyPrefix = `/api/datasources/proxy/uid/${opts.datasource.uid}/`;
  const pluginPrefix = `/public/plugins/${opts.appId}/`;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      return;
    }
    if (url.pathname === '/host.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      fs.createReadStream(opts.hostJs).pipe(res);
      return;
    }
    if (url.pathname.startsWith(pluginPrefix)) {
      const file = path.resolve(opts.distDir, url.pathname.slice(pluginPrefix.length));
      if (!file.startsWith(opts.distDir + path.sep) || !fs.existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    if (url.pathname.startsWith(proxyPrefix)) {
      const rest = url.pathname.slice(proxyPrefix.length);
      const route = routes.find((r) => rest === r.path || rest.startsWith(`${r.path}/`));
      if (!route) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'no such route' }));
        return;
      }
      const target = new URL(fillTemplate(route.url, opts.datasource).replace(/\/$/, '') + rest.slice(route.path.length) + url.search);
      const headers: Record<string, string> = {};
      for (const h of ['content-type', 'accept']) {
        const v = req.headers[h];
        if (typeof v === 'string') {
          headers[h] = v;
        }
      }
      for (const h of route.headers ?? []) {
        headers[h.name.toLowerCase()] = fillTemplate(h.content, opts.datasource);
      }
      proxied.push(`${req.method} ${target.pathname}`);
      const upstream = http.request(target, { method: req.method, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
        up.pipe(res);
      });
      upstream.on('error', (err) => res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ message: err.message })));
      req.pipe(upstream);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    proxied,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
