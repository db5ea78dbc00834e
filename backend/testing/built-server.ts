/**
 * The built service (backend/dist/server/main.js) as a real child process, for end-to-end tests and benchmarks:
 * started with the given LAD_* environment (LAD_PORT=0 unless given), ready once it logs its JSON
 * `{"msg":"listening","port":N}` line (so LAD_LOG_LEVEL must let `info` through), stopped with a signal.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** backend/dist/server/main.js, from this file's place in the source tree or in backend/dist. */
export const BUILT_MAIN = path.join(__dirname, '..', ...(path.basename(path.dirname(__dirname)) === 'dist' ? [] : ['dist']), 'server', 'main.js');

export interface BuiltServerOptions {
  /** LAD_* variables (added to this process's environment). */
  env: Record<string, string>;
  /** Put before node on the command line, e.g. ['taskset', '-c', '1'] to pin the server to a core. */
  launcher?: string[];
  /** Extra node options before the script, e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
  /** How much of the newest stdout + stderr to keep for error messages. */
  keepOutputChars?: number;
}

export interface BuiltServer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly url: string;
  /** The newest stdout + stderr (for diagnostics and for checking what was logged). */
  output(): string;
  /** Sends the signal (if still running) and resolves with the exit code once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Port of the `{"msg":"listening","port":N}` log line in `output`, if it is there. */
export function listeningPort(output: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"listening"')) continue;
    try {
      const record = JSON.parse(line) as { msg?: unknown; port?: unknown };
      if (record.msg === 'listening' && typeof record.port === 'number') return record.port;
    } catch {
      // a partial line: its rest is still to come
    }
  }
  return undefined;
}

export async function startBuiltServer(options: BuiltServerOptions): Promise<BuiltServer> {
  if (!existsSync(BUILT_MAIN)) throw new Error(`${BUILT_MAIN} missing: build the backend first (npx tsc -p backend/tsconfig.json)`);
  const [command, ...prefix] = [...(options.launcher ?? []), process.execPath];
  const child = spawn(command, [...prefix, ...(options.nodeArgs ?? []), BUILT_MAIN], {
    env: { ...process.env, LAD_PORT: '0', ...options.env },
  });
  const keep = options.keepOutputChars ?? 20_000;
  let output = '';
  let port: number | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const portFound = new Promise<number>((resolve, reject) => {
    const collect = (data: Buffer): void => {
      output = (output + data.toString()).slice(-keep);
      port ??= listeningPort(output);
      if (port !== undefined) resolve(port);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    void exited.then((code) => reject(new Error(`server exited before listening (code ${code}): ${output.slice(-3000)}`)));
  });
  const found = await portFound;
  return {
    child,
    port: found,
    url: `http://127.0.0.1:${found}`,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
