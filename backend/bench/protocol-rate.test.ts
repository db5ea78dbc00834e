import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { resolveConfig } from '../engine';
import { markdown, readProtocol, runRateProtocol } from './protocol-rate';

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
