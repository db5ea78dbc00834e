/**
 * The HTTP side of the browser test's stand-in for Grafana: serves the host page and its bundle, serves the
 * built plugin at Grafana's plugin URL (/public/plugins/<app id>/...), and is the stand-in for Grafana's data
 * proxy for the Scorpio datasource (src/testing/grafanaDataProxy.ts, as pkg/api/pluginproxy/ds_proxy.go does):
 * the routes of the BUILT dist/datasource/plugin.json matched by path and method, `reqRole` enforced for the
 * test user's role, `{{ .JsonData.url }}` / `{{ .SecureJsonData.token }}` filled from the datasource settings, the
 * browser's headers forwarded and the backend's answered as Grafana does, a backend 401 passed back as Grafana's 400
 * "Authentication to data source failed", an unreachable backend as an empty 502 (504 after 30 s).
 */
import fs from 'fs';
import http from 'http';
import type { AddressInfo } from 'net';
import path from 'path';

import { build } from 'esbuild';

import { forwardOverHttp } from '../../src/testing/dataProxyHttp';
import { proxyDecision, type OrgRole, type PluginRoute } from '../../src/testing/grafanaDataProxy';

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


const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.html': 'text/html',
};

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

export async function startHostServer(opts: {
  distDir: string;
  hostJs: string;
  appId: string;
  datasource: DatasourceSettings;
  /** The test user's organisation role (default Editor, compose's anonymous user). */
  role?: OrgRole;
}): Promise<HostServer> {
  const routes = (JSON.parse(fs.readFileSync(path.join(opts.distDir, 'datasource', 'plugin.json'), 'utf8')) as { routes: PluginRoute[] }).routes;
  const proxy = { routes, role: opts.role ?? 'Editor', datasources: [opts.datasource] };
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
      const decision = proxyDecision(proxy, req.method ?? 'GET', req.url ?? '/');
      if (decision.kind === 'reply') {
        res.writeHead(decision.status, decision.contentType ? { 'content-type': decision.contentType } : {}).end(decision.body);
        return;
      }
      proxied.push(`${req.method} ${new URL(decision.url).pathname}`);
      void forwardOverHttp(decision, req.method ?? 'GET', req.headers, req.socket.remoteAddress ?? '127.0.0.1', req).then((answer) => {
        res.writeHead(answer.status, answer.headers).end(answer.body);
      });
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
