/**
 * Group commit for a store that persists its whole state in one durable write (a JSON file, fsynced).
 * Changes that arrive while a write is in flight wait, are applied together in arrival order, and are made
 * durable by ONE following write; each caller is answered only once the write that holds its change is done.
 * One write per change cost O(records) each and queued every request behind all earlier ones (at 50,000
 * records: 8.6 requests/s whatever the concurrency); a write per batch keeps the cost per request falling
 * as concurrency grows, with the same contract: resolved ⇒ durable, and changes never lose each other.
 */

/** What applying one change did. */
export interface Applied<T> {
  /** What the caller's promise resolves with, once durable. */
  result: T;
  /** False when nothing changed (e.g. deleting an unknown id): a batch of only those is not written. */
  changed: boolean;
  /** Runs after the write that holds the change (index updates, change events), before the caller is answered. */
  durable?: () => void;
}

export interface GroupCommitTarget {
  /** Called before a batch is applied; returns what undoes the batch's in-memory changes if its write fails. */
  checkpoint(): () => void;
  /** Writes the whole current state durably (resolves once fsynced). */
  persist(): Promise<void>;
}

interface Pending {
  /** Must throw before changing anything: a change that fails is answered alone and the batch goes on. */
  apply: () => Applied<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

export class GroupCommit {
  private pending: Pending[] = [];
  private busy = false;
  /** Durable writes made (a batch of any size is one). */
  writes = 0;

  constructor(private readonly target: GroupCommitTarget) {}

  /** Queues a change; resolves with its result once a write holding it is durable. */
  submit<T>(apply: () => Applied<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      this.kick();
    });
  }

  /** Resolves once every change submitted before it is durable (or has failed). */
  flush(): Promise<void> {
    return this.submit(() => ({ result: undefined, changed: false }));
  }

  private kick(): void {
    if (this.busy) return;
    this.busy = true;
    void this.drain();
  }

  /** One batch at a time: what arrives during a write is the next batch. `busy` clears in the same turn as the last empty check. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        await this.commit(batch);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Never throws: every change of the batch is answered, resolved or rejected. */
  private async commit(batch: Pending[]): Promise<void> {
    const restore = this.target.checkpoint();
    const applied: { pending: Pending; outcome: Applied<unknown> }[] = [];
    for (const pending of batch) {
      try {
        applied.push({ pending, outcome: pending.apply() });
      } catch (err) {
        pending.reject(err);
      }
    }
    if (applied.some((a) => a.outcome.changed)) {
      try {
        await this.target.persist();
        this.writes++;
      } catch (err) {
        // Nothing of this batch is durable: undo it in memory and tell every caller.
        restore();
        for (const { pending } of applied) pending.reject(err);
        return;
      }
    }
    for (const { pending, outcome } of applied) {
      try {
        outcome.durable?.();
        pending.resolve(outcome.result);
      } catch (err) {
        pending.reject(err);
      }
    }
  }
}
