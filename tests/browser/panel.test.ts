/**
 * The BUILT plugin in a real browser against the REAL backend:
 * - the backend is `node backend/dist/server/main.js` (LAD_PORT=0, temp LAD_DATA_DIR, an API token), trained on
 *   the bundled demo shop logs and then sent anomalous lines over POST /api/push;
 * - Debian's Chromium (playwright-core, no downloaded browser) loads a host page that hands dist/datasource/module.js
 *   and dist/panel/module.js their shared packages (tests/browser/host.tsx) and reaches the backend through a
 *   stand-in for Grafana's data proxy that applies the datasource's plugin.json route (tests/browser/host-server.ts);
 * - the panel shows the anomalies; clicking "False positive" stores the line in the fact-store, and a
 *   near-duplicate pushed afterwards is suppressed. Screenshots (dark, light, narrow) go to artifacts/;
 * - a second backend fed a timed log over time (a burst of a known line, a heartbeat that stops) gives the panel's
 *   surge and drop rows (`?rate=1` adds the rate_events query), answered as rate answers (artifacts/panel-rate-*).
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

import { templateOf } from '../../backend/engine';
import type { RateEvent } from '../../backend/pipeline/rate-history';
import { BUILT_MAIN, startBuiltServer, type BuiltServer } from '../../backend/testing/built-server';
import { BURST_LINES, HEARTBEAT, rateLines } from '../../backend/testing/rate-lines';
import { waitForValue } from '../../backend/testing/wait';
import { bundleHost, startHostServer, type HostServer } from './host-server';
import { settledClick } from './settled-click';

jest.setTimeout(120_000);

const root = path.resolve(__dirname, '..', '..');
const DIST = path.join(root, 'dist');
const ARTIFACTS = path.join(root, 'artifacts');
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-test-token-1234';
const DEMO = path.join(root, 'backend', 'demo');

const normal = fs.readFileSync(path.join(DEMO, 'webshop.txt'), 'utf8').trim().split('\n');
const anomalies = fs.readFileSync(path.join(DEMO, 'anomalies.txt'), 'utf8').trim().split('\n');
/** The line the test marks as a false positive, and a near-duplicate of it (other numbers, same template). */
const FLAGGED = anomalies.find((l) => l.includes('PaymentService'))!;
const NEAR_DUPLICATE = FLAGGED.replace('payment-worker-2', 'payment-worker-5').replace('502', '503').replace('60s', '90s');

// Page-side expressions as strings: this file is typechecked without the DOM library.
const HOST_READY = "document.body.dataset.ready === 'true'";
const HOST_DONE = `${HOST_READY} || document.body.dataset.error`;
const HOST_ERROR = 'document.body.dataset.error ?? null';

let tmp: string;
let backend: BuiltServer | null = null;
let backendUrl = '';
let host: HostServer;
let context: BrowserContext;
let page: Page;

/** A request to the backend at `base` (with the API token). */
async function apiAt<T>(base: string, method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
const api = <T>(method: string, p: string, body?: unknown, contentType?: string) => apiAt<T>(backendUrl, method, p, body, contentType);

/** The shared poller, with the tail of the backend's log in the failure message. */
const waitUntil = <T>(what: string, check: () => Promise<T | undefined>): Promise<T> =>
  waitForValue(check, () => `${what}\nbackend log:\n${backend?.output().slice(-3000) ?? ''}`, 60_000, 100);

interface SourceHealth {
  name: string;
  linesScored: number;
  modelState: string;
}
const scored = async (source: string, base = backendUrl) =>
  (await apiAt<{ sources: SourceHealth[] }>(base, 'GET', '/api/health')).body.sources.find((s) => s.name === source);

async function push(lines: string[]): Promise<void> {
  const res = await api('POST', '/api/push?source=shop', lines.join('\n'), 'text/plain');
  expect(res.status).toBe(204);
}

interface Frame {
  schema: { fields: Array<{ name: string }> };
  data: { values: unknown[][] };
}
async function anomalyRows(base = backendUrl, source = 'shop'): Promise<Array<Record<string, unknown>>> {
  const { body } = await apiAt<{ results: Record<string, { frames: Frame[] }> }>(base, 'POST', '/api/query', {
    range: { from: Date.now() - 3600_000, to: Date.now() + 300_000 },
    intervalMs: 60_000,
    maxDataPoints: 100,
    targets: [{ refId: 'A', queryType: 'anomalies', includeSuppressed: true, source }],
  });
  const frame = body.results.A.frames[0];
  const n = frame.data.values[0].length;
  return Array.from({ length: n }, (_, i) => Object.fromEntries(frame.schema.fields.map((f, j) => [f.name, frame.data.values[j][i]])));
}

async function screenshot(name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.getByTestId('panel-frame').screenshot({ path: path.join(ARTIFACTS, name) });
}

beforeAll(async () => {
  for (const [file, hint] of [
    [BUILT_MAIN, 'build the backend: npx tsc -p backend/tsconfig.json'],
    [path.join(DIST, 'panel', 'module.js'), 'build the plugin: npm run build:plugin'],
    [path.join(DIST, 'datasource', 'module.js'), 'build the plugin: npm run build:plugin'],
    [CHROMIUM, "install Debian's chromium (scripts/install-system-deps.sh)"],
  ]) {
    if (!fs.existsSync(file)) {
      throw new Error(`${file} is missing: ${hint}`);
    }
  }
  expect(templateOf(NEAR_DUPLICATE)).toBe(templateOf(FLAGGED));
  expect(NEAR_DUPLICATE).not.toBe(FLAGGED);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lad-browser-'));

  backend = await startBuiltServer({
    env: {
      LAD_HOST: '127.0.0.1',
      LAD_DATA_DIR: path.join(tmp, 'data'),
      LAD_DEMO: 'false',
      LAD_TRAIN_LINES: '1000',
      LAD_API_TOKEN: TOKEN,
      LAD_LOG_LEVEL: 'info',
    },
  });
  backendUrl = backend.url;

  const [hostJs] = await Promise.all([
    bundleHost(tmp),
    (async () => {
      // Train on normal shop traffic, then score more normal lines with the anomalies among them.
      await push(normal.slice(0, 1000));
      await waitUntil('the first model', async () => ((await scored('shop'))?.modelState === 'ready' ? true : undefined));
      const mixed = normal.slice(1000, 1400);
      anomalies.forEach((line, i) => mixed.splice(20 + i * 30, 0, line));
      await push(mixed);
      await waitUntil('the mixed lines to be scored', async () => (((await scored('shop'))?.linesScored ?? 0) >= 1000 + mixed.length ? true : undefined));
    })(),
  ]);

  host = await startHostServer({
    distDir: DIST,
    hostJs,
    appId: 'scorpio-lad-app',
    datasource: { uid: 'scorpio-lad', jsonData: { url: backendUrl }, secureJsonData: { token: TOKEN } },
  });
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 720 },
  });
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close();
  await host?.close();
  await backend?.stop();
  if (tmp) {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the built panel shows real anomalies; "False positive" reaches the fact-store and suppresses a near-duplicate', async () => {
  const pageErrors: string[] = [];
  const consoleLines: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  await page.goto(`${host.url}/?theme=dark`);
  await page
    .waitForFunction(HOST_DONE, null, { timeout: 30_000 })
    .catch((err: Error) => {
      throw new Error(`${err.message}\npage errors: ${pageErrors.join('\n')}\nconsole: ${consoleLines.slice(-20).join('\n')}`);
    });
  expect(await page.evaluate(HOST_ERROR)).toBeNull();

  // The anomalies the backend flagged are listed, newest first, each with its feedback buttons.
  const flaggedByBackend = (await anomalyRows()).filter((r) => !r.suppressed);
  expect(flaggedByBackend.map((r) => r.line)).toContain(FLAGGED);
  const items = page.getByRole('listitem');
  await items.first().waitFor();
  expect(await page.getByText(`${flaggedByBackend.length} anomalies`).count()).toBe(1);
  const row = items.filter({ hasText: FLAGGED });
  await row.waitFor();
  expect(await row.getByRole('meter').getAttribute('aria-label')).toMatch(/^Score \d+\.\d{3}, threshold \d+\.\d{3}$/);
  await screenshot('panel-dark.png');

  // Expanding the line loads its context from the backend through the proxy.
  await settledClick(page, row.getByRole('button', { name: 'Expand line and its context' }));
  await row
    .getByRole('group', { name: 'Surrounding log lines' })
    .waitFor()
    .catch(async (err: Error) => {
      const shown = await row.textContent().catch(() => '?');
      throw new Error(`${err.message}\nrow: ${shown}\nproxied: ${host.proxied.slice(-5).join(', ')}\npage errors: ${pageErrors.join('\n')}\nconsole: ${consoleLines.slice(-10).join('\n')}`);
    });
  expect(await row.getByRole('group', { name: 'Surrounding log lines' }).locator('[aria-current="true"]').textContent()).toContain(FLAGGED);
  await row.scrollIntoViewIfNeeded();
  await row.screenshot({ path: path.join(ARTIFACTS, 'panel-expanded-row-dark.png') });
  await settledClick(page, row.getByRole('button', { name: 'Collapse line and its context' }));

  await settledClick(page, row.getByRole('button', { name: 'False positive' }));
  await page.getByRole('status').filter({ hasText: 'Marked as false positive' }).waitFor();
  // showSuppressed is on in the host: the line stays, greyed, with an Undo.
  await row.getByRole('button', { name: 'Undo' }).waitFor();
  expect(await row.locator('[data-suppressed]').count()).toBe(1);
  expect(host.proxied).toContain('POST /api/feedback');

  const feedback = await api<Array<{ id: string; message: string; kind: string; source: string; user: string }>>('GET', '/api/feedback?kind=false_positive');
  expect(feedback.status).toBe(200);
  // `user` is the signed-in Grafana login (the host's boot data says browser-test).
  expect(feedback.body).toEqual([expect.objectContaining({ message: FLAGGED, kind: 'false_positive', source: 'shop', user: 'browser-test' })]);

  // A near-duplicate pushed afterwards is scored as suppressed, not as a new anomaly.
  const before = (await scored('shop'))!.linesScored;
  await push([NEAR_DUPLICATE]);
  await waitUntil('the near-duplicate to be scored', async () => (((await scored('shop'))?.linesScored ?? 0) > before ? true : undefined));
  const dup = (await anomalyRows()).find((r) => r.line === NEAR_DUPLICATE);
  expect(dup).toMatchObject({ line: NEAR_DUPLICATE, suppressed: true });

  // Light theme, after the click (the suppressed row greyed), then a narrow panel.
  expect(await page.evaluate("window.ladHost.render('light')")).toBe(1);
  await page.getByText('Marked false positive').first().waitFor().catch(() => undefined);
  await screenshot('panel-light.png');
  await page.goto(`${host.url}/?theme=dark&width=420&height=640`);
  await page.waitForFunction(HOST_READY);
  await page.getByRole('listitem').first().waitFor();
  await screenshot('panel-narrow-dark.png');
  expect(pageErrors).toEqual([]);
});

test('the built app page shows the backend\'s sources and the fact-store counts (after the click above)', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${host.url}/?page=app&theme=light`);
  await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
  expect(await page.evaluate(HOST_ERROR)).toBeNull();
  const table = page.getByRole('table', { name: 'Log sources' });
  await table.waitFor();
  const shop = table.getByRole('row').filter({ hasText: 'shop' });
  const health = (await api<{ sources: Array<{ name: string; linesScored: number; anomalies: number }> }>('GET', '/api/health')).body;
  const source = health.sources.find((s) => s.name === 'shop')!;
  expect(await shop.getByRole('cell').allTextContents()).toEqual(
    expect.arrayContaining([String(source.linesScored), String(source.anomalies), 'ready'])
  );
  expect(await page.getByLabel('False positives in the fact-store').textContent()).toBe('1');
  expect(await page.getByRole('link', { name: /Log anomalies dashboard/ }).getAttribute('href')).toBe('/d/scorpio-log-anomalies');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.getByTestId('app-frame').screenshot({ path: path.join(ARTIFACTS, 'app-overview-light.png') });
  expect(pageErrors).toEqual([]);
});

test('"Save & test" of the built datasource reaches the real backend through the route, and notices a wrong token', async () => {
  const run = async (url: string) => {
    await page.goto(`${url}/?page=settings&theme=light`);
    await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
    expect(await page.evaluate(HOST_ERROR)).toBeNull();
    return JSON.parse((await page.evaluate('document.body.dataset.result')) as string) as { status: string; message: string };
  };
  const ok = await run(host.url);
  expect(ok.status).toBe('success');
  expect(ok.message).toMatch(/^Scorpio \S+ is ok: 1 source\(s\) — shop \(push, model ready\); 1 model\(s\) ready; fact-store 1 false positive\(s\), 0 confirmed\.$/);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.getByTestId('settings-frame').screenshot({ path: path.join(ARTIFACTS, 'datasource-settings-light.png') });

  const wrongToken = await startHostServer({
    distDir: DIST,
    hostJs: path.join(tmp, 'host.js'),
    appId: 'scorpio-lad-app',
    datasource: { uid: 'scorpio-lad', jsonData: { url: backendUrl }, secureJsonData: { token: 'not-the-token' } },
  });
  try {
    // Every endpoint wants the token now, health included: the test stops at the first request.
    const denied = await run(wrongToken.url);
    expect(denied.status).toBe('error');
    expect(denied.message).toContain('API token');
    expect(wrongToken.proxied).toEqual(['GET /api/health']);
  } finally {
    await wrongToken.close();
  }
  // The probe changed nothing.
  expect((await api<unknown[]>('GET', '/api/feedback')).body).toHaveLength(1);
});

test('the built panel never gives a false all-clear: a query refused behind the proxy and a loading query say so', async () => {
  // A wrong token: the backend answers 401, the data-proxy stand-in turns it into Grafana's 400, the query fails.
  const wrongToken = await startHostServer({
    distDir: DIST,
    hostJs: path.join(tmp, 'host.js'),
    appId: 'scorpio-lad-app',
    datasource: { uid: 'scorpio-lad', jsonData: { url: backendUrl }, secureJsonData: { token: 'not-the-token' } },
  });
  try {
    await page.goto(`${wrongToken.url}/?theme=dark`);
    await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
    expect(await page.evaluate(HOST_ERROR)).toBeNull();
    const alert = page.getByTestId('panel-frame').getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^The query failed, .*HTTP 400 Authentication to data source failed \(check the API token/);
    expect(await page.getByText('No anomalies in this time range.').count()).toBe(0);
    expect(await page.getByText('0 anomalies').count()).toBe(0);
    expect(wrongToken.proxied).toEqual(['POST /api/query']);
    await screenshot('panel-error-dark.png');
  } finally {
    await wrongToken.close();
  }

  await page.goto(`${host.url}/?theme=dark&state=loading`);
  await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
  await page.getByTestId('panel-frame').getByRole('status').filter({ hasText: 'Loading anomalies' }).waitFor();
  expect(await page.getByText('No anomalies in this time range.').count()).toBe(0);
  await screenshot('panel-loading-dark.png');
});

test('"Confirm anomaly" then Undo: the record appears in and leaves the real fact-store', async () => {
  await page.goto(`${host.url}/?theme=dark`);
  await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
  const line = anomalies.find((l) => l.includes('StockSync'))!;
  const row = page.getByRole('listitem').filter({ hasText: line });
  await settledClick(page, row.getByRole('button', { name: 'Confirm anomaly' }));
  const notice = page.getByRole('status').filter({ hasText: 'Confirmed as anomaly' });
  await notice.waitFor();
  const confirmed = await api<Array<{ id: string; message: string }>>('GET', '/api/feedback?kind=confirmed');
  expect(confirmed.body.map((r) => r.message)).toEqual([line]);
  // A confirmed line is not suppressed.
  expect(await row.locator('[data-suppressed]').count()).toBe(0);

  await notice.getByRole('button', { name: 'Undo' }).click();
  await notice.waitFor({ state: 'detached' });
  await row.getByRole('button', { name: 'Confirm anomaly' }).waitFor();
  expect(host.proxied).toContain(`DELETE /api/feedback/${confirmed.body[0].id}`);
  expect((await api<unknown[]>('GET', '/api/feedback?kind=confirmed')).body).toEqual([]);
  expect((await api<unknown[]>('GET', '/api/feedback?kind=false_positive')).body).toHaveLength(1);
});

test('the panel is usable from the keyboard: arrows move between rows, Enter expands, Tab reaches the buttons', async () => {
  await page.goto(`${host.url}/?theme=dark`);
  await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
  const focusedRow = () => page.evaluate("document.activeElement.closest('[data-index]')?.dataset.index ?? null");
  const focusedName = () => page.evaluate("document.activeElement.getAttribute('aria-label') || document.activeElement.textContent");
  await page.getByRole('listitem').first().getByRole('button', { name: 'Expand line and its context' }).focus();
  expect(await focusedRow()).toBe('0');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction("document.activeElement.closest('[data-index]')?.dataset.index === '1'");
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction("document.activeElement.closest('[data-index]')?.dataset.index === '2'");
  await page.keyboard.press('ArrowUp');
  await page.waitForFunction("document.activeElement.closest('[data-index]')?.dataset.index === '1'");
  await page.keyboard.press('Enter');
  const second = page.locator('[data-index="1"]');
  await second.getByRole('group', { name: 'Surrounding log lines' }).waitFor();
  expect(await second.getByRole('button', { name: 'Collapse line and its context' }).getAttribute('aria-expanded')).toBe('true');
  const names: string[] = [];
  for (let i = 0; i < 2; i++) {
    await page.keyboard.press('Tab');
    names.push(String(await focusedName()));
  }
  expect(names).toEqual(['False positive', 'Confirm anomaly']);

  // By template: the flagged line and its near-duplicate are one row of two.
  await page.getByRole('radio', { name: 'By template' }).click();
  const group = page.getByRole('listitem').filter({ hasText: 'PaymentService' });
  expect(await group.getByLabel('2 lines', { exact: true }).textContent()).toBe('×2');
  await page.mouse.move(5, 700); // away from the radio's tooltip
  await page.getByRole('tooltip').waitFor({ state: 'detached' }).catch(() => undefined);
  await screenshot('panel-by-template-dark.png');
});

interface ReviewItemBody {
  line: string;
  lineId: string | null;
  flagged: boolean;
  affected: number;
}
const reviewQueue = async () => (await api<{ items: ReviewItemBody[] }>('GET', '/api/review?source=shop&limit=20')).body.items;
const recordsOf = async (kind: string) => (await api<Array<{ id: string; message: string; kind: string; source: string }>>('GET', `/api/feedback?kind=${kind}`)).body;
/** The same line with every digit changed: other numbers, the same words. */
const otherNumbers = (line: string) => line.replace(/\d/g, (d) => String((Number(d) + 1) % 10));

/** A row of the (virtual) Lines list: scrolls down until it is rendered. */
const lineRow = (text: string) => scrolledTo(page.getByRole('listitem').filter({ hasText: text }));

async function scrolledTo(row: Locator) {
  await page.getByRole('listitem').first().hover();
  for (let i = 0; i < 60 && (await row.count()) === 0; i++) {
    await page.mouse.wheel(0, 300);
    await page.waitForTimeout(50);
  }
  await row.first().waitFor({ timeout: 5000 });
  return row.first();
}

test('Review: three answers reach the fact-store, leave the queue (Undo brings one back), and show in the Lines view', async () => {
  await page.goto(`${host.url}/?theme=dark`);
  await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
  const queue = await reviewQueue();
  // Two flagged items to answer "Normal", and one not flagged (its context opened first); each names its stored line.
  const [x, y] = queue.filter((i) => i.flagged);
  const z0 = queue.find((i) => !i.flagged);
  expect([x, y, z0].every((i) => i !== undefined && i.lineId !== null)).toBe(true);
  const fpBefore = (await recordsOf('false_positive')).length;
  const okBefore = (await recordsOf('confirmed')).length;

  await page.getByRole('radio', { name: 'Review' }).click();
  const list = page.getByRole('list', { name: 'Review queue' });
  const item = (line: string) => list.getByRole('listitem').filter({ has: page.getByText(line, { exact: true }) });
  await item(x.line).waitFor();
  expect(host.proxied).toContain('GET /api/review');

  // Any item's surrounding lines, by its stored line id (not only a line the panel holds as an anomaly).
  await settledClick(page, item(z0!.line).getByRole('button', { name: 'Expand line and its context' }));
  await item(z0!.line).getByRole('group', { name: 'Surrounding log lines' }).waitFor();
  expect(host.proxied).toContain(`GET /api/anomalies/${z0!.lineId}/context`);

  // 1. "Normal" on a flagged item: the fact-store gains it, the badge says what it changed, the queue drops it.
  await settledClick(page, item(x.line).getByRole('button', { name: 'Normal' }));
  const xAffected = `${x.affected} similar recent line${x.affected === 1 ? '' : 's'}`;
  await item(x.line).getByRole('status').filter({ hasText: `Answered Normal: ${xAffected} now treated as normal` }).waitFor();
  const xRecord = (await recordsOf('false_positive')).find((r) => r.message === x.line);
  expect(xRecord).toMatchObject({ kind: 'false_positive', source: 'shop' });
  await page.getByText('Answered here (1)').waitFor();
  expect((await reviewQueue()).map((i) => i.line)).not.toContain(x.line);
  await page.mouse.move(5, 700); // away from the radio's tooltip
  await page.getByRole('tooltip').waitFor({ state: 'detached' }).catch(() => undefined);
  await screenshot('review-dark.png');
  // Undo brings it back into the queue, asking again.
  await settledClick(page, item(x.line).getByRole('button', { name: 'Undo' }));
  await item(x.line).getByRole('button', { name: 'Normal' }).waitFor();
  expect(host.proxied).toContain(`DELETE /api/feedback/${xRecord!.id}`);
  expect(await recordsOf('false_positive')).toHaveLength(fpBefore);
  await waitUntil('the undone item back in the queue', async () => ((await reviewQueue()).some((i) => i.line === x.line) ? true : undefined));

  // 2. Three answers: "Normal" on both flagged items, "Anomaly" on the unflagged one.
  await settledClick(page, item(x.line).getByRole('button', { name: 'Normal' }));
  await item(x.line).getByRole('status').waitFor();
  await settledClick(page, item(y.line).getByRole('button', { name: 'Normal' }));
  await item(y.line).getByRole('status').waitFor();
  // the unflagged item to confirm: one the two "Normal" answers left open (a line near an answer is decided by it
  // and leaves the queue, whichever item the model's scores put first)
  const z = (await reviewQueue()).find((i) => !i.flagged);
  expect(z?.lineId ?? null).not.toBeNull();
  await settledClick(page, item(z!.line).getByRole('button', { name: 'Anomaly' }));
  await item(z!.line).getByRole('status').filter({ hasText: 'Answered Anomaly:' }).waitFor();
  await page.getByText('Answered here (3)').waitFor();
  expect(await recordsOf('false_positive')).toHaveLength(fpBefore + 2);
  const confirmed = (await recordsOf('confirmed')).find((r) => r.message === z!.line);
  expect(await recordsOf('confirmed')).toHaveLength(okBefore + 1);
  // The fact-store is the truth: the service asks about none of the three again.
  const asked = (await reviewQueue()).map((i) => i.line);
  for (const answered of [x.line, y.line, z!.line]) expect(asked).not.toContain(answered);

  // New lines like the answered ones: the confirmed one's kind is flagged "like confirmed anomaly", the others quiet.
  const zLike = otherNumbers(z!.line);
  const xLike = otherNumbers(x.line);
  const before = (await scored('shop'))!.linesScored;
  await push([zLike, xLike]);
  await waitUntil('the new lines to be scored', async () => (((await scored('shop'))?.linesScored ?? 0) >= before + 2 ? true : undefined));

  // 3. The Lines view of a fresh page (its data queried anew) shows all three answers.
  await page.goto(`${host.url}/?theme=dark`);
  await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
  await page.getByRole('radio', { name: 'Lines' }).click();
  const zRow = await lineRow(zLike);
  expect(await zRow.textContent()).toContain(`like confirmed anomaly ${confirmed!.id}`);
  expect(await zRow.locator('[data-suppressed]').count()).toBe(0);
  for (const answered of [x.line, y.line]) {
    const row = await lineRow(answered);
    expect(await row.locator('[data-suppressed]').count()).toBe(1);
  }
  const xLikeRow = (await anomalyRows()).find((r) => r.line === xLike);
  expect(xLikeRow === undefined || xLikeRow.suppressed === true).toBe(true);

  await page.goto(`${host.url}/?theme=light`);
  await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
  await page.getByRole('radio', { name: 'Review' }).click();
  await page.getByRole('list', { name: 'Review queue' }).getByRole('listitem').first().waitFor();
  await page.mouse.move(5, 700);
  await page.getByRole('tooltip').waitFor({ state: 'detached' }).catch(() => undefined);
  await screenshot('review-light.png');
});

/** A row of the rate_events frame: the service's event with its source (backend/api/query.ts rateEventsFrame). */
type RateEventBody = RateEvent & { source: string };
/** backend/testing/rate-lines.ts's log (from 2024-01-01T00:00Z) moved so that its minute 0 starts at `baseMs`. */
const movedTo = (baseMs: number, lines: string[]) =>
  lines.map((l) => l.replace(/^\S+/, (iso) => new Date(Date.parse(iso) - Date.UTC(2024, 0, 1) + baseMs).toISOString()));

test('rate rows: a real surge and drop in the built panel; "Anomaly" on the drop and "Not an anomaly" on the surge are rate answers in the fact-store', async () => {
  // A backend of its own (one timed source, trained on its first 30 minutes), so the shop above keeps its one
  // source. The log ends now: the panel's range (the last hour) holds the burst (minute 35) and the stop (40).
  const baseMs = Math.floor(Date.now() / 60_000) * 60_000 - 50 * 60_000;
  const training = movedTo(baseMs, rateLines(0, 30));
  const scoredLines = movedTo(baseMs, rateLines(30, 50, { burstAt: 35, stopAt: 40 }));
  const rateBackend = await startBuiltServer({
    env: { LAD_HOST: '127.0.0.1', LAD_DATA_DIR: path.join(tmp, 'rate-data'), LAD_DEMO: 'false', LAD_TRAIN_LINES: String(training.length), LAD_API_TOKEN: TOKEN, LAD_LOG_LEVEL: 'info' },
  });
  const rapi = <T>(method: string, p: string, body?: unknown, contentType?: string) => apiAt<T>(rateBackend.url, method, p, body, contentType);
  const waitRate = <T>(what: string, check: () => Promise<T | undefined>): Promise<T> =>
    waitForValue(check, () => `${what}\nrate backend log:\n${rateBackend.output().slice(-3000)}`, 60_000, 100);
  const pushApp = async (lines: string[]) => expect((await rapi('POST', '/api/push?source=app', lines.join('\n'), 'text/plain')).status).toBe(204);
  const scoredApp = async (n: number) => waitRate(`${n} lines of app scored`, async () => (((await scored('app', rateBackend.url))?.linesScored ?? 0) >= n ? true : undefined));
  const rateHost = await startHostServer({
    distDir: DIST,
    hostJs: path.join(tmp, 'host.js'),
    appId: 'scorpio-lad-app',
    datasource: { uid: 'scorpio-lad', jsonData: { url: rateBackend.url }, secureJsonData: { token: TOKEN } },
  });
  try {
    await pushApp(training);
    await scoredApp(training.length);
    // the next 20 minutes of log time in pushes of five minutes each, as a shipper sends them
    for (let from = 30; from < 50; from += 5) {
      await pushApp(scoredLines.filter((l) => { const m = Math.floor((Date.parse(l.slice(0, 24)) - baseMs) / 60_000); return m >= from && m < from + 5; }));
    }
    await scoredApp(training.length + scoredLines.length);
    const eventsNow = async () => {
      const { body } = await rapi<{ results: Record<string, { frames: Frame[] }> }>('POST', '/api/query', {
        range: { from: baseMs, to: Date.now() + 300_000 },
        targets: [{ refId: 'E', queryType: 'rate_events', source: 'app' }],
      });
      const frame = body.results.E.frames[0];
      return Array.from({ length: frame.data.values[0].length }, (_, i) =>
        Object.fromEntries(frame.schema.fields.map((f, j) => [f.name, frame.data.values[j][i]])) as unknown as RateEventBody
      );
    };
    const [surge, drop] = await waitRate('the surge and the drop', async () => {
      const events = await eventsNow();
      const s = events.find((e) => e.kind === 'surge' && e.template.includes('cache miss'));
      const d = events.find((e) => e.kind === 'drop' && e.template.includes(HEARTBEAT));
      return s && d ? ([s, d] as const) : undefined;
    });
    // the same figures as the service test (tests/service-rate.test.ts) with the log moved to now
    expect(surge).toMatchObject({ time: baseMs + 35 * 60_000, observed: BURST_LINES, expected: 0.3, interval: '1 min' });
    expect(drop).toMatchObject({ time: baseMs + 40 * 60_000, observed: 0, interval: '1 min' });

    // The panel with the rate_events query beside the anomalies query: a row for each, among the lines by time.
    await page.goto(`${rateHost.url}/?theme=dark&rate=1`);
    await page.waitForFunction(HOST_DONE, null, { timeout: 30_000 });
    expect(await page.evaluate(HOST_ERROR)).toBeNull();
    const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
    // (by template too: a slow run may also see the requests' drop, the wall clock moving on past the log's end)
    const rateRow = (kind: string, text: string) =>
      scrolledTo(page.getByRole('listitem').filter({ has: page.locator(`[data-rate-event="${kind}"]`) }).filter({ hasText: text }));
    // Rows are ordered by time: the events by their interval's start, the pushed lines by their arrival.
    const dropRow = await rateRow('drop', HEARTBEAT);
    const surgeRow = await rateRow('surge', 'cache miss for key');
    const dropText = await dropRow.textContent();
    expect(dropText).toContain('Drop');
    expect(dropText).toContain(stamp(drop.time));
    expect(dropText).toContain(HEARTBEAT);
    expect(dropText).toContain(`drop: stopped: 0 in 1 min, expected ${drop.expected}`);
    const surgeText = await surgeRow.textContent();
    expect(surgeText).toContain('Surge');
    expect(surgeText).toContain(stamp(surge.time));
    expect(surgeText).toContain('cache miss for key');
    expect(surgeText).toContain(`surge: ${BURST_LINES} in 1 min, expected 0.3`);
    // both at the end of the list (their intervals began before the pushes of their lines): scroll it down to them
    await surgeRow.scrollIntoViewIfNeeded();
    await page.mouse.move(5, 700);
    await screenshot('panel-rate-dark.png');

    // "Anomaly" on the drop: through the route to the fact-store, as a rate answer naming the template.
    await settledClick(page, dropRow.getByRole('button', { name: 'Anomaly', exact: true }));
    const answered = async (row: Locator, badge: string) =>
      row.getByText(badge).waitFor({ timeout: 60_000 }).catch(async (err: Error) => {
        const frame = await page.getByTestId('panel-frame').textContent().catch(() => '?');
        throw new Error(`${err.message}\nrow: ${await row.textContent().catch(() => '?')}\nproxied: ${rateHost.proxied.join(', ')}\nframe: ${frame?.slice(0, 1500)}`);
      });
    await answered(dropRow, 'Answered: anomaly');
    expect(rateHost.proxied).toContain('POST /api/feedback');
    const confirmed = (await rapi<Array<{ message: string; template: string; kind: string; source: string }>>('GET', '/api/feedback?kind=confirmed')).body;
    expect(confirmed).toEqual([expect.objectContaining({ message: `rate drop: ${drop.template}`, template: drop.template, source: 'app', kind: 'confirmed' })]);
    // "Not an anomaly" on the surge.
    await settledClick(page, surgeRow.getByRole('button', { name: 'Not an anomaly' }));
    await answered(surgeRow, 'Answered: not an anomaly');
    // the panel's notice names an answer about the rate (not "Marked as false positive": no line is suppressed)
    await page.getByRole('status').filter({ hasText: `Answered not an anomaly: rate surge:` }).waitFor();
    const normal = (await rapi<Array<{ message: string; template: string; source: string }>>('GET', '/api/feedback?kind=false_positive')).body;
    expect(normal).toEqual([expect.objectContaining({ message: `rate surge: ${surge.template}`, template: surge.template, source: 'app' })]);
    await page.mouse.move(5, 700);
    await screenshot('panel-rate-answered-dark.png');

    // The heartbeat is back: its lines are not "like a confirmed anomaly" (the drop's answer is about the rate).
    const back = movedTo(baseMs, rateLines(50, 51));
    await pushApp(back);
    await scoredApp(training.length + scoredLines.length + back.length);
    const flagged = await anomalyRows(rateBackend.url, 'app');
    expect(flagged.filter((r) => String(r.reason).startsWith('surge: '))).toHaveLength(BURST_LINES - 19);
    expect(flagged.filter((r) => String(r.reason).includes('like confirmed anomaly')).map((r) => r.line)).toEqual([]);
  } finally {
    await rateHost.close();
    await rateBackend.stop();
  }
}, 180_000);
