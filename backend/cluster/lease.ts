/**
 * Source leases and worker heartbeats in the JetStream key-value bucket LEASE_BUCKET, whose TTL is the lease
 * time: a key not renewed within it disappears, so a dead worker's sources become free without anyone
 * deleting them.
 * - lease of a source: key `sourceToken(source)`, taken with create (only if absent), renewed with update at
 *   the revision the worker last wrote; a failed update means someone else holds it now, and the worker must
 *   stop scoring that source.
 * - heartbeat of a worker: key `worker.<id>`, put every renewal; the live keys say how many workers share
 *   the sources.
 * The server removes an expired key on its own schedule (seconds late for short TTLs), so a key whose
 * renewedAt (or, if later, the time the server stored it) is older than `expiresAfterMs` (leaseTiming) also
 * counts as expired: it is taken over with update
 * at the stale revision (compare-and-set, so only one taker wins). This assumes the workers' clocks agree to
 * well within the lease time (NTP).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { decodeJson, LEASE_BUCKET, leaseValueSchema, type LeaseValue } from './ports';

const WORKER_PREFIX = 'worker.';

/** A lease or heartbeat as read: its value, revision, and when the server stored it (ms since the epoch). */
interface Held {
  value: LeaseValue;
  revision: number;
  storedAt: number;
}

/**
 * The failover rule, with L = leaseSeconds (docs/cluster.md, "Failover"). Renewals and takeovers both run on
 * the workers' lease threads (lease-keeper.ts), and both are late by the same thing, that thread's and
 * nats-server's delay on a loaded machine (d), so the rule leaves each side the same room:
 * - renew every L/10: a holder keeps its sources while L/10 + d < L/2, i.e. d < 0.4 L;
 * - a lease (or heartbeat) whose renewedAt is older than L/2 is free;
 * - look for free leases every L/10: a kill -9 frees its leases at most L/2 after the kill (the last renewal is
 *   no later than the kill), taken at the next look, so the sources move within L/2 + L/10 + d < L, i.e. again
 *   d < 0.4 L (1.2 s at L = 3 s, 4 s at the default 10 s).
 * Measured d with renewals every L/6 at L = 3 s and load average 16 on 2 cores: renewal gaps up to 1.45 s (0.95 s
 * late, 0.05 s from losing the lease), takeovers up to 2.61 s after the kill (load 20). Freeing later (say 0.8 L)
 * would leave the taker 0.1 L.
 */
export function leaseTiming(leaseSeconds: number): { renewEveryMs: number; expiresAfterMs: number; pollEveryMs: number } {
  const ms = leaseSeconds * 1000;
  return { renewEveryMs: ms / 10, expiresAfterMs: ms / 2, pollEveryMs: ms / 10 };
}

export class LeaseTable {
  private readonly encoder = new TextEncoder();
  private readonly expiresAfterMs: number;

  constructor(
    private readonly kv: KV,
    readonly workerId: string,
    leaseSeconds: number
  ) {
    this.expiresAfterMs = leaseTiming(leaseSeconds).expiresAfterMs;
  }

  /**
   * Renewed within expiresAfterMs, counted from the later of the holder's renewedAt and the time the server stored
   * it: a renewal that waited in a starved nats-server counts from when it was stored (measured: renewal gaps of
   * 1.6 s on all three workers at once under load, which a taker reading right after would have seen as expired).
   */
  private live(held: Held): boolean {
    return Date.now() - Math.max(held.value.renewedAt, held.storedAt) <= this.expiresAfterMs;
  }

  private value(): Uint8Array {
    const v: LeaseValue = { worker: this.workerId, renewedAt: Date.now() };
    return this.encoder.encode(JSON.stringify(v));
  }

  async heartbeat(): Promise<void> {
    await this.kv.put(WORKER_PREFIX + this.workerId, this.value());
  }

  async leaveHeartbeat(): Promise<void> {
    await this.kv.delete(WORKER_PREFIX + this.workerId);
  }

  /**
   * Workers whose heartbeat is live (this one included once it has beaten). The keys come from the bucket
   * stream's subjects (one request), not kv.keys(): its listing consumer never ended once in the e2e test (a
   * round waited forever and the worker took none of a dead worker's sources), and it lists a key put again
   * while it runs twice (6 "alive" of 3 workers measured under load).
   */
  async aliveWorkers(jsm: JetStreamManager): Promise<string[]> {
    const prefix = `$KV.${LEASE_BUCKET}.${WORKER_PREFIX}`;
    const info = await jsm.streams.info(`KV_${LEASE_BUCKET}`, { subjects_filter: `${prefix}>` });
    const out: string[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const key = subject.slice(`$KV.${LEASE_BUCKET}.`.length);
      const held = await this.read(key);
      if (held !== null && this.live(held)) out.push(key.slice(WORKER_PREFIX.length));
    }
    return out;
  }

  private async read(key: string): Promise<Held | null> {
    const e = await this.kv.get(key);
    if (e === null || e.operation !== 'PUT') return null;
    const value = decodeJson(leaseValueSchema, e.string());
    return value !== null ? { value, revision: e.revision, storedAt: e.created.getTime() } : null;
  }

  /** The live owner of a source's lease, or null when free (absent, deleted or not renewed in time). */
  async owner(token: string): Promise<string | null> {
    const held = await this.read(token);
    return held !== null && this.live(held) ? held.value.worker : null;
  }

  /** Takes a free or expired lease; resolves with its revision, or null when another worker holds it. */
  async acquire(token: string): Promise<number | null> {
    try {
      const held = await this.read(token);
      if (held === null) return await this.kv.create(token, this.value());
      if (this.live(held)) return null;
      return await this.kv.update(token, this.value(), held.revision);
    } catch (err) {
      if (isWrongRevision(err)) return null;
      throw err;
    }
  }

  /** Renews a held lease; resolves with the new revision, or null when it was lost (expired and taken, or deleted). */
  async renew(token: string, revision: number): Promise<number | null> {
    try {
      return await this.kv.update(token, this.value(), revision);
    } catch (err) {
      if (isWrongRevision(err)) return null;
      throw err;
    }
  }

  /** Gives a lease up (only if still ours at that revision). */
  async release(token: string, revision: number): Promise<void> {
    await this.kv.delete(token, { previousSeq: revision }).catch(() => undefined);
  }
}

/** create on an existing key and update at a stale revision both fail with JetStream's "wrong last sequence". */
function isWrongRevision(err: unknown): boolean {
  return err instanceof Error && /wrong last sequence|key exists/i.test(err.message);
}
