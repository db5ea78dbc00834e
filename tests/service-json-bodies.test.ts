/**
 * JSON bodies are refused by their shape before JSON.parse builds them (backend/api/json-body.ts): a 10 MB body of
 * nested arrays is 5 million arrays. 20 at once took the built service 32.8 s to refuse (health 21.9 s), and one
 * ran a 384 MB heap out. Now: 400 naming `body` and the limit, in milliseconds; bodies at every query limit pass.
 */
import type { Service } from '../backend/server/service';
import { postJson, removeDir, startTestService, tempDir } from './service-helpers';

let dir: string;
let service: Service;
beforeAll(async () => {
  dir = tempDir('lad-json-bodies-');
  service = await startTestService(dir);
});
afterAll(async () => {
  await service.close();
  removeDir(dir);
});

const post = (path: string, text: string) => fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });

test.each(['/api/query', '/api/feedback'])('%s: 10 MB of nested arrays → 400 naming body and the depth limit, quickly', async (path) => {
  const text = `{"message":${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}}`;
  const started = Date.now();
  const res = await post(path, text);
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ error: expect.stringContaining('nested deeper than 64 levels'), field: 'body' });
  // parsing it took 1.0-1.6 s per body on the old code; the scan a few ms (generous for a loaded machine)
  expect(Date.now() - started).toBeLessThan(1000);
  expect((await fetch(`${service.url}/api/health`)).status).toBe(200);
});

test('a query at the other limits (50 targets, 500 sources each) is not refused by its shape', async () => {
  const sources = Array.from({ length: 500 }, (_, i) => `s${i}`);
  const targets = Array.from({ length: 50 }, (_, i) => ({ refId: `T${i}`, queryType: 'anomalies', source: sources, limit: 10, datasource: { type: 'scorpio', uid: 'x' } }));
  const res = await postJson(`${service.url}/api/query`, { range: { from: 0, to: 60_000, raw: { from: 'now-1h', to: 'now' } }, targets, scopedVars: { __interval: { text: '1m', value: '1m' } } });
  expect(res.status).toBe(200);
});
