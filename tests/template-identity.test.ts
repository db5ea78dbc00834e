/**
 * Template identity across the miner's life, with the real engine and the real lowdb fact-store: a false
 * positive recorded against a line's mined template keeps suppressing that line's kind after the template
 * widens, after a retraining that continues from the templates, after a retraining from scratch, and after
 * the fact-store is reopened; and records written before the miner are stamped, not dropped.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadModel, saveModel, trainModel } from '../backend/engine';
import { DEFAULT_TEMPLATE_VERSION, DEFAULT_MINER_CONFIG, templateVersionOf } from '../backend/engine/drain/config';
import { FactStore } from '../backend/store/fact-store';
import { postJson, removeDir, startTestService, tempDir } from './service-helpers';

jest.setTimeout(60_000);

const noNeural = { neural: { enabled: false } };
const routine = (i: number): string => `2024-05-02T12:00:${String(i % 60).padStart(2, '0')}Z host-a app[${100 + i}]: request ${i} served in ${i % 17}ms`;
const warn = (host: string, i: number): string => `2024-05-02T12:01:${String(i % 60).padStart(2, '0')}Z host-a app[${200 + i}]: WARN cache node ${host} slow to answer`;

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => removeDir(dir));

test('a false positive keeps covering its lines through widening, retraining and reopening', async () => {
  const training = Array.from({ length: 400 }, (_, i) => routine(i));
  // one host name seen in training: the template shows it literally
  training.push(warn('alpha', 1));
  const model = await trainModel(training, { config: noNeural });
  const first = model.score(warn('alpha', 2)).template;
  expect(first).toContain('alpha');

  const facts = await FactStore.open(dir);
  const fp = await facts.add({ message: warn('alpha', 2), kind: 'false_positive', source: 's', template: first, score: 1, comment: null, user: null });
  expect(fp.templateVersion).toBe(DEFAULT_TEMPLATE_VERSION);

  // more host names arrive while scoring: the template widens to <*>, and the suppression still covers them
  for (const h of ['beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta']) model.score(warn(h, 3));
  const widened = model.score(warn('theta', 4)).template;
  expect(widened).not.toContain('theta');
  expect(widened).not.toBe(first);
  expect(facts.isSuppressed('s', widened)).toBe(true);

  // a retraining that continues from the templates gives the same text
  const continued = await trainModel(training, { config: noNeural, templates: model.minedTemplates() });
  expect(continued.score(warn('iota', 5)).template).toBe(widened);

  // a retraining from scratch mines afresh; the suppression still covers the line, also after a save/load
  await saveModel(await trainModel(training.slice(0, 300).concat(warn('kappa', 6)), { config: noNeural }), path.join(dir, 'model'));
  const fresh = await loadModel(path.join(dir, 'model'));
  const reopened = await FactStore.open(dir);
  expect(reopened.isSuppressed('s', fresh.score(warn('alpha', 7)).template)).toBe(true);
  // and it does not cover a different kind of line
  expect(reopened.isSuppressed('s', fresh.score('2024-05-02T12:02:00Z host-a app[9]: ERROR disk sda failed').template)).toBe(false);
});

test('records written before the miner are stamped with the template version and counted, none dropped', async () => {
  const legacy = { message: 'm 1', kind: 'false_positive', source: 'a', template: 'm <NUM>', score: 3, comment: null, user: null, id: 'x1', time: new Date(0).toISOString() };
  writeFileSync(path.join(dir, 'fact-store.json'), JSON.stringify({ version: 1, feedback: [legacy, { ...legacy, id: 'x2' }] }));
  const facts = await FactStore.open(dir);
  expect(facts.migrated).toBe(2);
  expect(facts.list().map((r) => r.templateVersion)).toEqual([DEFAULT_TEMPLATE_VERSION, DEFAULT_TEMPLATE_VERSION]);
  expect(facts.isSuppressed('a', 'm <NUM>')).toBe(true);
  expect((await FactStore.open(dir)).migrated).toBe(0);
});

test('a record names the miner settings that made its template; other settings re-stamp it, counted', async () => {
  const wider = templateVersionOf({ ...DEFAULT_MINER_CONFIG, similarity: 0.5, maxValues: 4 });
  expect(wider).toContain('similarity=0.5');
  expect(wider).toContain('maxValues=4');
  expect(DEFAULT_TEMPLATE_VERSION).toContain('similarity=0.4');
  const facts = await FactStore.open(dir);
  await facts.add({ message: 'm 1', kind: 'false_positive', source: 'a', template: 'm <NUM>', score: 3, comment: null, user: null });
  await facts.flush();
  const reopened = await FactStore.open(dir, { templateVersion: wider });
  expect(reopened.migrated).toBe(1);
  expect(reopened.list()[0].templateVersion).toBe(wider);
  // the suppression is kept: the template text still overlaps the lines it covered
  expect(reopened.isSuppressed('a', 'm <NUM>')).toBe(true);
  expect((await FactStore.open(dir, { templateVersion: wider })).migrated).toBe(0);
});

test('the service stamps answers with its own miner settings, and a restart with others re-stamps them', async () => {
  const withMiner = (similarity: number) => (c: Parameters<NonNullable<Parameters<typeof startTestService>[2]>>[0]) => ({
    ...c,
    training: { ...c.training, engine: { ...c.training.engine, miner: { ...c.training.engine.miner, similarity } } },
  });
  let service = await startTestService(dir, {}, withMiner(0.5));
  try {
    const res = await postJson(`${service.url}/api/feedback`, { message: 'disk sda failed', kind: 'false_positive', source: 'a' });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { templateVersion: string }).templateVersion).toContain('similarity=0.5');
  } finally {
    await service.close();
  }
  service = await startTestService(dir, {}, withMiner(0.4));
  await service.close();
  const stored = JSON.parse(readFileSync(path.join(dir, 'fact-store.json'), 'utf8')) as { feedback: { templateVersion: string }[] };
  expect(stored.feedback.map((r) => r.templateVersion)).toEqual([DEFAULT_TEMPLATE_VERSION]);
});

test('a JSON false positive recorded before JSON lines were mined on their message is re-derived, visibly', async () => {
  const line = (host: string): string => `{"time":1700000001000,"pid":1012,"hostname":"${host}","level":40,"msg":"cache miss","key":"item:251"}`;
  // the template the miner gave it when a compact JSON line was split at spaces only (MINER_VERSION 3): the
  // message's first word glued to every member before it, and the rest of the line one token, here a wildcard
  const old = '{"time":<NUM>,"pid":<NUM>,"hostname":"hotel","level":<NUM>,"msg":"cache <*>';
  const text = { message: 'disk sda failed', kind: 'false_positive', source: 'a', template: 'disk <*> failed', score: 3, comment: null, user: null, id: 't1', time: new Date(0).toISOString(), templateVersion: 'masked-1+drain-3' };
  const json = { ...text, id: 'j1', message: line('hotel'), template: old };
  // an old template that is still the whole line splits into its message anyway: kept as it is
  const whole = { ...json, id: 'j2', template: '{"time":<NUM>,"pid":<NUM>,"hostname":"hotel","level":<NUM>,"msg":"cache miss","key":"item:<NUM>"}' };
  writeFileSync(path.join(dir, 'fact-store.json'), JSON.stringify({ version: 1, feedback: [text, json, whole] }));
  const facts = await FactStore.open(dir);
  expect(facts.migrated).toBe(3);
  expect(facts.rederived).toBe(1);
  const [t, j, w] = facts.list();
  expect(w.template).toBe(whole.template);
  expect(t.template).toBe('disk <*> failed'); // still covers its message: kept
  expect(t.previousTemplate).toBeUndefined();
  expect(j.template).toBe('{…"msg":"cache miss"…}');
  expect(j.previousTemplate).toBe(old);
  // and it suppresses the same message from another host, as the model now templates it
  const model = await trainModel([line('alpha'), line('bravo'), 'disk sdb failed'], { config: noNeural });
  expect(model.score(line('echo')).template).toBe('{…"msg":"cache miss"…}');
  expect(facts.isSuppressed('a', model.score(line('echo')).template)).toBe(true);
  expect((await FactStore.open(dir)).rederived).toBe(0);
});
