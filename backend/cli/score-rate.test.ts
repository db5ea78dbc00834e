// lad score's rate anomalies end to end, in process: lad train writes rate.json beside the model, lad score
// flags the lines of a surge (jsonl: anomaly, surge reason, `rate`) and the text format prints the surge and
// a drop as incidents.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { runScore } from './score-command';
import { runTrain } from './train-command';
import { rateLines as minutes } from '../testing/rate-lines';

describe('lad score: rate anomalies', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lad-rate-'));
    writeFileSync(path.join(dir, 'train.log'), minutes(0, 60).join('\n') + '\n');
    writeFileSync(path.join(dir, 'test.log'), minutes(60, 90, { burstAt: 70, stopAt: 80 }).join('\n') + '\n');
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await runTrain({ input: [path.join(dir, 'train.log')], model: path.join(dir, 'model'), quiet: true });
    } finally {
      stderr.mockRestore();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('jsonl: the lines of a surge are anomalies with the surge reason and a rate field', async () => {
    const out = path.join(dir, 'out.jsonl');
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await runScore({ model: path.join(dir, 'model'), input: path.join(dir, 'test.log'), format: 'jsonl', output: out });
    } finally {
      stderr.mockRestore();
    }
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const surge = rows.filter((r) => r.rate !== undefined);
    // 150 burst lines + the minute's own one: from the 20th on (minSurgeCount) they are surge lines
    expect(surge.length).toBeGreaterThanOrEqual(120);
    expect(surge.every((r) => r.anomaly === true && /^surge: .*cache miss .* \d+ in 1 min, expected 0\.3/.test(String(r.reason)))).toBe(true);
    expect(surge[0].rate).toEqual({ observed: 20, expected: 0.3 });
    // one incident, and no other line of the log is a surge
    expect(new Set(surge.map((r) => r.incident)).size).toBe(1);
    expect(rows.filter((r) => r.rate === undefined && String(r.reason).startsWith('surge')).length).toBe(0);
  });

  it('text: prints the surge and the heartbeat that stopped', async () => {
    const out = path.join(dir, 'out.txt');
    await runScore({ model: path.join(dir, 'model'), input: path.join(dir, 'test.log'), format: 'text', output: out });
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/why: surge: .*cache miss/);
    // the heartbeat's last line is in minute 79; minutes 80 and 81 empty: reported when minute 82 begins
    expect(text).toMatch(/drop: .*heartbeat ok from scheduler not seen for 2 intervals of 1 min, expected 1 per interval, last seen in the interval from 2024-01-01T01:19:00.000Z/);
    expect(text).toMatch(/rate: \d+ surge lines, 1 drops \(interval 1 min\)/);
  });
});
