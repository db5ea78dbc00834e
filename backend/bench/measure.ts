/**
 * Runs one Node program as a child process, optionally pinned to a core with taskset, with stdout sent to a
 * file, and measures its wall time, peak RSS and CPU time (through rusage-preload).
 */
import { spawn, spawnSync } from 'child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'fs';
import { join } from 'path';

export interface ChildMeasurement {
  exitCode: number | null;
  wallSeconds: number;
  /** peak resident set size of the child, MB (1 MB = 2^20 bytes) */
  peakRssMb: number;
  /** user + system CPU time of the child (all its threads), seconds */
  cpuSeconds: number;
  /** the last few lines of its stderr, for error reports */
  stderrTail: string;
}

export interface ChildOptions {
  /** a JS file to run with node */
  script: string;
  args: string[];
  /** where stdout goes ('ignore' throws it away) */
  stdoutFile: string | 'ignore';
  cpu: number | null;
  /** directory for the usage file */
  tmpDir: string;
}

let tasksetChecked: boolean | null = null;

/** Whether `taskset` exists here (util-linux); without it children run unpinned. */
export function tasksetAvailable(): boolean {
  if (tasksetChecked === null) {
    tasksetChecked = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  }
  return tasksetChecked;
}

let runs = 0;

export function runMeasured(o: ChildOptions): Promise<ChildMeasurement> {
  const usageFile = join(o.tmpDir, `rusage-${process.pid}-${runs++}.json`);
  const nodeArgs = ['--require', join(__dirname, 'rusage-preload.js'), o.script, ...o.args];
  const [command, args] =
    o.cpu !== null ? ['taskset', ['-c', String(o.cpu), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const out = o.stdoutFile === 'ignore' ? 'ignore' : openSync(o.stdoutFile, 'w');
  const started = process.hrtime.bigint();
  return new Promise<ChildMeasurement>((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', out, 'pipe'],
      env: { ...process.env, LAD_BENCH_RUSAGE_FILE: usageFile },
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (typeof out === 'number') closeSync(out);
      let peakRssMb = NaN;
      let cpuSeconds = NaN;
      if (existsSync(usageFile)) {
        const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as {
          maxRssKb: number;
          userMicros: number;
          systemMicros: number;
        };
        peakRssMb = usage.maxRssKb / 1024;
        cpuSeconds = (usage.userMicros + usage.systemMicros) / 1e6;
        rmSync(usageFile);
      }
      // Progress bars redraw with \r: keep only the last state of each line.
      const stderrTail = stderr
        .split('\n')
        .map((l) => l.split('\r').pop() ?? '')
        .filter((l) => l.trim().length > 0)
        .slice(-5)
        .join('\n');
      resolve({ exitCode: code, wallSeconds, peakRssMb, cpuSeconds, stderrTail });
    });
  });
}
