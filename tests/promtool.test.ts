import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';
import { parse, stringify } from 'yaml';

const run = promisify(execFile);
const provisioning = path.resolve(__dirname, '..', 'provisioning');
const dir = path.join(provisioning, 'prometheus');

/** PromQL of the dashboard's Prometheus panels and of the Grafana-managed alert, Grafana macros replaced. */
function grafanaPromQL(): string[] {
  const dashboard = JSON.parse(fs.readFileSync(path.join(provisioning, 'dashboards', 'json', 'log-anomalies.json'), 'utf8'));
  const alerting = parse(fs.readFileSync(path.join(provisioning, 'alerting', 'anomaly-rate.yaml'), 'utf8'));
  const exprs: string[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      if (target.datasource?.type === 'prometheus') {
        exprs.push(target.expr);
      }
    }
  }
  for (const rule of alerting.groups[0].rules) {
    for (const query of rule.data) {
      if (query.model.expr) {
        exprs.push(query.model.expr);
      }
    }
  }
  return exprs.map((e) => e.replace(/\$__rate_interval|\$__interval/g, '5m'));
}

/** `promtool check rules` on the given expressions as recording rules (it parses every expression). */
async function checkExpressions(exprs: string[]) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lad-promql-'));
  try {
    const rules = { groups: [{ name: 'grafana', rules: exprs.map((expr, i) => ({ record: `grafana:expr_${i}`, expr })) }] };
    fs.writeFileSync(path.join(tmp, 'grafana.yml'), stringify(rules));
    return await promtool(['check', 'rules', 'grafana.yml'], tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

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
    // The scrape's token file is a compose secret (/run/secrets/...), which promtool checks exists: check a copy
    // that points at a temporary one instead.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lad-promconf-'));
    try {
      const config = fs.readFileSync(path.join(dir, 'prometheus.yml'), 'utf8');
      expect(config).toContain('credentials_file: /run/secrets/lad_api_token');
      fs.writeFileSync(path.join(tmp, 'token'), 'a-test-token\n');
      fs.writeFileSync(path.join(tmp, 'prometheus.yml'), config.replace('/run/secrets/lad_api_token', path.join(tmp, 'token')));
      fs.copyFileSync(path.join(dir, 'rules.yml'), path.join(tmp, 'rules.yml'));
      const { code, out } = await promtool(['check', 'config', 'prometheus.yml'], tmp);
      expect(out).toContain('SUCCESS: 1 rule files found');
      expect(code).toBe(0);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('promtool check rules accepts rules.yml', async () => {
    const { code, out } = await promtool(['check', 'rules', 'rules.yml']);
    expect(out).toContain('SUCCESS: 4 rules found'); // the anomaly ratio, its alert, LogRateAnomaly, ScorpioBackendDown
    expect(code).toBe(0);
  });

  it('promtool test rules: the anomaly-rate alert fires after 5 minutes above 2%, not for a small burst; a rate anomaly fires at once', async () => {
    const { code, out } = await promtool(['test', 'rules', 'rules.test.yml']);
    expect(out).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('the PromQL of the dashboard and of the Grafana-managed alert parses (promtool check rules)', async () => {
    const exprs = grafanaPromQL();
    expect(exprs.length).toBeGreaterThanOrEqual(7);
    const { code, out } = await checkExpressions(exprs);
    expect(out).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(code).toBe(0);
    const broken = await checkExpressions(['sum by (source (rate(lad_anomalies_total[5m]))']);
    expect(broken.code).not.toBe(0);
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
