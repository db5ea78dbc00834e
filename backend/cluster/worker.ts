/**
 * A scoring worker (roles include score): scores each source whose lease it holds with a SourceScorer. The
 * leases themselves are kept on a thread of their own (lease-keeper.ts, lease-balance.ts): it beats the
 * heartbeat and renews the held leases every leaseSeconds/10, and every leaseSeconds/10 balances (at most
 * ceil(sources / live workers) each, a dead worker's sources taken within the lease time: leaseTiming says how
 * soon), whatever the scorers do on this thread. This class starts, drains and stops scorers as it is told.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { leaseTiming, type LeaseTable } from './lease';
import { LeaseKeeper } from './lease-keeper';
import { LeaseLoopWatch } from './lease-loop-watch';
import { SourceScorer, type ScorerDeps } from './source-scorer';

export interface WorkerOptions {
  /** The lease keeper thread opens its own connection to it. */
  natsUrl: string;
  /** This worker's view of the lease bucket (its id; whether it still owns a source). */
  leases: LeaseTable;
  leaseSeconds: number;
  scorer: ScorerDeps;
  logger: Logger;
}

export function newWorkerId(): string {
  return `${os.hostname().replace(/[^\w-]/g, '_')}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export class ScoringWorker {
  /** sourceToken → the scorer of a source whose lease this worker holds, and since when it holds it. */
  private readonly owned = new Map<string, SourceScorer>();
  private readonly since = new WeakMap<SourceScorer, number>();
  /** Tokens whose scorers are draining to be given back. */
  private readonly draining = new Set<string>();
  private failedCheck: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly log: Logger;
  private readonly watch: LeaseLoopWatch;
  private readonly keeper: LeaseKeeper;

  constructor(private readonly opts: WorkerOptions) {
    this.log = opts.logger.child({ worker: opts.leases.workerId });
    const timing = leaseTiming(opts.leaseSeconds);
    // a loop delay of a quarter of the time a lease survives without renewal is worth a line in the log
    this.watch = new LeaseLoopWatch(opts.scorer.metrics.registry, this.log, timing.expiresAfterMs / 4, timing.renewEveryMs);
    this.keeper = new LeaseKeeper(
      { natsUrl: opts.natsUrl, workerId: opts.leases.workerId, leaseSeconds: opts.leaseSeconds },
      {
        take: (token, source, revision, share, alive, at) => this.take(token, source, revision, share, alive, at),
        giveBack: (token) => void this.giveBack(token),
        lost: (token) => this.lost(token),
        lostAll: () => [...this.owned.keys()].forEach((token) => this.lost(token)),
        renewed: (gapMs) => this.watch.renewed(gapMs),
        warn: (message) => this.log.warn(message),
      }
    );
  }

  get workerId(): string {
    return this.opts.leases.workerId;
  }

  /**
   * Sources this worker holds now: since when its lease thread holds each (ms since the epoch: this thread may
   * hear of a take later, when busy), and the lines scored since.
   */
  ownedSources(): { source: string; since: number; scored: number; lastError: string | null }[] {
    return [...this.owned.values()].map((scorer) => ({ source: scorer.source, since: this.since.get(scorer) ?? 0, scored: scorer.scored, lastError: scorer.lastError }));
  }

  async start(): Promise<void> {
    this.watch.start();
    await this.keeper.start();
    // a scorer that died on an error must not sit on its lease: give it back, the source is taken again
    this.failedCheck = setInterval(() => {
      for (const [token, scorer] of this.owned) if (scorer.failed) void this.giveBack(token);
    }, leaseTiming(this.opts.leaseSeconds).renewEveryMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.failedCheck) clearInterval(this.failedCheck);
    this.keeper.quiesce();
    await Promise.all([...this.owned.values()].map((scorer) => scorer.stop()));
    this.owned.clear();
    await this.keeper.stop(true);
    this.watch.stop();
  }

  /**
   * Stops renewing and scoring without giving the leases back, as a killed worker leaves them: they expire
   * (leaseTiming). For failover tests and the benchmark; a real stop is stop().
   */
  async abandon(): Promise<void> {
    this.stopped = true;
    if (this.failedCheck) clearInterval(this.failedCheck);
    await this.keeper.stop(false);
    this.watch.stop();
    await Promise.all([...this.owned.values()].map((scorer) => scorer.stop()));
    this.owned.clear();
  }

  private take(token: string, source: string, revision: number, share: number, alive: number, at: number): void {
    if (this.stopped || this.owned.has(token)) return;
    const scorer = new SourceScorer(source, revision, this.opts.scorer, async () => (await this.opts.leases.owner(token)) === this.workerId);
    this.owned.set(token, scorer);
    this.since.set(scorer, at);
    this.log.info({ source, share, alive }, 'took source');
    scorer.start();
  }

  /** The keeper could not renew a lease: another worker took it, so stop scoring it (without waiting here). */
  private lost(token: string): void {
    const scorer = this.owned.get(token);
    if (!scorer) return;
    this.owned.delete(token);
    this.log.warn({ source: scorer.source }, 'lease lost, stopping this source');
    void scorer.stop();
  }

  /** Drains the source's scorer, then lets the keeper give its lease back (renewed until then). */
  private async giveBack(token: string): Promise<void> {
    const scorer = this.owned.get(token);
    if (!scorer || this.draining.has(token)) return;
    this.draining.add(token);
    try {
      await scorer.stop();
      // (lost meanwhile: another worker holds it, nothing to give back)
      if (this.owned.get(token) !== scorer) return;
      this.owned.delete(token);
        this.keeper.drained(token);
      this.log.info({ source: scorer.source }, 'gave source back');
    } finally {
      this.draining.delete(token);
    }
  }
}
