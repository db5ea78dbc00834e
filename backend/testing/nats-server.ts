/**
 * A throwaway JetStream server for cluster-mode tests: Debian's nats-server on a free loopback port with its
 * store in a temp directory, stopped (and the directory removed) afterwards. It can be killed and started
 * again on the same port and store, so tests can take NATS away and bring it back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { freePort } from './loopback';
import { removeDir, tempDir } from './temp-dir';

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** The nats-server executable, or an error saying how to install it. */
export function natsServerPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`nats-server not found (looked in ${CANDIDATES.join(', ')}): run scripts/install-system-deps.sh (apt-get install nats-server)`);
  }
  return found;
}

export interface NatsServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (signal, default SIGKILL: the store keeps what was acknowledged). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and store (after kill). */
  restart(): Promise<void>;
  /** Stops it and removes the store. */
  stop(): Promise<void>;
  output(): string;
  /** The running server's process id (for CPU accounting). */
  pid(): number;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startNatsServer(): Promise<NatsServer> {
  const bin = natsServerPath();
  const dir = tempDir('lad-nats-');
  const port = await freePort();
  let child: ChildProcess | null = null;
  let output = '';

  const launch = async (): Promise<void> => {
    const c = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dir, 'store')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const keep = (data: Buffer) => {
      output = (output + data.toString()).slice(-20_000);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    const deadline = Date.now() + 15_000;
    while (!(await portOpen(port))) {
      if (c.exitCode !== null) throw new Error(`nats-server exited (code ${c.exitCode}): ${output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port} within 15 s: ${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // JetStream is ready a moment after the port opens.
    const jsDeadline = Date.now() + 10_000;
    while (!output.includes('Server is ready') && Date.now() < jsDeadline) await new Promise((r) => setTimeout(r, 20));
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await exited;
  };

  await launch();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    kill,
    restart: launch,
    async stop() {
      await kill('SIGTERM');
      removeDir(dir);
    },
    output: () => output,
    pid: () => (child as ChildProcess | null)?.pid ?? 0,
  };
}
