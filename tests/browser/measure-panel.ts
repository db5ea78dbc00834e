/**
 * Measures the built panel with 5,000 real anomalies in Debian's Chromium (a measurement, not a test: nothing is
 * asserted). Run from the repository root after `npm run build`:
 *   TS_NODE_COMPILER_OPTIONS='{"module":"commonjs","moduleResolution":"node"}' npx ts-node --transpile-only tests/browser/measure-panel.ts
 * Prints: page load to first render, query + render time of 5,000 rows, rows in the DOM, and frame times while
 * scrolling the list 400 px per animation frame.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { chromium } from 'playwright-core';
import { startBuiltServer } from '../../backend/testing/built-server';
import { bundleHost, startHostServer } from './host-server';

const root = path.resolve(__dirname, '..', '..');
async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lad-measure-'));
  // The real backend, trained on the demo shop logs, then sent 6,000 lines it has never seen (all anomalous).
  const server = await startBuiltServer({
    env: {
      LAD_DATA_DIR: path.join(tmp, 'data'),
      LAD_DEMO: 'false',
      LAD_TRAIN_LINES: '1000',
      LAD_LOG_LEVEL: 'info',
    },
  });
  // Stop the backend however this ends (it is our child; an exception must not leave it running).
  process.on('exit', () => server.child.kill('SIGTERM'));
  const url = server.url;
  const push = (lines: string[]) =>
    fetch(`${url}/api/push?source=shop`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: lines.join('\n'),
    });
  const normal = fs.readFileSync(path.join(root, 'backend/demo/webshop.txt'), 'utf8').trim().split('\n');
  await push(normal.slice(0, 1000));
  const health = async () =>
    (await (await fetch(`${url}/api/health`)).json()) as {
      sources: Array<{ modelState: string; linesScored: number; anomalies: number }>;
    };
  while ((await health()).sources[0]?.modelState !== 'ready') await new Promise((r) => setTimeout(r, 200));
  const words = [
    'quasar',
    'zebra',
    'kettle',
    'nebula',
    'gizmo',
    'walrus',
    'pylon',
    'tundra',
    'vortex',
    'mango',
    'ember',
    'oracle',
  ];
  const weird: string[] = [];
  for (let i = 0; i < 6000; i++) {
    const w = (k: number) =>
      words[(i * 7 + k * 13 + Math.floor(i / 12)) % words.length] + String.fromCharCode(97 + ((i * (k + 3)) % 26));
    weird.push(`PANIC [${w(1)}-${w(2)}] ${w(3)}.${w(4)} - ${w(5)} ${w(6)} ${w(7)} collapsed ${w(8)} ${w(9)} ${i}`);
  }
  for (let i = 0; i < weird.length; i += 1000) await push(weird.slice(i, i + 1000));
  while ((await health()).sources[0].linesScored < 7000) await new Promise((r) => setTimeout(r, 200));
  const h = (await health()).sources[0];
  console.log('anomalies in backend', h.anomalies);
  const hostJs = await bundleHost(tmp);
  const host = await startHostServer({
    distDir: path.join(root, 'dist'),
    hostJs,
    appId: 'scorpio-lad-app',
    datasource: { uid: 'scorpio-lad', jsonData: { url }, secureJsonData: {} },
  });
  const ctx = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1200, height: 720 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const t0 = Date.now();
  await page.goto(`${host.url}/?theme=dark&limit=5000`);
  await page.waitForFunction("document.body.dataset.ready === 'true'");
  console.log('page load to first render (incl. bundle load, 2 module loads, query):', Date.now() - t0, 'ms');
  console.log('rows in status:', await page.locator('text=/\\d+ anomalies/').first().textContent());
  console.log('listitems in DOM:', await page.getByRole('listitem').count());
  const rerender = [];
  for (let i = 0; i < 3; i++)
    rerender.push(await page.evaluate("window.ladHost.render('dark').then(() => window.ladHost.renderMs)"));
  console.log(
    'query+render of 5000 rows (ms, 3 runs):',
    rerender.map((x) => Math.round(x as number))
  );
  const frames = (await page.evaluate(`new Promise((resolve) => {
    const list = document.querySelector('[role="list"]').parentElement;
    const times = []; let last = performance.now(); let n = 0;
    const step = () => {
      const now = performance.now(); times.push(now - last); last = now;
      list.scrollTop += 400; n++;
      if (n < 240) requestAnimationFrame(step); else resolve(times.slice(1));
    };
    requestAnimationFrame(step);
  })`)) as number[];
  frames.sort((a, b) => a - b);
  const pct = (p: number) => frames[Math.floor(p * (frames.length - 1))].toFixed(1);
  console.log(`scroll 240 frames x 400px: frame time median ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${pct(1)} ms`);
  console.log('listitems in DOM after scrolling:', await page.getByRole('listitem').count());
  await ctx.close();
  await host.close();
  await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
