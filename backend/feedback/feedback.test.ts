// The neighbourhood rule and FeedbackIndex over a real model and a real fact-store: a confirmed line flags a
// near-duplicate with other ids and a sibling failure message; a false positive quiets its neighbourhood but
// not a different failure; a confirmation nearer the line wins; DELETE undoes; a reopened store rebuilds.

import { trainModel } from '../engine';
import type { LadModel } from '../engine/model';
import { FactStore, type NewFeedback } from '../store/fact-store';
import { removeDir, tempDir } from '../testing/temp-dir';
import { featuresOf } from './features';
import { FeedbackIndex, wordWeightOf } from './feedback-index';
import { judge, nearestVerdict } from './neighbourhood';
import { similarity } from './similarity';

function corpus(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 600; i++) {
    const t = `2024-01-01T00:${String(i % 60).padStart(2, '0')}:00Z`;
    lines.push(`${t} INFO worker-${i % 7} processed request ${1000 + i} in ${i % 13} ms`);
    if (i % 3 === 0) lines.push(`${t} INFO cache refreshed with ${i} entries`);
    if (i % 50 === 0) lines.push(`${t} WARN disk usage at ${60 + (i % 30)} percent on volume data`);
  }
  return lines;
}

const CONFIRMED = '2024-01-02T00:00:00Z ERROR raid controller lost drive 7 in array main';
const DUPLICATE = '2024-01-02T05:00:00Z ERROR raid controller lost drive 3 in array main';
const SIBLING = '2024-01-02T06:00:00Z ERROR raid controller degraded array main after drive loss';
const OTHER_FAILURE = '2024-01-02T07:00:00Z ERROR kernel oops in network driver eth0 stack trace follows';
const FALSE_POSITIVE = '2024-01-02T08:00:00Z WARN certificate rotation scheduled for ingress gateway tomorrow';
const FP_NEIGHBOUR = '2024-01-02T09:00:00Z WARN certificate rotation scheduled for ingress gateway next week';

let model: LadModel;
beforeAll(async () => {
  model = (await trainModel(corpus(), { config: { neural: { enabled: false } } })) as LadModel;
});

const weightOf = (): ((w: string) => number) => wordWeightOf(model);

describe('similarity (rarity-weighted word overlap)', () => {
  it('puts a near-duplicate with other ids and a sibling failure inside the radius, a different failure outside', () => {
    const c = featuresOf(CONFIRMED);
    expect(similarity(c, featuresOf(DUPLICATE), weightOf())).toBeGreaterThan(0.9);
    expect(similarity(c, featuresOf(SIBLING), weightOf())).toBeGreaterThanOrEqual(0.5);
    expect(similarity(c, featuresOf(OTHER_FAILURE), weightOf())).toBeLessThan(0.5);
  });
});

describe('nearestVerdict and judge', () => {
  const fp = { id: 'fp', kind: 'false_positive' as const, features: featuresOf(CONFIRMED) };
  const ok = { id: 'ok', kind: 'confirmed' as const, features: featuresOf(CONFIRMED) };

  it('lets a confirmation win a tie: a false positive never overrides a confirmation as near', () => {
    expect(nearestVerdict(featuresOf(DUPLICATE), [fp, ok], weightOf())?.id).toBe('ok');
    expect(nearestVerdict(featuresOf(DUPLICATE), [ok, fp], weightOf())?.id).toBe('ok');
  });

  it('lets the nearer answer decide', () => {
    const nearFp = { id: 'near', kind: 'false_positive' as const, features: featuresOf(SIBLING) };
    expect(nearestVerdict(featuresOf(SIBLING), [ok, nearFp], weightOf())?.id).toBe('near');
  });

  it('gives no verdict outside the radius', () => {
    expect(nearestVerdict(featuresOf(OTHER_FAILURE), [ok], weightOf())).toBeNull();
  });

  it('lifts a confirmed neighbour above the threshold and lowers a false-positive neighbour below it', () => {
    const up = judge(1, 10, 'r', { kind: 'confirmed', id: 'a', similarity: 0.8 });
    expect(up).toMatchObject({ anomaly: true, changed: true });
    expect(up.score).toBeGreaterThan(10);
    expect(up.reason).toMatch(/^like confirmed anomaly a/);
    const down = judge(20, 10, 'r', { kind: 'false_positive', id: 'b', similarity: 0.8 });
    expect(down).toMatchObject({ anomaly: false, changed: true });
    expect(down.score).toBeLessThan(10);
    expect(judge(3, 10, 'r', { kind: 'false_positive', id: 'b', similarity: 0.8 })).toMatchObject({ changed: false, reason: 'r' });
  });
});

describe('FeedbackIndex over the fact-store', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('lad-feedback-');
  });
  afterEach(() => removeDir(dir));

  const answer = (message: string, kind: NewFeedback['kind']): NewFeedback => ({
    source: 'app',
    message,
    kind,
    template: model.templateOf(message),
    score: null,
    comment: null,
    user: null,
  });
  const decide = (index: FeedbackIndex, line: string) => index.apply(model, line, model.score(line));

  it('flags lines like a confirmed one at once, and DELETE undoes it', async () => {
    const facts = await FactStore.open(dir);
    const index = new FeedbackIndex(facts, 'app');
    // the unsupervised model alone: the sibling is not flagged (so the confirmation is what flags it)
    const lowered = { ...model.score(SIBLING), score: 0, anomaly: false };
    expect(index.apply(model, SIBLING, lowered).anomaly).toBe(false);
    const record = await facts.add(answer(CONFIRMED, 'confirmed'));
    const judged = index.apply(model, SIBLING, lowered);
    expect(judged.anomaly).toBe(true);
    expect(judged.reason).toContain(`like confirmed anomaly ${record.id}`);
    expect(decide(index, DUPLICATE).reason).toContain(`like confirmed anomaly ${record.id}`);
    expect(decide(index, OTHER_FAILURE).reason).not.toContain('like confirmed anomaly');
    expect(index.changed).toBeGreaterThan(0);
    await facts.delete(record.id);
    expect(index.apply(model, SIBLING, lowered).anomaly).toBe(false);
    index.close();
  });

  it('quiets the neighbourhood of a false positive but not a different failure, also after a restart', async () => {
    const facts = await FactStore.open(dir);
    await facts.add(answer(FALSE_POSITIVE, 'false_positive'));
    await facts.flush();
    const reopened = await FactStore.open(dir);
    const index = new FeedbackIndex(reopened, 'app');
    expect(index.counts()).toEqual({ confirmed: 0, falsePositives: 1 });
    const raw = model.score(FP_NEIGHBOUR);
    expect(raw.anomaly).toBe(true);
    expect(index.apply(model, FP_NEIGHBOUR, raw).anomaly).toBe(false);
    expect(model.score(OTHER_FAILURE).anomaly).toBe(true);
    expect(decide(index, OTHER_FAILURE).anomaly).toBe(true);
    index.close();
  });

  it('ignores answers for another source and keeps confirmed lines out of training', async () => {
    const facts = await FactStore.open(dir);
    await facts.add({ ...answer(CONFIRMED, 'confirmed'), source: 'other' });
    const index = new FeedbackIndex(facts, 'app');
    expect(index.size).toBe(0);
    await facts.add(answer(CONFIRMED, 'confirmed'));
    expect(index.likeConfirmed(model, DUPLICATE)).toBe(true);
    expect(index.likeConfirmed(model, corpus()[0])).toBe(false);
    expect(index.withoutConfirmed(model, [corpus()[0], DUPLICATE, SIBLING, corpus()[1]])).toEqual([corpus()[0], corpus()[1]]);
    index.close();
  });
});
