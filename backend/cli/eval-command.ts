// `lad eval --input LABELED_FILE --labels first-field [--train-fraction 0.5]`: the first whitespace-separated
// field of each line is its label ('-' normal, anything else anomaly) and is removed before the engine sees
// the line. Trains on the first fraction, scores the rest and prints precision, recall, F1, ROC-AUC and the
// best F1 over thresholds for each detector (each at its own default threshold from the training scores).

import { DETECTORS, trainModel } from '../engine';
import type { DetectorName } from '../engine';
import { alertCounts, evaluate, fatalLevelRule } from '../engine/evaluation';
import type { AlertCounts, Metrics } from '../engine/evaluation';
import type { LadModel } from '../engine/model';
import { replayFeedback } from '../feedback/replay';
import type { FeedbackCurvePoint } from '../feedback/replay';
import { CliError, readLines } from './input';
import { configFromOptions } from './options';
import type { ModelOptionValues } from './options';
import { progressReporter } from './progress';

export interface EvalCommandOptions extends ModelOptionValues {
  input: string[];
  labels: 'first-field' | 'none';
  trainFraction: number;
  format: 'text' | 'json';
  detectors?: string;
  /** Comma-separated answer counts for the feedback replay (backend/feedback/replay.ts), e.g. "0,5,20". */
  feedback?: string;
}

export interface LabelledLine {
  anomaly: boolean;
  line: string;
}

export function splitLabel(raw: string): LabelledLine {
  const m = /^\s*(\S+)\s?/.exec(raw);
  if (m === null) return { anomaly: false, line: '' };
  return { anomaly: m[1] !== '-', line: raw.slice(m[0].length) };
}

const STAT_KEY: Record<DetectorName, string> = { combined: 'thresholdCombined', 'w2v-som': 'thresholdW2vSom', rarity: 'thresholdRarity' };

export interface EvalReport {
  trainLines: number;
  testLines: number;
  testAnomalies: number;
  /** Per-line metrics, plus the alerts under the incident view (engine/incidents.ts). */
  detectors: Partial<Record<DetectorName, Metrics & AlertCounts>>;
  /** With labels: the trivial bar, a line flagged iff its level is fatal (engine/evaluation.ts fatalLevelRule). */
  fatalLevelRule?: Metrics;
  /** With --feedback: the configured detector's figures after N answers to the review queue. */
  feedbackCurve?: FeedbackCurvePoint[];
}

export function parseClicks(list: string): number[] {
  // digits only: Number() reads '' and ' ' as 0, '0x10' as 16 and '1e9' as a billion
  const parts = list.split(',').map((x) => x.trim());
  if (!parts.every((x) => /^\d{1,9}$/.test(x))) throw new CliError(`--feedback takes answer counts like 0,5,20 (got "${list}")`);
  return parts.map(Number);
}

export async function runEval(o: EvalCommandOptions): Promise<EvalReport> {
  const config = configFromOptions(o);
  // 'none': an unlabelled (healthy) log; every flagged line is a false positive, so the report is the flagged share.
  const rows = (await readLines(o.input)).map((raw) => (o.labels === 'none' ? { anomaly: false, line: raw } : splitLabel(raw)));
  const cut = Math.floor(rows.length * o.trainFraction);
  if (cut === 0 || cut === rows.length) throw new CliError(`--train-fraction ${o.trainFraction} leaves no training or no test lines (${rows.length} lines)`);
  const wanted = (o.detectors ?? DETECTORS.join(',')).split(',').map((d) => d.trim()) as DetectorName[];
  for (const d of wanted) if (!DETECTORS.includes(d)) throw new CliError(`unknown detector "${d}" (choose from ${DETECTORS.join(', ')})`);
  const clicks = o.feedback === undefined ? undefined : parseClicks(o.feedback);
  if (clicks !== undefined && o.labels !== 'first-field') throw new CliError('--feedback needs labels (--labels first-field)');
  const progress = progressReporter(o.quiet !== true);
  const model = (await trainModel(rows.slice(0, cut).map((r) => r.line), { config, onProgress: progress.onProgress })) as LadModel;
  progress.stop();
  if (model.neural === null && wanted.includes('w2v-som') && o.detectors !== undefined) {
    throw new CliError('the w2v-som detector is not available (neural part disabled or not built)');
  }
  const test = rows.slice(cut);
  const labels = test.map((r) => r.anomaly);
  const scores: Record<DetectorName, Float64Array> = {
    combined: new Float64Array(test.length),
    'w2v-som': new Float64Array(test.length),
    rarity: new Float64Array(test.length),
  };
  const templates: string[] = new Array<string>(test.length);
  test.forEach((r, i) => {
    // score() first, as the product does: the model keeps mining as it scores, so the components of a line are
    // taken against the templates the lines before it made; the configured detector's is the product's own score
    const product = model.score(r.line).score;
    const c = model.components(r.line);
    templates[i] = c.template;
    scores.combined[i] = c.combined;
    scores['w2v-som'][i] = c.neural;
    scores.rarity[i] = c.rarity;
    scores[model.config.detector][i] = product;
  });
  const report: EvalReport = { trainLines: cut, testLines: test.length, testAnomalies: labels.filter(Boolean).length, detectors: {} };
  for (const d of wanted) {
    if (d === 'w2v-som' && model.neural === null) continue;
    const threshold = model.info.stats[STAT_KEY[d]];
    report.detectors[d] = { ...evaluate(scores[d], labels, threshold), ...alertCounts(scores[d], labels, templates, threshold) };
  }
  if (report.testAnomalies > 0) report.fatalLevelRule = fatalLevelRule(test.map((r) => r.line), labels);
  if (clicks !== undefined) {
    const trainLines = rows.slice(0, cut).map((r) => r.line);
    report.feedbackCurve = await replayFeedback({
      train: async () => (await trainModel(trainLines, { config })) as LadModel,
      trainLines,
      trainLabel: (i) => rows[i].anomaly,
      testLines: test.map((r) => r.line),
      testLabels: () => labels,
      clicks,
    });
  }
  if (o.format === 'json') {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    const f = (x: number): string => (Number.isNaN(x) ? '  n/a' : x.toFixed(3));
    let out = `trained on ${report.trainLines} lines, scored ${report.testLines} (${report.testAnomalies} labelled anomalies)\n`;
    out += 'detector   threshold  flagged  flagged%  precision  recall  F1     ROC-AUC  best-F1  alerts  alerts%  true-alerts\n';
    for (const [d, m] of Object.entries(report.detectors) as [DetectorName, Metrics & AlertCounts][]) {
      const share = ((100 * m.flagged) / report.testLines).toFixed(1) + '%';
      const noLabels = report.testAnomalies === 0;
      const g = (x: number): string => (noLabels ? '  n/a' : f(x));
      out += `${d.padEnd(10)} ${m.threshold.toFixed(3).padStart(9)}  ${String(m.flagged).padStart(7)}  ${share.padStart(8)}  ${g(m.precision).padStart(9)}  ${g(m.recall).padStart(6)}  ${g(m.f1)}  ${f(m.rocAuc).padStart(7)}  ${g(m.bestF1).padStart(7)}  ${String(m.alerts).padStart(6)}  ${(((100 * m.alerts) / report.testLines).toFixed(1) + '%').padStart(7)}  ${noLabels ? '        n/a' : String(m.trueAlerts).padStart(11)}\n`;
    }
    out += 'flagged = lines above the threshold; alerts = incidents (repeats of one template close together count once)\n';
    const bar = report.fatalLevelRule;
    if (bar !== undefined) out += `the bar, a line flagged iff its level is fatal: ${bar.flagged} flagged, precision ${f(bar.precision)}, recall ${f(bar.recall)}, F1 ${f(bar.f1)}\n`;
    if (model.neural === null) out += 'w2v-som: not available (neural part disabled or word2vec/som modules missing)\n';
    if (report.feedbackCurve !== undefined) {
      out += `\nfeedback (${model.config.detector}): answers to the review queue drawn from the training part\n`;
      out += 'clicks  confirmed  false-pos  precision  recall  F1     ROC-AUC  changed\n';
      for (const p of report.feedbackCurve) {
        out += `${String(p.clicks).padStart(6)}  ${String(p.confirmed).padStart(9)}  ${String(p.falsePositives).padStart(9)}  ${f(p.precision).padStart(9)}  ${f(p.recall).padStart(6)}  ${f(p.f1)}  ${f(p.rocAuc).padStart(7)}  ${String(p.changed).padStart(7)}\n`;
      }
    }
    process.stdout.write(out);
  }
  return report;
}
