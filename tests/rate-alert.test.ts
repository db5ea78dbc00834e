/**
 * The rate-anomaly alert (issue 12) is provisioned twice like the anomaly-rate one: as a Grafana-managed rule
 * (provisioning/alerting/anomaly-rate.yaml) and as a Prometheus rule (provisioning/prometheus/rules.yml,
 * exercised by promtool in tests/promtool.test.ts). Both must alert on the same expression and threshold.
 */
import fs from 'fs';
import path from 'path';
import { parse } from 'yaml';
import { Metrics } from '../backend/metrics/metrics';

const provisioning = path.resolve(__dirname, '..', 'provisioning');
const yaml = (file: string) => parse(fs.readFileSync(path.join(provisioning, file), 'utf8'));

describe('rate anomaly alert', () => {
  const grafana = yaml('alerting/anomaly-rate.yaml').groups[0].rules.find((r: { uid: string }) => r.uid === 'scorpio-rate-anomaly');
  const prom = yaml('prometheus/rules.yml').groups[0].rules.find((r: { alert?: string }) => r.alert === 'LogRateAnomaly');

  it('exists in both forms, on the same expression, threshold and duration', () => {
    expect(grafana).toBeDefined();
    expect(prom).toBeDefined();
    const query = grafana.data.find((d: { refId: string }) => d.refId === 'A');
    const evaluator = grafana.data.find((d: { model: { type?: string } }) => d.model.type === 'threshold').model.conditions[0].evaluator;
    expect(evaluator.type).toBe('gt');
    expect(prom.expr).toBe(`${query.model.expr} > ${evaluator.params[0]}`);
    expect(grafana.for).toBe('0s');
    expect(prom.for).toBeUndefined();
  });

  it('counts a metric the backend exports, with the labels it groups by', () => {
    const metric = new Metrics().registry.getMetricsAsArray().find((m) => m.name === 'lad_rate_anomalies_total') as unknown as { labelNames: string[] };
    expect(metric).toBeDefined();
    expect(metric.labelNames).toEqual(['source', 'kind']);
    expect(prom.expr).toMatch(/sum by \(source, kind\) \(increase\(lad_rate_anomalies_total\[5m\]\)\)/);
  });
});
