/**
 * The lowdb fact-store's group commit: concurrent mutations share file writes, yet each promise resolves only
 * once the file on disk holds its change; a bad record or a failed write is answered without losing the others.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { removeDir, tempDir } from '../testing/temp-dir';
import { DurableJSONFile } from './durable-json-file';
import { defaultFactStoreChars, FACT_STORE_LIMITS, FactStoreFullError, type NewFeedback } from './fact-store';
import { LowdbFactStore } from './fact-store-lowdb';

let dir: string;
beforeEach(() => {
  dir = tempDir('lad-fact-store-');
});
afterEach(() => {
  jest.restoreAllMocks();
  removeDir(dir);
});

const answer = (i: number): NewFeedback => ({
  source: 'app',
  message: `disk at ${i}%`,
  template: 'disk at <NUM>%',
  score: i,
  kind: i % 2 ? 'false_positive' : 'confirmed',
  comment: null,
  user: 'ops',
});
const idsOnDisk = (): string[] => (JSON.parse(readFileSync(path.join(dir, 'fact-store.json'), 'utf8')) as { feedback: { id: string }[] }).feedback.map((r) => r.id);

test('200 concurrent adds: each is on disk when its promise resolves, in far fewer writes than adds', async () => {
  const store = await LowdbFactStore.open(dir);
  const writes = jest.spyOn(DurableJSONFile.prototype, 'write');
  const missing: string[] = [];
  const added = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      store.add(answer(i)).then((record) => {
        // Read the file at the moment this caller is answered: the record must already be there.
        if (!idsOnDisk().includes(record.id)) missing.push(record.id);
        return record;
      }),
    ),
  );
  expect(missing).toEqual([]);
  // Arrival order is kept in the file and in list().
  expect(idsOnDisk()).toEqual(added.map((r) => r.id));
  expect(store.list().map((r) => r.message)).toEqual(added.map((_, i) => `disk at ${i}%`));
  // One write for the first add, one for everything that arrived during it (a few more on a slow machine).
  expect(writes.mock.calls.length).toBeGreaterThanOrEqual(1);
  expect(writes.mock.calls.length).toBeLessThanOrEqual(10);
  expect(store.writes).toBe(writes.mock.calls.length);
  expect(store.isSuppressed('app', 'disk at <NUM>%')).toBe(true);
  const reopened = await LowdbFactStore.open(dir);
  expect(reopened.list()).toHaveLength(200);
});

test('adds and deletes in one batch apply in arrival order; deleting an unknown id writes nothing', async () => {
  const store = await LowdbFactStore.open(dir);
  const first = await store.add(answer(1));
  const writes = jest.spyOn(DurableJSONFile.prototype, 'write');
  const changes: string[] = [];
  store.onChange((record, change) => changes.push(`${change} ${record.message}`));
  const [second, deletedFirst, third] = await Promise.all([store.add(answer(2)), store.delete(first.id), store.add(answer(3))]);
  expect(deletedFirst).toBe(true);
  expect(idsOnDisk()).toEqual([second.id, third.id]);
  expect(changes).toEqual(['added disk at 2%', 'deleted disk at 1%', 'added disk at 3%']);
  const before = writes.mock.calls.length;
  expect(await store.delete('no-such-id')).toBe(false);
  await store.flush();
  expect(writes.mock.calls.length).toBe(before);
});

test('a record that cannot be stored is refused alone: the rest of its batch is written', async () => {
  const store = await LowdbFactStore.open(dir);
  const bad = [
    { ...answer(1), score: 'high' as unknown as number },
    { ...answer(2), extra: BigInt(1) } as NewFeedback,
  ];
  const results = await Promise.allSettled([store.add(answer(0)), ...bad.map((b) => store.add(b)), store.add(answer(3))]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/score/);
  expect(store.list().map((r) => r.message)).toEqual(['disk at 0%', 'disk at 3%']);
  expect(idsOnDisk()).toHaveLength(2);
  expect((await LowdbFactStore.open(dir)).list()).toHaveLength(2);
});

test('a failed write fails every change of its batch and undoes them; the next batch writes', async () => {
  const store = await LowdbFactStore.open(dir);
  const kept = await store.add(answer(0));
  await new Promise(setImmediate); // the store's commit loop winds down after answering: let it go idle
  const realWrite = DurableJSONFile.prototype.write;
  let calls = 0;
  jest.spyOn(DurableJSONFile.prototype, 'write').mockImplementation(function (this: DurableJSONFile<unknown>, data: unknown) {
    return ++calls === 2 ? Promise.reject(new Error('disk full')) : realWrite.call(this, data);
  });
  // The first add is written alone; the three arriving during it share the second write, which fails.
  const results = await Promise.allSettled([store.add(answer(1)), store.add(answer(2)), store.delete(kept.id), store.add(answer(3))]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
  expect(store.list().map((r) => r.message)).toEqual(['disk at 0%', 'disk at 1%']);
  expect(store.isSuppressed('app', 'disk at <NUM>%')).toBe(true); // answer(1), a false positive, is durable
  await store.add(answer(4));
  expect(store.list().map((r) => r.message)).toEqual(['disk at 0%', 'disk at 1%', 'disk at 4%']);
  expect(idsOnDisk()).toEqual(store.list().map((r) => r.id));
});

test('an add that would take the records past maxChars is refused alone, stores nothing, and a delete makes room', async () => {
  const long = (i: number): NewFeedback => ({ ...answer(i), message: `${'x'.repeat(900)} ${i}` });
  // One record's characters in the file (its JSON and a comma), from a store of its own: room for three and a half.
  const one = JSON.stringify(await (await LowdbFactStore.open(path.join(dir, 'probe'))).add(long(9))).length + 1;
  const maxChars = Math.floor(3.5 * one);
  const store = await LowdbFactStore.open(dir, { maxChars });
  // Three fit, the fourth does not; arriving together they share one batch.
  const results = await Promise.allSettled([0, 1, 2, 3].map((i) => store.add(long(i))));
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
  const refused = (results[3] as PromiseRejectedResult).reason as Error;
  expect(refused).toBeInstanceOf(FactStoreFullError);
  expect(refused.message).toMatch(new RegExp(`^fact-store full: its records take \\d+ characters of JSON, this one \\d+ more, and the bound is ${maxChars} `));
  expect(idsOnDisk()).toHaveLength(3);
  // a store reopened over the same file counts what it holds: still full
  const reopened = await LowdbFactStore.open(dir, { maxChars });
  await expect(reopened.add(long(4))).rejects.toBeInstanceOf(FactStoreFullError);
  await expect(reopened.delete(reopened.list()[0].id)).resolves.toBe(true);
  await expect(reopened.add(long(5))).resolves.toMatchObject({ message: expect.stringMatching(/ 5$/) });
  expect(idsOnDisk()).toHaveLength(3);
});

test('the default bound is the smaller of 64 Mi characters and a sixteenth of the heap limit', () => {
  expect(defaultFactStoreChars(384 * 1024 * 1024)).toBe(24 * 1024 * 1024);
  expect(defaultFactStoreChars(4144 * 1024 * 1024)).toBe(FACT_STORE_LIMITS.maxChars);
});
