/**
 * The lease side of a scoring worker, run on the lease keeper's thread (lease-keeper-thread.ts) with its own
 * NATS connection: renews the heartbeat and the held leases every renewEveryMs, and every pollEveryMs finds the
 * sources in the stream and balances: it holds at most ceil(sources / live workers), taking free sources up to
 * that share and asking for extra ones to be given back, so sources spread over the workers and a dead
 * worker's sources are taken within the lease time (leaseTiming says how soon).
 *
 * The scorers stay on the main thread: this side tells it `take` (start scoring, the lease is ours),
 * `giveBack` (drain, then answer `drained`: the lease is kept until then, so the next owner starts where this
 * one stopped) and `lost` (another worker holds it now: stop at once).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { LeaseTable } from './lease';
import { decodeJson, LINES_STREAM, LINES_SUBJECT_PREFIX, streamLineSchema } from './ports';

export interface BalanceEvents {
  take(token: string, source: string, revision: number, share: number, alive: number): void;
  giveBack(token: string): void;
  lost(token: string): void;
}

export class LeaseBalance {
  /** Leases held: token → the revision last written. */
  private readonly held = new Map<string, number>();
  /** Held leases the main thread is draining (asked to give back): renewed, not counted in the share. */
  private readonly giving = new Set<string>();
  /** sourceToken → source name, learnt from the newest message on the token's subject. */
  private readonly known = new Map<string, string>();
  /** Renewals and releases one at a time: a release must use the revision the last renewal wrote. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly table: LeaseTable,
    private readonly jsm: JetStreamManager,
    private readonly events: BalanceEvents
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Beats the heartbeat and renews every held lease; a lease that cannot be renewed is reported lost. */
  renew(): Promise<void> {
    return this.serial(async () => {
      // one round trip for all of them: a renewal late by a loaded nats-server's answer counts twice otherwise
      await Promise.all([
        this.table.heartbeat(),
        ...[...this.held].map(async ([token, revision]) => {
          const next = await this.table.renew(token, revision);
          if (next !== null) return void this.held.set(token, next);
          this.held.delete(token);
          this.giving.delete(token);
          this.events.lost(token);
        }),
      ]);
    });
  }

  /** Gives a drained lease back (only if still ours at the revision last written). */
  release(token: string): Promise<void> {
    return this.serial(async () => {
      const revision = this.held.get(token);
      this.held.delete(token);
      this.giving.delete(token);
      if (revision !== undefined) await this.table.release(token, revision);
    });
  }

  /** Gives every lease back and removes the heartbeat (a clean stop, once the main thread has drained). */
  async leave(): Promise<void> {
    await Promise.all([...this.held.keys()].map((t) => this.release(t)));
    await this.table.leaveHeartbeat().catch(() => undefined);
  }

  /** What the round in progress waits for (for a watchdog's message). */
  phase = 'idle';

  /** One balancing round. */
  async balance(): Promise<void> {
    // side by side: each request waits for a loaded nats-server, and the round's length delays a takeover
    this.phase = 'reading the sources in the stream and the heartbeats';
    const [tokens, workers] = await Promise.all([this.discover(), this.table.aliveWorkers(this.jsm)]);
    const alive = Math.max(1, workers.length);
    this.phase = 'taking leases';
    const share = Math.ceil(tokens.length / alive);
    const kept = [...this.held.keys()].filter((t) => !this.giving.has(t));
    if (kept.length > share) {
      // the newest extras go back, once drained
      for (const t of kept.slice(share)) {
        this.giving.add(t);
        this.events.giveBack(t);
      }
      this.phase = 'idle';
      return;
    }
    // start at a place that depends on this worker, so workers do not all race for the same free source;
    // the takes run side by side: a dead worker's sources should move in one round trip, not one per source
    const offset = hash(this.table.workerId) % Math.max(1, tokens.length);
    const candidates: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[(offset + i) % tokens.length];
      if (!this.held.has(token)) candidates.push(token);
    }
    let room = share - kept.length;
    while (room > 0 && candidates.length > 0) {
      const tries = candidates.splice(0, room);
      const revisions = await Promise.all(tries.map((token) => this.table.acquire(token).catch(() => null)));
      tries.forEach((token, i) => {
        const revision = revisions[i];
        if (revision === null) return;
        this.held.set(token, revision);
        this.events.take(token, this.known.get(token)!, revision, share, alive);
        room--;
      });
    }
    this.phase = 'idle';
  }

  /** Tokens of the sources with lines in the stream (names learnt from a message of each), sorted. */
  private async discover(): Promise<string[]> {
    const info = await this.jsm.streams.info(LINES_STREAM, { subjects_filter: `${LINES_SUBJECT_PREFIX}>` });
    const tokens: string[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const token = subject.slice(LINES_SUBJECT_PREFIX.length);
      if (!this.known.has(token)) {
        const msg = await this.jsm.streams.getMessage(LINES_STREAM, { last_by_subj: subject }).catch(() => null);
        const line = msg ? decodeJson(streamLineSchema, msg.string()) : null;
        if (line === null) continue;
        this.known.set(token, line.source);
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
