import { calibratedThreshold } from './calibration';
import { judge } from './neighbourhood';

const ok = (score: number) => ({ score, confirmed: true });
const fp = (score: number) => ({ score, confirmed: false });

describe('calibratedThreshold: the answers place the threshold', () => {
  it('moves nothing without answers or when the answers agree with the model', () => {
    expect(calibratedThreshold(10, [])).toBe(10);
    expect(calibratedThreshold(10, [ok(12), fp(8), fp(9.5)])).toBe(10);
  });

  it('lowers the threshold between the normal and the confirmed lines scored below it', () => {
    // confirmations at 8 and 9 say the threshold 10 is too high; the false positive at 7 bounds the move
    expect(calibratedThreshold(10, [ok(8), ok(9), fp(7)])).toBe(7.5);
  });

  it('never raises it: false positives above it are left to their neighbourhoods', () => {
    expect(calibratedThreshold(10, [fp(11), fp(12), ok(14)])).toBe(10);
    expect(calibratedThreshold(10, [fp(11), fp(30), fp(31)])).toBe(10);
  });

  it('keeps the candidate nearest the model threshold among those with the fewest errors', () => {
    // fp 6, ok 8, fp 9, ok 12: one error at 7 and at the threshold 10, two at 8.5 and 10.5; the threshold is nearest
    expect(calibratedThreshold(10, [fp(6), ok(8), fp(9), ok(12)])).toBe(10);
  });
});

describe('calibratedThreshold with the model floor', () => {
  it('never places the threshold below the floor, however the answers fall', () => {
    // two confirmations below one false positive: unbounded, one error at 9.07 beats two at the model's 14.23
    const answers = [fp(6.85), ok(11.29), ok(11.69), fp(12.74)];
    expect(calibratedThreshold(14.23, answers)).toBeCloseTo(9.07, 6);
    expect(calibratedThreshold(14.23, answers, 14.23)).toBe(14.23);
    // a floor below the answers' choice does not bind
    expect(calibratedThreshold(14.23, answers, 9)).toBeCloseTo(9.07, 6);
  });
});

describe('judge with the calibration shift', () => {
  it('flags a line the model scored below its threshold once the answers lower it, and says so', () => {
    const j = judge(9, 10, 'rare words', null, 2);
    expect(j).toMatchObject({ score: 11, anomaly: true, changed: true });
    expect(j.reason).toBe("above the threshold the answers place at 8.00 (the model's 10.00); rare words");
    expect(judge(5, 10, 'r', null, 2)).toMatchObject({ score: 7, anomaly: false, changed: false, reason: 'r' });
  });
});
