/**
 * A real Prometheus (Debian's /usr/bin/prometheus, started here on loopback with a temp config and storage)
 * scrapes the service's /metrics and answers a PromQL anomaly-rate query after anomalous lines were pushed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Service } from '../backend/server/service';
import { freePort } from '../backend/testing/loopback';
import { anomalyLines, normalLines, pushLines, removeDir, startTestService, tempDir, waitFor, waitScored } from './service-helpers';

jest.setTimeout(90_000);

const PROMETHEUS = '/usr/bin/prometheus';

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(promUrl: string, expr: string): Promise<PromResult[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data?: { result: PromResult[] }; error?: string };
  if (body.status !== 'success') {
    throw new Error(`PromQL ${expr} failed: ${body.error}`);
  }
  return body.data!.result;
}

let dir: string;
let service: Service;
let prometheus: ChildProcess | null = null;
let promLog = '';

beforeAll(async () => {
  if (!existsSync(PROMETHEUS)) {
    throw new Error(`${PROMETHEUS} missing: scripts/test.sh installs Debian's prometheus package`);
  }
  dir = tempDir('lad-prom-');
  service = await startTestService(dir);
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus!.on('exit', resolve));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await service?.close();
  removeDir(dir);
});

test('Prometheus scrapes /metrics and computes the anomaly rate of pushed lines', async () => {
  const url = service.url;
  expect((await pushLines(url, 'web', normalLines.slice(0, 300))).status).toBe(204);
  await waitScored(service, 'web', 300);

  const promPort = await freePort();
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: lad',
      `    static_configs: [{ targets: ['127.0.0.1:${service.port}'] }]`,
      '',
    ].join('\n')
  );
  prometheus = spawn(PROMETHEUS, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);
  prometheus.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
  const promUrl = `http://127.0.0.1:${promPort}`;
  await waitFor(async () => {
    try {
      const up = await promQuery(promUrl, 'up{job="lad"}');
      return up.length === 1 && up[0].value[1] === '1' ? true : undefined;
    } catch {
      return undefined; // not listening yet
    }
  }, `Prometheus to scrape the service (log: ${promLog.slice(-500)})`, 45_000);

  // Traffic with anomalies in it, over several scrapes: 40 normal lines and 2 anomalies per batch.
  for (let batch = 0; batch < 6; batch++) {
    const lines = [...normalLines.slice(300 + batch * 40, 340 + batch * 40), anomalyLines[batch % anomalyLines.length], anomalyLines[(batch + 6) % anomalyLines.length]];
    expect((await pushLines(url, 'web', lines)).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
  await waitScored(service, 'web', 300 + 6 * 42);
  const stats = service.pipelines.get('web')!.stats();
  expect(stats.anomalies).toBeGreaterThanOrEqual(12);

  // The counter Prometheus holds equals the service's own count once a scrape saw the last batch.
  await waitFor(async () => {
    const r = await promQuery(promUrl, 'lad_anomalies_total{source="web"}');
    return r.length === 1 && Number(r[0].value[1]) === stats.anomalies ? true : undefined;
  }, 'Prometheus to see the final anomaly count');

  // The alerting expression of the project: anomalies per scored line.
  const ratio = await promQuery(promUrl, 'sum by (source) (increase(lad_anomalies_total[1m])) / sum by (source) (increase(lad_lines_scored_total[1m]))');
  const web = ratio.find((r) => r.metric.source === 'web');
  expect(web).toBeDefined();
  const value = Number(web!.value[1]);
  expect(value).toBeGreaterThan(0);
  expect(value).toBeLessThan(1);
  const threshold = await promQuery(promUrl, 'lad_threshold{source="web"}');
  expect(Number(threshold[0].value[1])).toBeCloseTo(stats.threshold!);
  const scored = await promQuery(promUrl, 'lad_lines_scored_total{source="web"}');
  expect(Number(scored[0].value[1])).toBe(stats.linesScored);
});
