/**
 * `npm run eval:templates`: grouping accuracy (GA) of the mined templates on Loghub samples (the ten in the
 * repository by default, or every sample with ground truth in `--data DIR`), the
 * way a user meets them: `lad train` on the whole file, then the `template` field of `lad score` for every
 * line (trainModel + model.score, without Word2Vec/SOM, which do not touch templates). Prints a markdown
 * table beside Drain's published figures (logpai/logparser, logparser/Drain/README.md, Loghub_2k; Drain is
 * given a log format and regexes per system, Scorpio nothing).
 *
 * Options: --data DIR (a folder of <Name>.log with <Name>.events.txt or Loghub's <Name>.log_structured.csv
 * beside them, e.g. Apache_2k.log; default the in-repository backend/testdata/loghub),
 * --similarity X and --max-values N to see how the figures move with the miner's two main settings, --grid for
 * the grid over both and its leave-one-system-out figure (for each system, the cell best on the other nine,
 * measured on it): how a default chosen on these samples can be expected to carry to a log of another system.
 */
import { Command } from 'commander';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { trainModelSync } from '../engine/train';
import { groupingAccuracy } from '../engine/drain/grouping-accuracy';
import { LOGHUB_DIR } from '../testdata/paths';

/** logpai/logparser, logparser/Drain/README.md, "Accuracy" column (Loghub_2k), all sixteen systems. */
export const DRAIN_PUBLISHED: Readonly<Record<string, number>> = {
  Android: 0.911,
  Apache: 1,
  BGL: 0.9625,
  HDFS: 0.9975,
  HPC: 0.887,
  Hadoop: 0.9475,
  HealthApp: 0.78,
  Linux: 0.69,
  Mac: 0.7865,
  OpenSSH: 0.7875,
  OpenStack: 0.7325,
  Proxifier: 0.5265,
  Spark: 0.92,
  Thunderbird: 0.955,
  Windows: 0.997,
  Zookeeper: 0.9665,
};

/**
 * The samples of `dir` (their names without `.log`): every `<Name>.log` with its ground truth beside it
 * (`<Name>.events.txt` or Loghub's `<Name>.log_structured.csv`), whatever the system, so the same command
 * measures samples of systems that are not in the repository.
 */
export function samplesIn(dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`no such folder: ${dir}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => f.slice(0, -'.log'.length))
    .filter((name) => existsSync(join(dir, `${name}.events.txt`)) || existsSync(join(dir, `${name}.log_structured.csv`)))
    .sort();
}

/** The system a sample is shown as: `Apache_2k` is Apache, whose published Drain figure is for that sample. */
const systemOf = (sample: string): string => sample.replace(/_2k$/, '');

function lines(file: string): string[] {
  const out = readFileSync(file, 'utf8').split('\n');
  if (out[out.length - 1] === '') out.pop();
  return out.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** EventIds in line order: from the in-repo events.txt, or the EventId column of Loghub's structured CSV. */
function events(dir: string, sample: string): string[] {
  const txt = join(dir, `${sample}.events.txt`);
  if (existsSync(txt)) return lines(txt);
  // EventId is the second-to-last column; the last (EventTemplate) may hold commas inside quotes.
  return lines(join(dir, `${sample}.log_structured.csv`))
    .slice(1)
    .map((row) => /,(E\d+),(?:"(?:[^"]|"")*"|[^,]*)$/.exec(row)?.[1] ?? '?');
}

/**
 * GA of every sample of `dir` with ground truth. A sample that cannot be measured (an empty log, or ground truth
 * for another number of lines: GA would compare the wrong lines) is left out and its reason pushed to `skipped`.
 */
export function measure(
  dir: string,
  miner: { similarity?: number; maxValues?: number; prefixTokens?: number },
  skipped: string[] = [],
): { system: string; ga: number; templates: number; events: number }[] {
  const samples = samplesIn(dir);
  if (samples.length === 0) throw new Error(`no <Name>.log with <Name>.events.txt or <Name>.log_structured.csv beside it in ${dir}`);
  const rows = [];
  for (const sample of samples) {
    const system = systemOf(sample);
    const log = lines(join(dir, `${sample}.log`));
    const truth = events(dir, sample);
    if (log.length === 0 || truth.length !== log.length) {
      skipped.push(`${sample}: ${log.length} log lines, ground truth for ${truth.length}`);
      continue;
    }
    const model = trainModelSync(log, { config: { neural: { enabled: false }, miner } });
    const templates = log.map((l) => model.score(l).template);
    rows.push({ system, ga: groupingAccuracy(templates, truth), templates: new Set(templates).size, events: new Set(truth).size });
  }
  if (rows.length === 0) throw new Error(`no sample in ${dir} can be measured: ${skipped.join('; ')}`);
  return rows;
}

/** The GA table beside Drain's published figures; Drain's mean is over the systems measured that it has one for. */
export function gaTable(rows: readonly { system: string; ga: number; templates: number; events: number }[]): string {
  const f = (x: number): string => x.toFixed(3);
  let out = '| system | Scorpio GA | templates / events | Drain GA (published) |\n|---|---|---|---|\n';
  for (const r of rows) out += `| ${r.system} | ${f(r.ga)} | ${r.templates} / ${r.events} | ${r.system in DRAIN_PUBLISHED ? f(DRAIN_PUBLISHED[r.system]) : '–'} |\n`;
  const ours = rows.map((r) => r.ga);
  const drain = rows.filter((r) => r.system in DRAIN_PUBLISHED).map((r) => DRAIN_PUBLISHED[r.system]);
  const drainCell = drain.length === 0 ? '–' : `${f(mean(drain))} (${f(Math.min(...drain))})`;
  return out + `| **mean** (min) | **${f(mean(ours))}** (${f(Math.min(...ours))}) | | ${drainCell} |\n`;
}

const GRID_SIMILARITY = [0.4, 0.5, 0.6, 0.7, 0.8];
const GRID_MAX_VALUES = [0, 2, 4, 6, 8];
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The grid (mean and worst GA per cell) and leave-one-system-out, as markdown. */
export function gridReport(dir: string, prefixTokens?: number): string {
  const cells = GRID_SIMILARITY.flatMap((similarity) =>
    GRID_MAX_VALUES.map((maxValues) => ({ similarity, maxValues, ga: new Map(measure(dir, { similarity, maxValues, prefixTokens }).map((r) => [r.system, r.ga])) })),
  );
  const systems = [...cells[0].ga.keys()];
  const f = (x: number): string => x.toFixed(3);
  let out = `| similarity \\ maxValues | ${GRID_MAX_VALUES.join(' | ')} |\n|---|${GRID_MAX_VALUES.map(() => '---|').join('')}\n`;
  for (const similarity of GRID_SIMILARITY) {
    const row = cells.filter((c) => c.similarity === similarity).map((c) => `${f(mean([...c.ga.values()]))} (${f(Math.min(...c.ga.values()))})`);
    out += `| ${similarity} | ${row.join(' | ')} |\n`;
  }
  const held = systems.map((system) => {
    const others = systems.filter((s) => s !== system);
    let best = cells[0];
    for (const c of cells) if (mean(others.map((s) => c.ga.get(s)!)) > mean(others.map((s) => best.ga.get(s)!))) best = c;
    return { system, ga: best.ga.get(system)!, cell: `${best.similarity}/${best.maxValues}` };
  });
  out += `\nLeave one system out: ${held.map((h) => `${h.system} ${f(h.ga)} (${h.cell})`).join(', ')}; mean **${f(mean(held.map((h) => h.ga)))}**, worst **${f(Math.min(...held.map((h) => h.ga)))}**\n`;
  return out;
}

export function main(argv: string[]): void {
  const o = new Command()
    .option('--data <dir>', 'folder of Loghub 2k samples with ground truth', LOGHUB_DIR)
    .option('--similarity <x>', 'miner.similarity', Number)
    .option('--max-values <n>', 'miner.maxValues', Number)
    .option('--prefix-tokens <n>', 'miner.prefixTokens', Number)
    .option('--grid', 'the grid over similarity and maxValues, and leave-one-system-out')
    .parse(argv)
    .opts<{ data: string; similarity?: number; maxValues?: number; prefixTokens?: number; grid?: boolean }>();
  if (o.grid === true) {
    process.stdout.write(gridReport(o.data, o.prefixTokens));
    process.exit(0);
  }
  const skipped: string[] = [];
  process.stdout.write(gaTable(measure(o.data, { similarity: o.similarity, maxValues: o.maxValues, prefixTokens: o.prefixTokens }, skipped)));
  if (skipped.length > 0) process.stdout.write(`\nNot measured: ${skipped.join('; ')}\n`);
}

if (require.main === module) {
  try {
    main(process.argv);
  } catch (err) {
    process.stderr.write(`eval:templates: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
