import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { resolveConfig } from '../engine';
import { TimestampParser } from '../engine/timestamps';
import { markdown, readProtocol, restamp, runRateProtocol } from './protocol-rate';

// eval:rate on a folder we have never seen: a log too short for either arm is reported, not a crash.
it('reports a log too short to measure and says which targets it could not measure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lad-rate-odd-'));
  try {
    writeFileSync(join(dir, 'short.log'), 'Jun 14 15:16:01 combo sshd[1]: session opened\n');
    const p = readProtocol();
    const results = await runRateProtocol(dir, p, resolveConfig({ neural: { enabled: false } }));
    expect(results).toEqual([{ log: 'short', lines: 1, surge: [], heartbeat: [], skipped: '1 healthy lines, fewer than 10' }]);
    const md = markdown(results, p);
    expect(md).toContain('| short | n/a (1 healthy lines, fewer than 10) | n/a |');
    expect(md).toContain('- not measured: burst recall ≥ 0.80 on every log and seed — no log with a surge run');
    expect(md).toContain('- not measured: heartbeat stop reported in time — no log with a heartbeat run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// klog's first letter is the line's severity: re-stamped with the whole match, a W line's surge copies became
// I lines, another template, and a surge of a warning was never seen (recall 0.00 on the generated klog log)
it('re-stamps the time only, keeping a severity letter glued to it', () => {
  const parser = new TimestampParser();
  const line = 'W0507 12:04:17.597069       1 evictions.go:180] "Error evicting pod"';
  expect(restamp(parser, line, '0507 12:09:00.000001')).toBe('W0507 12:09:00.000001       1 evictions.go:180] "Error evicting pod"');
  // a stamp of another format (the heartbeat arm's ISO time) is set apart, so it is still read
  const iso = restamp(parser, line, '2024-01-01T00:01:00.000Z', false)!;
  expect(iso).toBe('W 2024-01-01T00:01:00.000Z       1 evictions.go:180] "Error evicting pod"');
  expect(parser.parse(iso)).toBe(Date.UTC(2024, 0, 1, 0, 1));
  expect(restamp(parser, 'Jun 14 15:16:01 combo sshd[1]: x', '2024-01-01T00:01:00.000Z', false)).toBe('2024-01-01T00:01:00.000Z combo sshd[1]: x');
});
