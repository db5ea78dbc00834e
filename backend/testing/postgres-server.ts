/**
 * (Here in backend/testing so benchmarks can start one too; tests/cluster/postgres-server.ts re-exports it.)
 *
 * A throwaway PostgreSQL for tests: initdb in a temp directory, pg_ctl start on a free loopback port with
 * the socket in that directory, stop and delete at the end. One cluster per test file keeps start-up cheap
 * (initdb + start take a few seconds).
 *
 * initdb and postgres refuse to run as root; as root the directory is handed to the `postgres` user and
 * the binaries run as that user (spawn's uid/gid, no shell). Nothing is skipped: without the binaries
 * the test fails saying how to install them.
 */
import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './loopback';

const execFile = promisify(execFileCb);

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server: 'immediate' is a crash (no checkpoint), as `pg_ctl stop -m immediate`. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data (after stop). */
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  close(): Promise<void>;
}

const INSTALL_HINT = 'run scripts/install-system-deps.sh (installs Debian postgresql)';

/** The directory holding initdb and pg_ctl: Debian's /usr/lib/postgresql/<version>/bin, newest first, else PATH. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = path.join(root, v, 'bin');
      if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'))) return bin;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  throw new Error(`PostgreSQL server binaries (initdb, pg_ctl) not found under ${root}/*/bin or on PATH: ${INSTALL_HINT}`);
}

/** uid/gid to run the server as: `postgres` when we are root (initdb refuses root), else ourselves. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(`running as root and there is no postgres user to run PostgreSQL as: ${INSTALL_HINT}`);
  }
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const user = runAs();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lad-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  if (user) await fs.chown(dir, user.uid, user.gid);
  const run = (file: string, args: string[]) =>
    execFile(path.join(bin, file), args, { cwd: dir, ...(user ?? {}), env: { ...process.env, LC_ALL: 'C' } }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`${file} ${args.join(' ')} failed: ${err.stderr || err.message}`);
    });
  // --no-sync: a throwaway cluster need not fsync its template files (initdb 2 s faster)
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const start = async () => {
    await run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']).catch(async (err: Error) => {
      const tail = await fs.readFile(log, 'utf8').catch(() => '');
      throw new Error(`${err.message}\n${tail.slice(-2000)}`);
    });
  };
  let running = false;
  await start();
  running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async stop(mode = 'fast') {
      if (!running) return;
      await run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
      running = false;
    },
    async start() {
      if (running) return;
      await start();
      running = true;
    },
    async close() {
      if (running) await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      running = false;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
