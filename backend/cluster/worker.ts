/**
 * A scoring worker (roles include score): takes sources through leases (lease.ts) and scores each with a
 * SourceScorer. Every leaseSeconds/3 it beats its heartbeat, renews its leases (a lease it cannot renew is
 * someone else's now: that scorer stops at once), finds the sources in the stream, and balances: it holds at
 * most ceil(sources / live workers), taking free sources up to that share and giving extra ones back, so
 * sources spread over the workers and a dead worker's sources are taken within the lease time.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { LeaseTable } from './lease';
import { LINES_STREAM, LINES_SUBJECT_PREFIX, SOURCES_SUBJECT, streamLineSchema } from './ports';
import { SourceScorer, type ScorerDeps } from './source-scorer';

export interface WorkerOptions {
  nc: NatsConnection;
  leases: LeaseTable;
  leaseSeconds: number;
  scorer: ScorerDeps;
  logger: Logger;
}

interface Owned {
  scorer: SourceScorer;
  revision: number;
}

export function newWorkerId(): string {
  return `${os.hostname().replace(/[^\w-]/g, '_')}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export class ScoringWorker {
  private readonly owned = new Map<string, Owned>();
  /** sourceToken → source name, learnt from the newest message on the token's subject. */
  private readonly known = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  /** No lease round before this (see start). */
  private firstRoundAt = Infinity;
  private readonly log: Logger;

  constructor(private readonly opts: WorkerOptions) {
    this.log = opts.logger.child({ worker: opts.leases.workerId });
  }

  get workerId(): string {
    return this.opts.leases.workerId;
  }

  /** Sources this worker holds now, with lines scored since it took each. */
  ownedSources(): { source: string; scored: number; lastError: string | null }[] {
    return [...this.owned.values()].map(({ scorer }) => ({ source: scorer.source, scored: scorer.scored, lastError: scorer.lastError }));
  }

  async start(): Promise<void> {
    await this.opts.leases.heartbeat();
    // The first round waits one period after the first heartbeat: workers started together then see each
    // other before taking a share (else the first takes everything and gives most of it back: a consumer
    // and a model load per source moved).
    const every = Math.max(200, (this.opts.leaseSeconds * 1000) / 3);
    this.firstRoundAt = Date.now() + every;
    // a source an ingest replica just saw: look now rather than at the next tick
    const sub = this.opts.nc.subscribe(SOURCES_SUBJECT, { callback: () => this.kick() });
    void sub;
    this.timer = setInterval(() => this.kick(), every);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.owned.keys()].map((token) => this.release(token)));
    await this.opts.leases.leaveHeartbeat().catch(() => undefined);
  }

  /**
   * Stops scoring and renewing without giving the leases back, as a killed worker leaves them: they expire
   * after the lease time. For failover tests and the benchmark; a real stop is stop().
   */
  async abandon(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.owned.values()].map((o) => o.scorer.stop()));
    this.owned.clear();
  }

  private kick(): void {
    if (this.ticking || this.stopped || Date.now() < this.firstRoundAt) return;
    this.ticking = this.tick()
      .catch((err: Error) => this.log.warn({ err: err.message }, 'lease round failed'))
      .finally(() => {
        this.ticking = null;
      });
  }

  private async tick(): Promise<void> {
    const { leases } = this.opts;
    await leases.heartbeat();
    await this.renewAll();
    // a scorer that died on an error must not sit on its lease: give it back, the source is taken again
    await Promise.all([...this.owned].filter(([, o]) => o.scorer.failed).map(([token]) => this.release(token)));
    const tokens = await this.discover();
    const alive = Math.max(1, (await leases.aliveWorkers()).length);
    const share = Math.ceil(tokens.length / alive);
    if (this.owned.size > share) {
      // give back the newest extras only after they are drained: the next owner starts where they stopped
      const extra = [...this.owned.keys()].slice(share);
      await Promise.all(extra.map((t) => this.release(t)));
      return;
    }
    // start at a place that depends on this worker, so workers do not all race for the same free source;
    // the takes run side by side: a dead worker's sources should move in one round trip, not one per source
    const offset = hash(this.workerId) % Math.max(1, tokens.length);
    const candidates: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[(offset + i) % tokens.length];
      if (!this.owned.has(token)) candidates.push(token);
    }
    let room = share - this.owned.size;
    while (room > 0 && candidates.length > 0 && !this.stopped) {
      const tries = candidates.splice(0, room);
      const revisions = await Promise.all(tries.map((token) => leases.acquire(token).catch(() => null)));
      tries.forEach((token, i) => {
        const revision = revisions[i];
        if (revision === null || this.stopped) return;
        const source = this.known.get(token)!;
        const scorer = new SourceScorer(source, revision, this.opts.scorer, async () => (await leases.owner(token)) === this.workerId);
        this.owned.set(token, { scorer, revision });
        this.log.info({ source, share, alive }, 'took source');
        scorer.start();
      });
      room = share - this.owned.size;
    }
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.owned].map(async ([token, o]) => {
        const revision = await this.opts.leases.renew(token, o.revision);
        if (revision !== null) {
          o.revision = revision;
          return;
        }
        this.log.warn({ source: o.scorer.source }, 'lease lost, stopping this source');
        this.owned.delete(token);
        await o.scorer.stop();
      })
    );
  }

  private async release(token: string): Promise<void> {
    const o = this.owned.get(token);
    if (!o) return;
    await o.scorer.stop();
    this.owned.delete(token);
    await this.opts.leases.release(token, o.revision);
    this.log.info({ source: o.scorer.source }, 'gave source back');
  }

  /** Tokens of the sources with lines in the stream (names learnt from a message of each), sorted. */
  private async discover(): Promise<string[]> {
    const jsm: JetStreamManager = this.opts.scorer.jsm;
    const info = await jsm.streams.info(LINES_STREAM, { subjects_filter: `${LINES_SUBJECT_PREFIX}>` });
    const tokens: string[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const token = subject.slice(LINES_SUBJECT_PREFIX.length);
      if (!this.known.has(token)) {
        const msg = await jsm.streams.getMessage(LINES_STREAM, { last_by_subj: subject }).catch(() => null);
        const parsed = msg ? streamLineSchema.safeParse(safeJson(msg.string())) : null;
        if (!parsed?.success) continue;
        this.known.set(token, parsed.data.source);
      }
      tokens.push(token);
    }
    return tokens.sort();
  }
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
