/**
 * The plugin's view of the HTTP contract (src/shared/contract.ts) against a REAL service's answers: every field the
 * backend sends is one the plugin's schema names, and every field the schema requires is sent. A field added on one
 * side only fails here instead of never reaching the app page.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';

import * as backendContract from '../backend/contract';

import type { Service } from '../backend/server/service';
import {
  ANOMALY_FIELDS,
  contextSchema,
  feedbackRecordSchema,
  healthSchema,
  livenessSchema,
  queryResponseSchema,
  RATE_EVENT_FIELDS,
  REVIEW_FIELDS,
  reviewResponseSchema,
  sourceHealthSchema,
} from '../src/shared/contract';
import * as pluginContract from '../src/shared/contract';
import { anomalyLines, normalLines, postJson, pushLines, removeDir, rowsOf, startTestService, tempDir, waitScored } from './service-helpers';

jest.setTimeout(60_000);

const TOKEN = 'contract-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let dir: string;
let service: Service;

beforeAll(async () => {
  dir = tempDir();
  service = await startTestService(dir, { LAD_API_TOKEN: TOKEN });
  expect((await pushLines(service.url, 'shop', normalLines.slice(0, 300), auth)).status).toBe(204);
  await waitScored(service, 'shop', 300);
  expect((await pushLines(service.url, 'shop', [...normalLines.slice(300, 340), anomalyLines[2], ...normalLines.slice(340, 360)], auth)).status).toBe(204);
  await waitScored(service, 'shop', 361);
  expect((await postJson(`${service.url}/api/feedback`, { message: anomalyLines[2], kind: 'confirmed' }, auth)).status).toBe(201);
});

afterAll(async () => {
  await service?.close();
  removeDir(dir);
});

/**
 * Parses strictly and compares key sets, so an extra backend field is a failure too (zod strips unknown keys): every
 * key sent is one the schema names, and every key the schema requires is sent.
 */
function sameKeys(schema: z.ZodObject, value: unknown): void {
  expect(schema.safeParse(value).error?.issues ?? []).toEqual([]);
  const sent = Object.keys(value as object).sort();
  const shape = schema.shape as Record<string, z.ZodType>;
  expect(sent.filter((k) => !(k in shape))).toEqual([]);
  expect(Object.keys(shape).filter((k) => !shape[k].safeParse(undefined).success && !sent.includes(k))).toEqual([]);
}

describe('the plugin parses the real backend', () => {
  it('GET /api/health with the token: every field, the sources and the fact-store', async () => {
    const res = await fetch(`${service.url}/api/health`, { headers: auth });
    const body = (await res.json()) as { sources: unknown[] };
    sameKeys(healthSchema, body);
    expect(body.sources.length).toBe(1);
    sameKeys(sourceHealthSchema, body.sources[0]);
    expect(healthSchema.parse(body).factStore.precision).toBe(1);
  });

  it('GET /api/health without the token: liveness only, which the plugin recognises', async () => {
    const body = await (await fetch(`${service.url}/api/health`)).json();
    expect(livenessSchema.safeParse(body).success).toBe(true);
    expect(healthSchema.safeParse(body).success).toBe(false);
  });

  it('GET /api/anomalies/:id/context', async () => {
    const anomalies = rowsOf(
      (await (await fetch(`${service.url}/api/query`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ range: { from: Date.now() - 3600_000, to: Date.now() + 60_000 }, targets: [{ refId: 'A', queryType: 'anomalies', source: 'shop' }] }),
      })).json() as { results: { A: { frames: Parameters<typeof rowsOf>[0][] } } }).results.A.frames[0]
    );
    expect(anomalies.length).toBeGreaterThan(0);
    const ctx = await (await fetch(`${service.url}/api/anomalies/${encodeURIComponent(String(anomalies[0].id))}/context?before=3&after=3`, { headers: auth })).json();
    sameKeys(contextSchema, ctx);
    const row = (ctx as { anomaly: unknown }).anomaly;
    sameKeys(contextSchema.shape.anomaly as unknown as z.ZodObject, row);
  });

  it('GET /api/review: the queue and each item', async () => {
    const body = await (await fetch(`${service.url}/api/review?source=shop&limit=3`, { headers: auth })).json();
    sameKeys(reviewResponseSchema, body);
    const items = (body as { items: unknown[] }).items;
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) sameKeys(reviewResponseSchema.shape.items.element, item);
  });

  it('POST /api/feedback and GET /api/feedback: the fact-store record', async () => {
    const list = (await (await fetch(`${service.url}/api/feedback`, { headers: auth })).json()) as unknown[];
    expect(list.length).toBe(1);
    sameKeys(feedbackRecordSchema, list[0]);
  });

  it('POST /api/query: every query type answers frames the plugin reads', async () => {
    const types = ['anomalies', 'rate', 'templates', 'feedback', 'review', 'template_rates', 'rate_events'];
    const res = await fetch(`${service.url}/api/query`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ range: { from: Date.now() - 3600_000, to: Date.now() + 60_000 }, targets: types.map((queryType) => ({ refId: queryType, queryType })) }),
    });
    const body = await res.json();
    sameKeys(queryResponseSchema, body);
    for (const type of types) {
      const frames = queryResponseSchema.parse(body).results[type].frames ?? [];
      for (const frame of frames) sameKeys(queryResponseSchema.shape.results.valueType.shape.frames.unwrap().element, frame);
    }
  });

  it("POST /api/query: the frames the plugin reads by field name have exactly the contract's fields, in order", async () => {
    // backend/contract/frames.ts: the plugin (src/panel, src/datasource) looks these fields up by these names
    const contract: Record<string, readonly string[]> = { anomalies: ANOMALY_FIELDS, review: REVIEW_FIELDS, rate_events: RATE_EVENT_FIELDS };
    const res = await fetch(`${service.url}/api/query`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ range: { from: Date.now() - 3600_000, to: Date.now() + 60_000 }, targets: Object.keys(contract).map((queryType) => ({ refId: queryType, queryType })) }),
    });
    const { results } = queryResponseSchema.parse(await res.json());
    for (const [type, names] of Object.entries(contract)) {
      const frames = results[type].frames ?? [];
      expect({ type, frames: frames.length }).toEqual({ type, frames: 1 });
      expect({ type, fields: frames[0].schema.fields.map((f) => f.name) }).toEqual({ type, fields: [...names] });
      // the table has a column per field: the names are not sent without their values
      expect({ type, columns: frames[0].data.values.length }).toEqual({ type, columns: names.length });
    }
    // rows, not just a header (rate_events stays empty here: no surge or drop in these lines)
    const rows = (type: string) => results[type].frames![0].data.values[0].length;
    expect({ anomalies: rows('anomalies') > 0, review: rows('review') > 0 }).toEqual({ anomalies: true, review: true });
  });
});

describe('one contract module', () => {
  it("the plugin's contract is the backend's module itself, not a copy", () => {
    expect(Object.keys(pluginContract).sort()).toEqual(Object.keys(backendContract).sort());
    for (const [name, value] of Object.entries(backendContract)) expect({ name, same: (pluginContract as Record<string, unknown>)[name] === value }).toEqual({ name, same: true });
  });

  it('imports nothing but zod and its own modules (it is bundled into the browser)', () => {
    const dir = path.join(__dirname, '..', 'backend', 'contract');
    const imports = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .flatMap((f) => [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => `${f}: ${m[1]}`));
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => !/: (zod|\.\/[\w-]+)$/.test(i))).toEqual([]);
  });
});
