/**
 * `npm run bench` (= `npm run build:backend && node backend/dist/bench/main.js [options]`): runs every
 * benchmark module in this folder and prints one table, plus artifacts/bench.json. Benchmarks are never
 * tests: they measure, they do not assert, and they are run on purpose, not by `npm test`.
 *
 * Adding a benchmark: create `backend/bench/<name>.bench.ts` exporting
 *
 *   export async function run(ctx: BenchContext): Promise<BenchRow[]>
 *
 * (types in ./bench-api.ts). The runner loads every compiled `*.bench.js` beside it in name order, gives each
 * a fresh temporary directory (ctx.tmpDir, removed afterwards unless --keep), the shared samples directory,
 * the corpus size (--lines) and the core to pin child processes to. Rows carry a value, a unit, an optional
 * target (`{op: '>=' | '<=', value}`, shown as met or MISSED) and a note. A module that throws is reported
 * and makes the exit code 1; a missed target does not (it is a finding, not a crash).
 *
 * Options: --lines N (generated corpus size, default 1,000,000), --only a,b (module names, e.g. engine),
 * --data DIR (default $LAD_BENCH_DATA, else ../shared/data beside the repository when present, else the
 * in-repository backend/testdata, so a fresh clone can bench too), --cpu N (core to pin to,
 * default 0), --no-pin, --out FILE (default artifacts/bench.json), --keep (keep temporary files).
 */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { cpus, loadavg, tmpdir, totalmem } from 'os';
import { dirname, join, resolve } from 'path';
import type { BenchContext, BenchModule, BenchRow } from './bench-api';
import { tasksetAvailable } from './measure';
import { TESTDATA_DIR } from '../testdata/paths';

const REPO_ROOT = resolve(__dirname, '../../..');
/** The larger development samples, beside the repository on the development machines only. */
const SHARED_DATA = join(REPO_ROOT, '..', 'shared', 'data');

interface SuiteRow extends BenchRow {
  suite: string;
  met?: boolean;
}

interface MainOptions {
  lines: number;
  only?: string;
  data?: string;
  cpu: number;
  pin: boolean;
  out: string;
  keep: boolean;
}

function wholeNumber(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
    return n;
  };
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return '—';
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : String(v);
}

function printTable(rows: readonly SuiteRow[]): void {
  const table = rows.map((r) => [
    r.suite,
    r.name,
    formatValue(r.value),
    r.unit,
    r.target ? `${r.target.op} ${formatValue(r.target.value)}` : '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
    r.note ?? '',
  ]);
  const header = ['suite', 'measurement', 'value', 'unit', 'target', '', 'note'];
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 2 ? cell.padStart(widths[c]) : c === cells.length - 1 ? cell : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${table.map(line).join('\n')}\n`);
}

function targetMet(row: BenchRow): boolean | undefined {
  if (!row.target) return undefined;
  if (!Number.isFinite(row.value)) return false;
  return row.target.op === '>=' ? row.value >= row.target.value : row.value <= row.target.value;
}

async function main(o: MainOptions): Promise<number> {
  const dataDir = resolve(o.data ?? process.env.LAD_BENCH_DATA ?? (existsSync(SHARED_DATA) ? SHARED_DATA : TESTDATA_DIR));
  if (!existsSync(dataDir)) {
    process.stderr.write(`bench: no sample data at ${dataDir} (use --data DIR)\n`);
    return 2;
  }
  const wanted = o.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const modules = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .sort()
    .map((f) => ({ file: f, suite: f.slice(0, -'.bench.js'.length) }))
    .filter((m) => !wanted || wanted.includes(m.suite));
  if (modules.length === 0) {
    process.stderr.write(`bench: no benchmark modules${wanted ? ` named ${wanted.join(', ')}` : ''} in ${__dirname}\n`);
    return 2;
  }
  if (o.pin && o.cpu >= cpus().length) {
    process.stderr.write(`bench: --cpu ${o.cpu} does not exist here (cores 0–${cpus().length - 1})\n`);
    return 2;
  }
  const cpu = o.pin && tasksetAvailable() ? o.cpu : null;
  const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
  log(
    `modules: ${modules.map((m) => m.suite).join(', ')}; corpus ${o.lines.toLocaleString('en-US')} lines; ${cpu === null ? 'children not pinned' : `children pinned to core ${cpu}`}`
  );

  const loadAtStart = loadavg();
  const rows: SuiteRow[] = [];
  let failures = 0;
  for (const { file, suite } of modules) {
    const tmpDir = mkdtempSync(join(tmpdir(), `lad-bench-${suite}-`));
    const ctx: BenchContext = {
      repoRoot: REPO_ROOT,
      dataDir,
      tmpDir,
      lines: o.lines,
      cpu,
      log: (m) => log(`${suite}: ${m}`),
    };
    const started = Date.now();
    try {
      const mod = require(join(__dirname, file)) as Partial<BenchModule> & { runOnlyWhenNamed?: boolean };
      if (typeof mod.run !== 'function') throw new Error(`${file} does not export run(ctx)`);
      // Long benchmarks (the soak) run only when named with --only.
      if (mod.runOnlyWhenNamed === true && !wanted?.includes(suite)) {
        log(`${suite}: skipped (runs only with --only ${suite})`);
        rmSync(tmpDir, { recursive: true, force: true });
        continue;
      }
      for (const row of await mod.run(ctx)) rows.push({ ...row, suite, met: targetMet(row) });
      log(`${suite}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      failures++;
      const message = err instanceof Error ? err.message : String(err);
      log(`${suite}: FAILED: ${message}`);
      rows.push({ suite, name: 'benchmark failed', value: NaN, unit: '', note: message.split('\n').join(' | ') });
    } finally {
      if (o.keep) log(`${suite}: kept ${tmpDir}`);
      else rmSync(tmpDir, { recursive: true, force: true });
    }
  }

  printTable(rows);
  const missed = rows.filter((r) => r.met === false).length;
  process.stdout.write(
    `\n${rows.filter((r) => r.met === true).length} targets met, ${missed} missed, ${failures} benchmark modules failed\n`
  );
  // Other work on the machine slows wall-clock figures: say how busy it was.
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(
    `load average (1/5/15 min) at start ${load(loadAtStart)}, at end ${load(loadavg())}, on ${cpus().length} cores\n`
  );
  const outFile = resolve(REPO_ROOT, o.out);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    JSON.stringify(
      {
        createdAt: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model ?? 'unknown',
          memoryGb: Math.round(totalmem() / 2 ** 30),
          node: process.version,
          loadAverageAtStart: loadAtStart,
          loadAverageAtEnd: loadavg(),
        },
        options: { lines: o.lines, pinnedCore: cpu, modules: modules.map((m) => m.suite) },
        // JSON has no NaN: a value that could not be measured is null.
        rows: rows.map((r) => ({ ...r, value: Number.isFinite(r.value) ? r.value : null })),
      },
      null,
      2
    ) + '\n'
  );
  process.stdout.write(`results written to ${outFile}\n`);
  return failures > 0 ? 1 : 0;
}

const program = new Command()
  .name('bench')
  .description('run the Scorpio benchmarks (backend/bench/*.bench.ts)')
  .option('--lines <n>', 'generated corpus size in lines', wholeNumber('--lines', 1), 1_000_000)
  .option('--only <names>', 'comma-separated benchmark modules to run (e.g. engine)')
  .option('--data <dir>', 'sample logs directory (loghub/ and modern/ or generated/)')
  .option('--cpu <n>', 'core to pin child processes to', wholeNumber('--cpu', 0), 0)
  .option('--no-pin', 'do not pin child processes to one core')
  .option('--out <file>', 'JSON results file, relative to the repository root', 'artifacts/bench.json')
  .option('--keep', 'keep temporary files', false)
  .action(async (o: MainOptions) => {
    process.exitCode = await main(o);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
