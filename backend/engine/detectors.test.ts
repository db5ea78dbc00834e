import { chooseThreshold, summarize } from './stats';
import { bestF1, evaluate, rocAuc } from './evaluation';
import { RarityModel } from './rarity';
import { trainModel } from './index';
import type { LadModel } from './model';

describe('thresholds from the training score distribution', () => {
  it('computes weighted mean, std and quantiles', () => {
    const s = summarize([1, 2, 10], [2, 1, 1]); // 1,1,2,10
    expect(s.count).toBe(4);
    expect(s.mean).toBeCloseTo(3.5, 10);
    expect(s.std).toBeCloseTo(Math.sqrt((2 * 2.5 ** 2 + 1.5 ** 2 + 6.5 ** 2) / 4), 10);
    expect(s.quantiles[0]).toBe(1); // median of 1,1,2,10 (lower)
    expect(s.max).toBe(10);
  });

  it('sigma: mean + k·std; percentile: that quantile; never below the floor', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i); // 0..999
    const s = summarize(values, values.map(() => 1));
    expect(chooseThreshold(s, 'sigma', 2, 99.9)).toBeCloseTo(s.mean + 2 * s.std, 10);
    expect(chooseThreshold(s, 'percentile', 3, 99.9)).toBe(998);
    expect(chooseThreshold(s, 'percentile', 3, 99)).toBe(989);
    expect(chooseThreshold(s, 'percentile', 3, 99, 5000)).toBe(5000);
    expect(() => chooseThreshold(s, 'percentile', 3, 97)).toThrow(/percentile/);
  });
});

describe('evaluation metrics on a hand-computable case', () => {
  // scores  : 0.9 0.8 0.7 0.6 0.5 0.4
  // labels  :  A   -   A   -   -   A
  const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
  const labels = [true, false, true, false, false, true];

  it('precision, recall and F1 at a threshold (anomaly when score > threshold)', () => {
    const m = evaluate(scores, labels, 0.65); // flags 0.9 0.8 0.7: TP 2, FP 1, FN 1
    expect(m.flagged).toBe(3);
    expect(m.precision).toBeCloseTo(2 / 3, 10);
    expect(m.recall).toBeCloseTo(2 / 3, 10);
    expect(m.f1).toBeCloseTo(2 / 3, 10);
  });

  it('ROC-AUC counts ordered pairs (ties count half)', () => {
    // pairs (A,N): 0.9 beats 3; 0.7 beats 0.6,0.5 (2); 0.4 beats none → 5 of 9
    expect(rocAuc(scores, labels)).toBeCloseTo(5 / 9, 10);
    expect(rocAuc([1, 1], [true, false])).toBeCloseTo(0.5, 10);
  });

  it('best F1 over thresholds', () => {
    // cut after 0.9: P1 R1/3 F1 .5; after 0.7: P2/3 R2/3 F1 .667; after 0.4: P.5 R1 F1 .667
    const best = bestF1(scores, labels);
    expect(best.f1).toBeCloseTo(2 / 3, 10);
    expect(evaluate(scores, labels, best.threshold).f1).toBeCloseTo(2 / 3, 10);
  });
});

describe('rarity statistics', () => {
  it('counts words, templates and levels; leave-one-out makes a singleton look new', () => {
    const r = new RarityModel(2);
    r.add(['disk', 'ok'], 'disk ok', 2, 99);
    r.add(['disk', 'failed'], 'disk failed', 5, 1);
    expect(r.lines).toBe(100);
    // leave-one-out: 'failed' (1 line) counts as never seen among the other 99 lines
    expect(r.wordBits('failed', 1)).toBeCloseTo(Math.log2(100 / 0.5), 10);
    expect(r.wordBits('never-seen')).toBeCloseTo(Math.log2(101 / 0.5), 10);
    expect(r.wordBits('disk')).toBeLessThan(r.wordBits('failed'));
    // level tail: P(level >= error) = 1/100, P(level >= info) = 100/100
    expect(r.levelBits(5)).toBeGreaterThan(r.levelBits(2));
    expect(r.levelBits(-1)).toBe(0);
    expect(r.problemBits(['disk', 'failed'], null)).toBeCloseTo(r.wordBits('failed'), 10);
    expect(r.problemBits(['disk', 'error'], 'error')).toBe(0); // the level token is not a failure word
  });

  it('counts an exception class as a failure word, but not a bare …error field or callback name', () => {
    const r = new RarityModel(1);
    r.add(['disk', 'ok'], 'disk ok', 2, 100);
    const unseen = r.maxWordBits();
    for (const w of ['java.io.ioexception', 'sockettimeoutexception', 'java.lang.outofmemoryerror']) {
      expect([w, r.problemBits(['read', w], null)]).toEqual([w, unseen]);
    }
    for (const w of ['onerror', 'lasterror', 'x.error', 'exceptional']) {
      expect([w, r.problemBits(['read', w], null)]).toEqual([w, 0]);
    }
  });
});

describe('the combined detector', () => {
  const routine = (i: number): string =>
    [`INFO worker ${i} picked job ${i * 3}`, `INFO worker ${i} finished job ${i * 3} in ${i % 50}ms`, `WARN worker ${i} retrying job ${i}`][i % 3];
  const training = Array.from({ length: 3000 }, (_, i) => routine(i));

  it('needs learned severity on top of novelty: a new INFO line stays below, a new FATAL line with a rare failure word goes above', async () => {
    const model = (await trainModel(training, { config: { neural: { enabled: false } } })) as LadModel;
    const newInfo = model.score('INFO scheduler rebalanced partitions across brokers');
    const newFatal = model.score('FATAL scheduler terminated: partition table corrupted');
    expect(newInfo.anomaly).toBe(false);
    expect(newFatal.anomaly).toBe(true);
    expect(newFatal.reason).toMatch(/terminated|corrupted/);
    expect(newFatal.reason).toMatch(/level fatal/);
    const c = model.components('FATAL scheduler terminated: partition table corrupted');
    expect(c.combined).toBeCloseTo(c.wordsBits + c.levelBits + c.problemBits, 10);
  });

  // A level-less log where "failed" is everyday (sshd's failed logins): the word's rarity is low, but in a kind of
  // line no training line made it marks a new failure mode, and weighs as an unseen word.
  it('weighs a common failure word as unseen in a kind of line training never made', async () => {
    const users = ['root', 'admin', 'guest', 'oracle', 'test', 'ubuntu', 'pi', 'postgres'];
    const sshd = (i: number): string =>
      [
        `sshd[${1000 + i}]: Failed password for ${users[i % 8]} from 10.0.${i % 200}.${i % 250} port ${2000 + i} ssh2`,
        `sshd[${1000 + i}]: Accepted publickey for ${users[i % 8]} from 10.0.${i % 200}.${i % 250} port ${2000 + i} ssh2`,
        `sshd[${1000 + i}]: Connection closed by 10.0.${i % 200}.${i % 250} port ${2000 + i} [preauth]`,
        `sshd[${1000 + i}]: Received disconnect from 10.0.${i % 200}.${i % 250} port ${2000 + i}:11: Bye Bye [preauth]`,
      ][i % 4];
    const model = (await trainModel(Array.from({ length: 2000 }, (_, i) => sshd(i)), { config: { neural: { enabled: false } } })) as LadModel;
    const known = model.components('sshd[4242]: Failed password for root from 10.0.7.9 port 4242 ssh2');
    expect(known.newEvent).toBe(false);
    expect(model.score('sshd[4242]: Failed password for root from 10.0.7.9 port 4242 ssh2').anomaly).toBe(false);
    const line = 'sshd[4243]: Lustre mount failed on volume scratch point /p/gb1';
    const c = model.components(line);
    expect(c.newEvent).toBe(true);
    expect(c.problemWord).toBe('failed');
    expect(c.problemBits).toBeCloseTo(model.rarity.maxWordBits(), 10);
    const r = model.score(line);
    expect(r.anomaly).toBe(true);
    expect(r.reason).toMatch(/failure word "failed" in a kind of line not seen in training/);
    // the same words in a known kind of line keep their own rarity
    expect(known.problemBits).toBeLessThan(2);
  });

  it('learns that a level is routine when training is full of it', async () => {
    const noisy = training.map((l, i) => (i % 2 === 0 ? l.replace('INFO', 'ERROR') : l));
    const model = await trainModel(noisy, { config: { neural: { enabled: false } } });
    const quiet = await trainModel(training, { config: { neural: { enabled: false } } });
    const line = 'ERROR worker 7 picked job 21';
    expect(model.score(line).score).toBeLessThan(quiet.score(line).score);
    expect(model.score(line).anomaly).toBe(false);
  });

  it('reports the same score for lines that share a template (cached) and the chosen detector', async () => {
    const model = await trainModel(training, { config: { neural: { enabled: false }, detector: 'rarity' } });
    const a = { ...model.score('WARN worker 1 retrying job 1') };
    const b = { ...model.score('WARN worker 2 retrying job 2') };
    expect(b).toEqual(a);
    expect(model.info.config.detector).toBe('rarity');
    expect(model.info.stats.thresholdRarity).toBe(model.info.threshold);
  });
});

describe('reasons a person reads', () => {
  it('prints a training count weighed by event counts with at most one decimal', async () => {
    // 6 lines of one kind in a row: with event counts (the default) the burst weighs about one line, a fraction
    const routine = Array.from({ length: 2000 }, (_, i) => `worker ${i % 7} processed job ${i} in ${i % 50} ms`);
    routine.splice(1000, 0, ...Array.from({ length: 6 }, (_, i) => `upstream zeta refused handshake ${i}`));
    const model = (await trainModel(routine, { config: { neural: { enabled: false } } })) as LadModel;
    const df = model.rarity.df.get('upstream');
    expect(df).toBeDefined();
    expect(Number.isInteger(df)).toBe(false);
    const reason = model.score('upstream zeta refused handshake 99 after restart').reason;
    expect(reason).toContain(`upstream (${Math.round(df! * 10) / 10}× in training)`);
    expect(reason).not.toMatch(/\d\.\d{2,}×/);
  });
});
