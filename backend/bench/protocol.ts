/**
 * `npm run eval:engine [-- --data DIR --seeds 3 --inject 20 --config FILE --json FILE]`: the evaluation
 * protocol of docs/engine.md ("Evaluation protocol"). It cannot fit one file: it measures
 *  (a) every labelled log (first field '-' = normal, BGL_2k here) at train fractions 0.3, 0.5 and 0.7;
 *  (b) every healthy log trained on its first half, with real failure messages of OTHER systems
 *      (backend/testdata/injection/failures.tsv) dressed in its own headers and inserted into its second half,
 *      over several seeds (which messages, which header lines, where);
 *  (c) the share of each healthy log's second half flagged, as lines and as incidents.
 * and prints markdown tables for docs/engine.md. Benchmarks read the shared samples; tests never do.
 * Results never depend on template strings except the incident count, which is the engine's own grouping.
 */
import { Command } from 'commander';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { basename, join } from 'path';
import { TESTDATA_DIR } from '../testdata/paths';
import { templateOf, trainModel } from '../engine';
import { evaluate, fatalLevelRule, rocAuc } from '../engine/evaluation';
import type { Metrics } from '../engine/evaluation';
import { IncidentTracker } from '../engine/incidents';
import type { LadModel } from '../engine/model';
import { splitLines } from '../cli/input';
import { configFromOptions } from '../cli/options';
import type { EngineConfig } from '../engine';
import { NotInjectable, inject, parseFailures } from './protocol-inject';
import type { FailureMessage } from './protocol-inject';

export const TRAIN_FRACTIONS = [0.3, 0.5, 0.7] as const;
/** A log shorter than this is reported as not measured (0.3 of 10 lines trains on 3). */
export const MIN_LOG_LINES = 10;
/** The failure messages injected into healthy logs (backend/testdata/injection, see its README). */
export const FAILURES_TSV = join(TESTDATA_DIR, 'injection', 'failures.tsv');

export interface LogFile {
  name: string;
  /**
   * The system name failures.tsv uses for this log, so its own failures are skipped: the file name up to its
   * first `_`, `-` or `.` (`BGL_2k`, and a slice named `BGL_part2`, are both BGL).
   */
  system: string;
  lines: string[];
  /** Per-line labels when the file carries them in its first field; null for an unlabelled log. */
  labels: boolean[] | null;
}

/** A file is labelled when most lines start with the label field '-' (normal); other first fields are alerts. */
function readLog(path: string): LogFile {
  const raw = splitLines(readFileSync(path, 'utf8')).filter((l) => l.trim() !== '');
  const labelled = raw.filter((l) => l.startsWith('- ')).length >= 0.5 * raw.length;
  const name = basename(path).replace(/\.log$/, '');
  return {
    name,
    system: name.split(/[_.-]/)[0],
    lines: labelled ? raw.map((l) => l.replace(/^\S+\s?/, '')) : raw,
    labels: labelled ? raw.map((l) => !l.startsWith('- ')) : null,
  };
}

/**
 * The `.log` files of `dataDir`'s `loghub/` and `modern/` folders (the layout of the shared samples), and of
 * `dataDir` itself, so a folder of other logs is measured as it is given.
 */
export function readLogs(dataDir: string): LogFile[] {
  if (!existsSync(dataDir)) throw new Error(`no such samples folder: ${dataDir}`);
  const out: LogFile[] = [];
  for (const dir of [join(dataDir, 'loghub'), join(dataDir, 'modern'), dataDir]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.log')) out.push(readLog(join(dir, f)));
  }
  if (out.length === 0) throw new Error(`no .log files in ${dataDir}, ${join(dataDir, 'loghub')} or ${join(dataDir, 'modern')}`);
  return out;
}

/** The scores a trained model gives a list of lines (the configured detector) and the lines' templates. */
interface Scored {
  scores: Float64Array;
  templates: string[];
}

function scoreAll(model: LadModel, lines: readonly string[]): Scored {
  const scores = new Float64Array(lines.length);
  const templates = new Array<string>(lines.length);
  lines.forEach((l, i) => {
    // the score the product gives, in stream order: the model keeps mining as it scores (a line's template may
    // be one an earlier scored line made), which components() alone, learning nothing, would not see
    scores[i] = model.score(l).score;
    templates[i] = templateOf(l);
  });
  return { scores, templates };
}

/** Incidents opened among the flagged lines (incidents.ts), counting only lines with keep[i]. */
function incidents(s: Scored, threshold: number, keep: (i: number) => boolean): number {
  const tracker = new IncidentTracker();
  for (let i = 0; i < s.scores.length; i++) if (keep(i) && s.scores[i] > threshold) tracker.observe(s.templates[i], i + 1);
  return tracker.opened;
}

export interface LabelledArm extends Metrics {
  log: string;
  fraction: number;
  /** Trained on the LAST fraction and scored on the lines before it (a second split of the same log). */
  reversed: boolean;
  trainLines: number;
  testLines: number;
  anomalies: number;
  /** F1 of the trivial rule the issue names as the bar: flag a line iff its level is fatal (BGL's FATAL). */
  fatalRuleF1: number;
}

export interface InjectionArm {
  log: string;
  /** Per seed: injected lines flagged ÷ injected. */
  recall: number[];
  /** Per seed: ROC-AUC of injected against normal lines (threshold-free). */
  auc: number[];
  injected: number;
  /** Normal (non-injected) second-half lines flagged, share (the same for every seed: lines score alone). */
  normalFlagged: number;
  /** Per source system: [flagged, injected] summed over seeds. */
  bySource: Record<string, [number, number]>;
}

export interface HealthyArm {
  log: string;
  testLines: number;
  flaggedLines: number;
  incidents: number;
}

/** A log, or one arm of it, that could not be measured, and why (the run goes on with the others). */
export interface SkippedArm {
  log: string;
  arm: 'labelled' | 'injection' | 'healthy';
  reason: string;
}

/** How the report names what was left out: a short log skips everything its kind of log would get. */
const SKIPPED_ARM_TEXT: Record<SkippedArm['arm'], string> = {
  labelled: '(a) labelled splits',
  injection: '(b) injection',
  healthy: '(b) and (c)',
};

export interface ProtocolResult {
  config: EngineConfig;
  skipped: SkippedArm[];
  seeds: number;
  injectPerSeed: number;
  raiseLevel: boolean;
  labelled: LabelledArm[];
  injection: InjectionArm[];
  healthy: HealthyArm[];
}

export interface ProtocolOptions {
  dataDir: string;
  config: EngineConfig;
  seeds: number;
  injectPerSeed: number;
  /** Raise the host header's level to the failure's (default), or keep it (`--keep-level`). */
  raiseLevel?: boolean;
  failures: FailureMessage[];
  log?: (msg: string) => void;
}

async function train(lines: readonly string[], config: EngineConfig): Promise<LadModel> {
  return (await trainModel(lines, { config })) as LadModel;
}

export async function runProtocol(o: ProtocolOptions): Promise<ProtocolResult> {
  const log = o.log ?? ((): void => undefined);
  const logs = readLogs(o.dataDir);
  const result: ProtocolResult = { config: o.config, seeds: o.seeds, injectPerSeed: o.injectPerSeed, raiseLevel: o.raiseLevel ?? true, labelled: [], injection: [], healthy: [], skipped: [] };
  for (const f of logs) {
    const withAlerts = f.labels !== null && f.labels.some(Boolean);
    // every split needs lines on both sides: 0.3 of 3 lines trains on none
    if (f.lines.length < MIN_LOG_LINES) {
      result.skipped.push({ log: f.name, arm: withAlerts ? 'labelled' : 'healthy', reason: `${f.lines.length} non-empty lines, fewer than ${MIN_LOG_LINES}` });
      continue;
    }
    if (withAlerts) {
      for (const reversed of [false, true]) for (const fraction of TRAIN_FRACTIONS) {
        log(`(a) ${f.name} train fraction ${fraction}${reversed ? ' (reversed)' : ''}`);
        // forward: the first `fraction` trains and the rest is scored; reversed: the last `fraction` trains
        const cut = reversed ? f.lines.length - Math.floor(f.lines.length * fraction) : Math.floor(f.lines.length * fraction);
        const model = await train(reversed ? f.lines.slice(cut) : f.lines.slice(0, cut), o.config);
        const test = reversed ? f.lines.slice(0, cut) : f.lines.slice(cut);
        const labels = reversed ? f.labels!.slice(0, cut) : f.labels!.slice(cut);
        const s = scoreAll(model, test);
        const m = evaluate(s.scores, labels, model.threshold);
        result.labelled.push({ log: f.name, fraction, reversed, trainLines: f.lines.length - test.length, testLines: test.length, anomalies: labels.filter(Boolean).length, fatalRuleF1: fatalLevelRule(test, labels).f1, ...m });
        if (fraction === 0.5 && !reversed) {
          // (c) for a labelled log: its normal lines only
          const normal = (i: number): boolean => !labels[i];
          let flagged = 0;
          for (let i = 0; i < test.length; i++) if (normal(i) && s.scores[i] > model.threshold) flagged++;
          result.healthy.push({ log: `${f.name} (normal lines)`, testLines: labels.filter((x) => !x).length, flaggedLines: flagged, incidents: incidents(s, model.threshold, normal) });
        }
      }
      continue;
    }
    log(`(b, c) ${f.name}`);
    const cut = Math.floor(f.lines.length / 2);
    const model = await train(f.lines.slice(0, cut), o.config);
    const test = f.lines.slice(cut);
    const s = scoreAll(model, test);
    let flagged = 0;
    for (const x of s.scores) if (x > model.threshold) flagged++;
    result.healthy.push({ log: f.name, testLines: test.length, flaggedLines: flagged, incidents: incidents(s, model.threshold, () => true) });
    const arm: InjectionArm = { log: f.name, recall: [], auc: [], injected: 0, normalFlagged: flagged / test.length, bySource: {} };
    for (let seed = 1; seed <= o.seeds; seed++) {
      let inj;
      try {
        inj = inject(test, f.lines, f.system, o.failures, o.injectPerSeed, seed, result.raiseLevel);
      } catch (e) {
        if (!(e instanceof NotInjectable)) throw e;
        result.skipped.push({ log: f.name, arm: 'injection', reason: e.message });
        break;
      }
      const injectedLines = inj.lines.filter((_, i) => inj.injected[i]);
      const si = scoreAll(model, injectedLines);
      let hit = 0;
      si.scores.forEach((x, k) => {
        const src = (arm.bySource[inj.sources[k]] ??= [0, 0]);
        src[1]++;
        if (x > model.threshold) {
          hit++;
          src[0]++;
        }
      });
      arm.injected = injectedLines.length;
      arm.recall.push(hit / injectedLines.length);
      const all = Float64Array.from([...s.scores, ...si.scores]);
      const labels = [...s.scores].map(() => false).concat(injectedLines.map(() => true));
      arm.auc.push(rocAuc(all, labels));
    }
    if (arm.recall.length === o.seeds) result.injection.push(arm);
  }
  return result;
}

// ---- report ----

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const f3 = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(3));
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const spread = (xs: readonly number[], f: (x: number) => string): string =>
  xs.length === 1 ? f(xs[0]) : `${f(mean(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

/** Pooled injection recall per seed (all hosts' injected lines together). */
export function pooledRecall(r: ProtocolResult): number[] {
  return Array.from({ length: r.seeds }, (_, s) => mean(r.injection.map((a) => a.recall[s])));
}

/** Normal second-half lines flagged, pooled over the injection hosts. */
export function pooledNormalFlagged(r: ProtocolResult): number {
  let flagged = 0;
  let lines = 0;
  for (const h of r.healthy) if (r.injection.some((a) => a.log === h.log)) {
    flagged += h.flaggedLines;
    lines += h.testLines;
  }
  return lines === 0 ? 0 : flagged / lines;
}

/** One of the targets: met, missed, or not measurable on this folder (no log for its arm). */
export interface Target {
  name: string;
  value: string;
  met: boolean | null;
}

export function targets(r: ProtocolResult): Target[] {
  const rec = pooledRecall(r);
  const normal = pooledNormalFlagged(r);
  // the targets are set on the forward splits; the reversed ones are reported beside them
  const forward = r.labelled.filter((a) => !a.reversed);
  const none = (what: string): Omit<Target, 'name'> => ({ value: `no ${what} in the folder`, met: null });
  const labelled = (t: Target): Target => (forward.length > 0 ? t : { name: t.name, ...none('labelled log') });
  const injected = (t: Target): Target => (r.injection.length > 0 ? t : { name: t.name, ...none('injectable healthy log') });
  const worstHealthy = Math.max(...r.healthy.map((h) => h.flaggedLines / h.testLines));
  return [
    labelled({ name: 'every labelled split F1 ≥ 0.70', value: forward.map((a) => f3(a.f1)).join(', '), met: forward.every((a) => a.f1 >= 0.7) }),
    labelled({
      name: 'every labelled split (forward and reversed) F1 ≥ the fatal-level rule',
      value: r.labelled.map((a) => `${f3(a.f1)} vs ${f3(a.fatalRuleF1)}`).join(', '),
      met: r.labelled.every((a) => a.f1 >= a.fatalRuleF1),
    }),
    labelled({ name: 'every labelled split ROC-AUC ≥ 0.95', value: forward.map((a) => f3(a.rocAuc)).join(', '), met: forward.every((a) => a.rocAuc >= 0.95) }),
    injected({ name: 'injected failures recall ≥ 0.8 (every seed)', value: spread(rec, f3), met: rec.every((x) => x >= 0.8) }),
    injected({ name: 'normal lines of the injection hosts flagged ≤ 1%', value: pct(normal), met: normal <= 0.01 }),
    r.healthy.length > 0
      ? { name: 'every healthy log ≤ 3% of lines flagged', value: `worst ${pct(worstHealthy)}`, met: worstHealthy <= 0.03 }
      : { name: 'every healthy log ≤ 3% of lines flagged', ...none('healthy log') },
  ];
}

export function markdown(r: ProtocolResult): string {
  const out: string[] = [];
  out.push(`(a) Labelled logs, trained on the first fraction and scored on the rest (reversed: trained on the last fraction, scored on the lines before it), default threshold:`, '');
  out.push('| log | train fraction | test lines (alerts) | flagged | precision | recall | F1 | ROC-AUC | best F1 | fatal-level rule F1 |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const a of r.labelled) {
    out.push(`| ${a.log} | ${a.fraction}${a.reversed ? ' reversed' : ''} | ${a.testLines} (${a.anomalies}) | ${a.flagged} | ${f3(a.precision)} | ${f3(a.recall)} | ${f3(a.f1)} | ${f3(a.rocAuc)} | ${f3(a.bestF1)} | ${f3(a.fatalRuleF1)} |`);
  }
  if (r.labelled.length > 1) {
    const col = (k: 'precision' | 'recall' | 'f1' | 'rocAuc' | 'bestF1' | 'fatalRuleF1'): string => spread(r.labelled.map((a) => a[k]), f3);
    out.push(`| **mean (min–max)** | | | | ${col('precision')} | ${col('recall')} | ${col('f1')} | ${col('rocAuc')} | ${col('bestF1')} | ${col('fatalRuleF1')} |`);
  }
  out.push('', `(b) Cross-system injection: ${r.injectPerSeed} failures of other systems per host and seed, ${r.seeds} seeds, ${r.raiseLevel ? "header level raised to the failure's" : "host header's own level kept"}; mean (min–max) over seeds:`, '');
  out.push('| host | recall of injected | ROC-AUC injected vs normal | normal lines flagged |', '|---|---|---|---|');
  for (const a of r.injection) out.push(`| ${a.log} | ${spread(a.recall, f3)} | ${spread(a.auc, f3)} | ${pct(a.normalFlagged)} |`);
  out.push(`| **all hosts** | **${spread(pooledRecall(r), f3)}** | ${spread(Array.from({ length: r.seeds }, (_, s) => mean(r.injection.map((a) => a.auc[s]))), f3)} | **${pct(pooledNormalFlagged(r))}** |`);
  const worst = [...r.injection].sort((a, b) => mean(a.recall) - mean(b.recall))[0];
  if (worst !== undefined) out.push('', `Worst host: ${worst.log}, recall ${spread(worst.recall, f3)} (the pooled figure can hide one host's collapse).`);
  const src: Record<string, [number, number]> = {};
  for (const a of r.injection) for (const [k, [h, n]] of Object.entries(a.bySource)) {
    const t = (src[k] ??= [0, 0]);
    t[0] += h;
    t[1] += n;
  }
  out.push('', 'Recall by the system the failure came from (all hosts and seeds): ' +
    Object.entries(src).sort().map(([k, [h, n]]) => `${k} ${f3(h / n)} (${h}/${n})`).join(', ') + '.');
  out.push('', '(c) Healthy logs: second half flagged after training on the first half:', '');
  out.push('| log | test lines | lines flagged | incidents |', '|---|---|---|---|');
  for (const h of r.healthy) out.push(`| ${h.log} | ${h.testLines} | ${pct(h.flaggedLines / h.testLines)} (${h.flaggedLines}) | ${h.incidents} (${pct(h.incidents / h.testLines)}) |`);
  if (r.skipped.length > 0) {
    out.push('', 'Not measured:', '');
    for (const k of r.skipped) out.push(`- ${k.log} (${SKIPPED_ARM_TEXT[k.arm]}): ${k.reason}`);
  }
  out.push('', 'Targets at the default threshold:', '');
  for (const t of targets(r)) out.push(`- ${t.met === null ? 'not measured' : t.met ? 'met' : '**MISSED**'}: ${t.name} — ${t.value}`);
  return out.join('\n') + '\n';
}

interface CliOptions {
  data: string;
  seeds: string;
  inject: string;
  keepLevel?: boolean;
  config?: string;
  json?: string;
  quiet?: boolean;
}

export async function main(argv: string[]): Promise<void> {
  const o = new Command('eval:engine')
    .description('evaluation protocol: labelled splits, cross-system injection, healthy logs (markdown on stdout)')
    .option('--data <dir>', 'samples directory with loghub/ and modern/', '/work/shared/data')
    .option('--seeds <n>', 'injection seeds', '3')
    .option('--inject <n>', 'failures injected per host and seed', '20')
    .option('--keep-level', "injected lines keep the host header's level instead of the failure's")
    .option('--config <file>', 'engine config (JSON or YAML) instead of the defaults')
    .option('--json <file>', 'also write the full result as JSON')
    .option('-q, --quiet', 'no progress on stderr')
    .parse(argv)
    .opts<CliOptions>();
  if (!existsSync(o.data)) throw new Error(`no samples at ${o.data} (use --data DIR)`);
  const started = Date.now();
  const result = await runProtocol({
    dataDir: o.data,
    config: configFromOptions({ config: o.config }),
    seeds: Number(o.seeds),
    injectPerSeed: Number(o.inject),
    raiseLevel: o.keepLevel !== true,
    failures: parseFailures(readFileSync(FAILURES_TSV, 'utf8')),
    log: o.quiet === true ? undefined : (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(markdown(result));
  process.stdout.write(`\n(${((Date.now() - started) / 1000).toFixed(0)} s; \`npm run eval:engine -- --data ${o.data}\`)\n`);
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify(result, null, 2));
}

if (require.main === module) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`eval:engine: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
