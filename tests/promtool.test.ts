import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);
const dir = path.resolve(__dirname, '..', 'provisioning', 'prometheus');

/** promtool's exit status and output, without throwing on a non-zero exit. */
async function promtool(args: string[], cwd = dir): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('Prometheus config and rules (real promtool)', () => {
  it('promtool check config accepts prometheus.yml and finds the rule file', async () => {
    const { code, out } = await promtool(['check', 'config', 'prometheus.yml']);
    expect(out).toContain('SUCCESS: 1 rule files found');
    expect(code).toBe(0);
  });

  it('promtool check rules accepts rules.yml', async () => {
    const { code, out } = await promtool(['check', 'rules', 'rules.yml']);
    expect(out).toContain('SUCCESS: 3 rules found');
    expect(code).toBe(0);
  });

  it('promtool test rules: the anomaly-rate alert fires after 5 minutes above 2%, not for a small burst', async () => {
    const { code, out } = await promtool(['test', 'rules', 'rules.test.yml']);
    expect(out).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('the rule tests catch a wrong threshold (they can fail)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lad-promtool-'));
    try {
      const rules = fs.readFileSync(path.join(dir, 'rules.yml'), 'utf8');
      expect(rules).toContain('> 0.02');
      fs.writeFileSync(path.join(tmp, 'rules.yml'), rules.replace('> 0.02', '> 0.06'));
      fs.copyFileSync(path.join(dir, 'rules.test.yml'), path.join(tmp, 'rules.test.yml'));
      const { code, out } = await promtool(['test', 'rules', 'rules.test.yml'], tmp);
      expect(code).not.toBe(0);
      expect(out).toContain('LogAnomalyRateHigh');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
