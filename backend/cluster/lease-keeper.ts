/**
 * Runs a scoring worker's lease side (lease-balance.ts: heartbeat, renewals, balancing) on a worker thread
 * (lease-keeper-thread.ts) with its own NATS connection, and relays what it decides to the main thread.
 *
 * Why a thread: the worker's main thread scores, and scoring is synchronous CPU work (the SOM's best-match
 * search, its neighbour index built on a model's first use, a whole training window scored at once when the
 * model arrives), and its NATS connection carries the scorers' fetched lines. A CPU profile of the e2e test's
 * workers showed the main thread busy without a break for up to 2.3 s in SourceScorer.scoreAndAck (profiled),
 * perf_hooks measured per-second loop delays of 0.3-0.6 s on an idle machine and up to 3.2 s with other
 * jobs running. Renewals on that loop came late, the balancing round that renewed them also waited for scorers
 * to stop (a stop waits for the training in flight, 3.6 s): renewal gaps of 7.1 s at lease 3 s were measured,
 * and live workers lost their sources. On a thread of its own, a renewal waits only for NATS.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { leaseTiming } from './lease';
import type { FromKeeper, KeeperData, ToKeeper } from './lease-keeper-thread';

export interface KeeperEvents {
  /** The lease is ours (since `at`, ms since the epoch): start scoring the source. */
  take(token: string, source: string, revision: number, share: number, alive: number, at: number): void;
  /** Stop scoring the source, then call keeper.drained(token): the lease goes back to the pool. */
  giveBack(token: string): void;
  /** Another worker holds the lease now: stop scoring at once. */
  lost(token: string): void;
  /** The thread died: every lease is as good as lost. */
  lostAll(): void;
  /** A renewal round finished, `gapMs` after the one before. */
  renewed(gapMs: number): void;
  warn(message: string): void;
}

export class LeaseKeeper {
  private thread: Worker | null = null;
  private alive: NodeJS.Timeout | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();
  private stopping = false;
  private lastWarn = '';

  constructor(
    private readonly data: KeeperData,
    private readonly events: KeeperEvents
  ) {}

  /** Starts the thread; resolves once it is connected to NATS and has beaten the heartbeat. */
  async start(): Promise<void> {
    const thread = startThread(this.data);
    this.thread = thread;
    let ready = false;
    await new Promise<void>((resolve, reject) => {
      thread.on('message', (m: FromKeeper) => {
        if (m.type === 'ready') {
          ready = true;
          resolve();
        } else this.onMessage(m);
      });
      thread.once('exit', (code) => {
        // a thread that never connected fails start(); one that dies later is replaced
        if (ready) this.onExit(code);
        else reject(new Error(`lease keeper thread exited with code ${code} before connecting${this.lastWarn ? `: ${this.lastWarn}` : ''}`));
      });
      thread.on('error', (err) => this.events.warn(`lease keeper thread: ${err.message}`));
    });
    // the thread renews and takes only while this thread shows it is alive
    this.alive = setInterval(() => this.post({ type: 'alive' }), leaseTiming(this.data.leaseSeconds).renewEveryMs);
  }

  /** The scorer of a source given back (or failed) has stopped: its lease can go. */
  drained(token: string): void {
    this.post({ type: 'drained', token });
  }

  /** No more taking: a clean stop drains its scorers next, then calls stop(true). */
  quiesce(): void {
    this.post({ type: 'quiesce' });
  }

  /** Ends the thread; `leave` gives the leases and the heartbeat back, else they expire as a dead worker's do. */
  async stop(leave: boolean): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.alive) clearInterval(this.alive);
    if (this.thread === null) return;
    const id = ++this.nextId;
    await new Promise<void>((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ type: 'stop', leave, id });
    });
    await this.thread.terminate();
  }

  private onMessage(m: FromKeeper): void {
    if (this.stopping && m.type === 'take') return;
    switch (m.type) {
      case 'take':
        return this.events.take(m.token, m.source, m.revision, m.share, m.alive, m.at);
      case 'giveBack':
        return this.events.giveBack(m.token);
      case 'lost':
        return this.events.lost(m.token);
      case 'renewed':
        return this.events.renewed(m.gapMs);
      case 'warn':
        this.lastWarn = m.message;
        return this.events.warn(m.message);
      case 'done':
        this.waiting.get(m.id)?.();
        this.waiting.delete(m.id);
    }
  }

  /** A thread that died renews nothing: the worker stops scoring everything, and a new thread starts over. */
  private onExit(code: number): void {
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
    if (this.stopping) return;
    if (this.alive) clearInterval(this.alive);
    this.events.warn(`lease keeper thread exited (code ${code}): its leases are let go, starting a new one`);
    this.events.lostAll();
    this.start().catch((err: Error) => this.events.warn(err.message));
  }

  private post(m: ToKeeper): void {
    this.thread?.postMessage(m);
  }
}

/**
 * The thread's entry: lease-keeper-thread.js beside this file when compiled; from TypeScript (jest) the .ts
 * source, compiled as it loads by ts-node with swc, as engine/in-worker.ts does for training.
 */
function startThread(workerData: KeeperData): Worker {
  const compiled = path.extname(__filename) !== '.ts';
  const script = path.join(__dirname, compiled ? 'lease-keeper-thread.js' : 'lease-keeper-thread.ts');
  if (compiled) return new Worker(script, { workerData });
  const tsNode = require.resolve('ts-node');
  const project = path.resolve(__dirname, '..', 'tsconfig.json');
  const boot = `require(${JSON.stringify(tsNode)}).register({ transpileOnly: true, swc: true, project: ${JSON.stringify(project)} });
require(${JSON.stringify(script)});`;
  return new Worker(boot, { eval: true, workerData });
}
