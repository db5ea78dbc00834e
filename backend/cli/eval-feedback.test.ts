// `lad eval --feedback N,…`: the JSON report gains feedbackCurve (one point per N, 0 = no answers), the text
// report prints the same table, and bad counts or unlabelled input are refused with a readable error.

import path from 'node:path';
import { LOGHUB_DIR } from '../testdata/paths';
import { parseClicks, runEval, type EvalCommandOptions, type EvalReport } from './eval-command';

const input = [path.join(LOGHUB_DIR, 'BGL_2k.log')];
const base: EvalCommandOptions = { input, labels: 'first-field', trainFraction: 0.3, format: 'json', detectors: 'combined', neural: false, quiet: true };

async function captured(o: EvalCommandOptions): Promise<{ report: EvalReport; out: string }> {
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { report: await runEval(o), out };
  } finally {
    spy.mockRestore();
  }
}

describe('lad eval --feedback', () => {
  it('adds feedbackCurve to the JSON report, N = 0 equal to the plain figures', async () => {
    const { report, out } = await captured({ ...base, feedback: '0,3' });
    const json = JSON.parse(out) as EvalReport;
    expect(json.feedbackCurve?.map((p) => p.clicks)).toEqual([0, 3]);
    const [none, three] = report.feedbackCurve!;
    expect(none.f1).toBeCloseTo(report.detectors.combined!.f1, 10);
    expect(none.confirmed + none.falsePositives).toBe(0);
    expect(three.confirmed + three.falsePositives).toBe(3);
    for (const key of ['precision', 'recall', 'f1', 'rocAuc'] as const) expect(Number.isFinite(three[key])).toBe(true);
  });

  it('prints the table in the text format', async () => {
    const { out } = await captured({ ...base, format: 'text', feedback: '0' });
    expect(out).toMatch(/clicks\s+confirmed\s+false-pos\s+precision\s+recall\s+F1\s+ROC-AUC\s+changed/);
  });

  it('refuses bad counts and unlabelled input', async () => {
    expect(() => parseClicks('5,x')).toThrow(/--feedback takes answer counts/);
    expect(() => parseClicks('-1')).toThrow(/--feedback/);
    // Number() would read these as 0, 0, 16 and 1,000,000,000 answers
    for (const bad of ['', '5,', ' ', '0x10', '1e9']) expect(() => parseClicks(bad)).toThrow(/--feedback takes answer counts/);
    expect(parseClicks(' 0, 5 ,20')).toEqual([0, 5, 20]);
    await expect(runEval({ ...base, labels: 'none', feedback: '5' })).rejects.toThrow(/needs labels/);
  });
});
