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
 * renewedAt is older than the lease time also counts as expired: it is taken over with update at the stale
 * revision (compare-and-set, so only one taker wins). This assumes the workers' clocks agree to well within
 * the lease time (NTP).
 */
import type { KV } from '@nats-io/kv';
import { leaseValueSchema, type LeaseValue } from './ports';

const WORKER_PREFIX = 'worker.';

export class LeaseTable {
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly kv: KV,
    readonly workerId: string,
    private readonly leaseSeconds: number
  ) {}

  private live(value: LeaseValue): boolean {
    return Date.now() - value.renewedAt <= this.leaseSeconds * 1000;
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

  /** Workers whose heartbeat is live (this one included once it has beaten). */
  async aliveWorkers(): Promise<string[]> {
    const out: string[] = [];
    const keys = await this.kv.keys(`${WORKER_PREFIX}>`);
    const names: string[] = [];
    for await (const k of keys) names.push(k);
    for (const k of names) {
      const held = await this.read(k);
      if (held !== null && this.live(held.value)) out.push(k.slice(WORKER_PREFIX.length));
    }
    return out;
  }

  private async read(key: string): Promise<{ value: LeaseValue; revision: number } | null> {
    const e = await this.kv.get(key);
    if (e === null || e.operation !== 'PUT') return null;
    const parsed = leaseValueSchema.safeParse(safeJson(e.string()));
    return parsed.success ? { value: parsed.data, revision: e.revision } : null;
  }

  /** The live owner of a source's lease, or null when free (absent, deleted or not renewed in time). */
  async owner(token: string): Promise<string | null> {
    const held = await this.read(token);
    return held !== null && this.live(held.value) ? held.value.worker : null;
  }

  /** Takes a free or expired lease; resolves with its revision, or null when another worker holds it. */
  async acquire(token: string): Promise<number | null> {
    try {
      const held = await this.read(token);
      if (held === null) return await this.kv.create(token, this.value());
      if (this.live(held.value)) return null;
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** create on an existing key and update at a stale revision both fail with JetStream's "wrong last sequence". */
function isWrongRevision(err: unknown): boolean {
  return err instanceof Error && /wrong last sequence|key exists/i.test(err.message);
}
