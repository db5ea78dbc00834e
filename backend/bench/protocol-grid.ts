/**
 * `npm run build:backend && node backend/dist/bench/protocol-grid.js [--data DIR]`: runs the evaluation
 * protocol (protocol.ts) for every candidate default in a fixed grid and applies the selection rule stated in
 * docs/engine.md ("Choosing the defaults") — written before the grid was run:
 *   1. feasible: every healthy log ≤ 3% of its lines flagged, and ≤ 1% of the injection hosts' normal lines;
 *      if no candidate is feasible, the healthy-log bound becomes "no worse than today's defaults" (their worst
 *      log's share);
 *   2. among the feasible, maximise the worst case over the protocol's arms: min(F1 of every labelled split,
 *      injection recall of every seed);
 *   3. within 0.01 of the best, the candidate that changes fewest fields of today's defaults, then the higher
 *      mean of those arm values.
 * Prints one row per candidate and the full protocol tables of the chosen one.
 */
import { Command } from 'commander';
import { existsSync, readFileSync } from 'fs';
import { DEFAULT_CONFIG, resolveConfig } from '../engine';
import type { EngineConfig, EngineConfigInput } from '../engine';
import { parseFailures } from './protocol-inject';
import { FAILURES_TSV, markdown, pooledNormalFlagged, pooledRecall, runProtocol } from './protocol';
import type { ProtocolResult } from './protocol';


/**
 * Session 5's contamination grid (docs/engine.md, "Contaminated training windows"): event counts × the estimable
 * threshold × rare words averaged over the 1–3 rarest × level weight 1 or 2, everything else at today's defaults.
 */
export function contaminationCandidates(): EngineConfigInput[] {
  const out: EngineConfigInput[] = [];
  for (const eventCounts of [false, true])
    for (const thresholdMinExceedances of [0, 10])
      for (const topWords of [1, 2, 3])
        for (const level of [1, 2]) out.push({ eventCounts, thresholdMinExceedances, topWords, weights: { level } });
  return out;
}

/** The grid: threshold percentile × failure-word weight × W2V+SOM weight × level weight (rare words = 1). */
export function candidates(): EngineConfigInput[] {
  const out: EngineConfigInput[] = [];
  for (const thresholdPercentile of [99, 99.5, 99.9])
    for (const problem of [0.5, 1])
      for (const neural of [0, 0.5, 1])
        for (const level of [1, 2]) out.push({ thresholdMethod: 'percentile', thresholdPercentile, weights: { words: 1, level, problem, neural } });
  return out;
}

export interface Outcome {
  /** Mean recall of the injection host with the lowest one. */
  worstHost: number;
  input: EngineConfigInput;
  changed: number;
  worstHealthy: number;
  normal: number;
  /** The arm values the rule's worst case is taken over: labelled-split F1s, then per-seed recalls. */
  arms: number[];
  worst: number;
  mean: number;
  result: ProtocolResult;
}

function changedFields(c: EngineConfig): number {
  let n = 0;
  if (c.thresholdMethod !== DEFAULT_CONFIG.thresholdMethod || c.thresholdPercentile !== DEFAULT_CONFIG.thresholdPercentile) n++;
  for (const k of ['eventCounts', 'thresholdMinExceedances', 'topWords'] as const) if (c[k] !== DEFAULT_CONFIG[k]) n++;
  for (const k of ['words', 'level', 'problem', 'neural'] as const) if (c.weights[k] !== DEFAULT_CONFIG.weights[k]) n++;
  return n;
}

export function outcomeOf(input: EngineConfigInput, result: ProtocolResult): Outcome {
  const arms = [...result.labelled.map((a) => a.f1), ...pooledRecall(result)];
  const hostRecall = result.injection.map((a) => a.recall.reduce((x, y) => x + y, 0) / a.recall.length);
  return {
    input,
    worstHost: Math.min(...hostRecall),
    changed: changedFields(result.config),
    worstHealthy: Math.max(...result.healthy.map((h) => h.flaggedLines / h.testLines)),
    normal: pooledNormalFlagged(result),
    arms,
    worst: Math.min(...arms),
    mean: arms.reduce((a, b) => a + b, 0) / arms.length,
    result,
  };
}

/** The selection rule (see the file comment); `today` is the outcome of today's defaults. */
export function choose(outcomes: readonly Outcome[], today: Outcome): Outcome {
  let feasible = outcomes.filter((o) => o.worstHealthy <= 0.03 && o.normal <= 0.01);
  if (feasible.length === 0) feasible = outcomes.filter((o) => o.worstHealthy <= today.worstHealthy && o.normal <= 0.01);
  if (feasible.length === 0) return today;
  const best = Math.max(...feasible.map((o) => o.worst));
  return feasible
    .filter((o) => o.worst >= best - 0.01)
    .sort((a, b) => a.changed - b.changed || b.mean - a.mean)[0];
}

/**
 * Session 5's rule (docs/engine.md, "Contaminated training windows", written before its grid was run):
 *   1. feasible as in `choose`, the fallback bound being max(3%, today's worst healthy log);
 *   2. guard: the worst injection host's mean recall at most 0.05 below today's;
 *   3. leximin over the arm values (every labelled split's F1, forward and reversed, and each seed's pooled
 *      recall): sorted ascending and compared element by element, a difference within 0.01 being a tie;
 *   4. full tie: fewest fields changed, then the higher mean.
 */
export function chooseLeximin(outcomes: readonly Outcome[], today: Outcome): Outcome {
  const guarded = (o: Outcome): boolean => o.normal <= 0.01 && o.worstHost >= today.worstHost - 0.05;
  let feasible = outcomes.filter((o) => guarded(o) && o.worstHealthy <= 0.03);
  if (feasible.length === 0) feasible = outcomes.filter((o) => guarded(o) && o.worstHealthy <= Math.max(0.03, today.worstHealthy));
  if (feasible.length === 0) return today;
  const sorted = (o: Outcome): number[] => [...o.arms].sort((a, b) => a - b);
  /** True when `a` beats `b` under steps 3 and 4. */
  const beats = (a: Outcome, b: Outcome): boolean => {
    const x = sorted(a);
    const y = sorted(b);
    for (let i = 0; i < x.length; i++) if (Math.abs(x[i] - y[i]) > 0.01) return x[i] > y[i];
    return a.changed < b.changed || (a.changed === b.changed && a.mean > b.mean);
  };
  // One pass in grid order: the 0.01 tie makes the relation intransitive, so no sort comparator (whose result
  // would depend on the engine's sort) but a fixed order of comparison.
  let best = feasible[0];
  for (const o of feasible.slice(1)) if (beats(o, best)) best = o;
  return best;
}

const describe = (c: EngineConfig): string =>
  `p${c.thresholdPercentile} level ${c.weights.level} problem ${c.weights.problem} neural ${c.weights.neural}` +
  ` events ${c.eventCounts ? 'on' : 'off'} K ${c.thresholdMinExceedances} top ${c.topWords}`;

async function main(argv: string[]): Promise<void> {
  const o = new Command('protocol-grid')
    .option('--data <dir>', 'samples directory', '/work/shared/data')
    .option('--grid <name>', 'weights (session 3), contamination (session 5) or weights-leximin (the weights grid under session 5\'s rule)', 'weights')
    .parse(argv)
    .opts<{ data: string; grid: string }>();
  if (o.grid !== 'weights' && o.grid !== 'contamination' && o.grid !== 'weights-leximin') throw new Error(`--grid must be weights, contamination or weights-leximin, not ${o.grid}`);
  const grid = o.grid === 'contamination' ? contaminationCandidates() : candidates();
  if (!existsSync(o.data)) throw new Error(`no samples at ${o.data}`);
  const failures = parseFailures(readFileSync(FAILURES_TSV, 'utf8'));
  const run = async (input: EngineConfigInput): Promise<Outcome> =>
    outcomeOf(input, await runProtocol({ dataDir: o.data, config: resolveConfig(input), seeds: 3, injectPerSeed: 20, failures }));
  const today = await run({});
  const outcomes: Outcome[] = [];
  for (const c of grid) {
    outcomes.push(await run(c));
    process.stderr.write(`${outcomes.length}/${grid.length} ${describe(outcomes[outcomes.length - 1].result.config)}\n`);
  }
  const chosen = o.grid === 'weights' ? choose(outcomes, today) : chooseLeximin(outcomes, today);
  const rows = [...outcomes].sort((a, b) => b.worst - a.worst);
  const f = (x: number): string => x.toFixed(3);
  let out = '| candidate | labelled F1 (per split) | injection recall (per seed) | worst arm | normal flagged | worst healthy log | worst host |\n|---|---|---|---|---|---|---|\n';
  for (const r of [today, ...rows]) {
    const n = r.result.labelled.length;
    out += `| ${r === today ? 'today: ' : ''}${r === chosen ? '**chosen** ' : ''}${describe(r.result.config)} | ${r.arms.slice(0, n).map(f).join(' ')} | ${r.arms.slice(n).map(f).join(' ')} | ${f(r.worst)} | ${(100 * r.normal).toFixed(1)}% | ${(100 * r.worstHealthy).toFixed(1)}% | ${f(r.worstHost)} |\n`;
  }
  process.stdout.write(out + `\nChosen: ${describe(chosen.result.config)}\n\n` + markdown(chosen.result));
}

if (require.main === module) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`protocol-grid: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
