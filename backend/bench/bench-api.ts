/**
 * The shape every `backend/bench/*.bench.ts` module shares with the runner (main.ts). A bench module exports
 * `async function run(ctx: BenchContext): Promise<BenchRow[]>`; the runner finds it by its file name.
 */

export interface BenchTarget {
  /** the row passes when `value op target` holds */
  op: '>=' | '<=';
  value: number;
}

export interface BenchRow {
  /** what was measured, e.g. "lad score --format jsonl, 1M-line corpus" */
  name: string;
  value: number;
  /** e.g. "lines/s", "s", "MB", "req/s", "ms", "%" */
  unit: string;
  target?: BenchTarget;
  /** anything a reader needs to interpret the figure (sizes, caveats) */
  note?: string;
}

export interface BenchContext {
  /** the repository root (where package.json is) */
  repoRoot: string;
  /** the sample logs: loghub/ and modern/ or generated/ (--data, else ../shared/data when present, else backend/testdata) */
  dataDir: string;
  /** a fresh directory for this bench module's files, removed afterwards unless --keep */
  tmpDir: string;
  /** size of generated corpora (--lines, default 1,000,000) */
  lines: number;
  /** the core child processes are pinned to with taskset, or null when pinning is off or unavailable */
  cpu: number | null;
  /** progress for people watching: goes to stderr, never into the results */
  log(message: string): void;
}

export type BenchModule = { run(ctx: BenchContext): Promise<BenchRow[]> };
