import type { LogEntry } from '../sources/source';

/** Characters of a batch's lines (what the queue's character bound counts). */
export function charsOf(batch: readonly LogEntry[]): number {
  let chars = 0;
  for (let i = 0; i < batch.length; i++) chars += batch[i].line.length;
  return chars;
}

/**
 * FIFO of accepted log entries, stored as the batches they arrived in (no per-line copying on push).
 * Bounded by its owner: `size` is the number of lines held, `chars` the characters of their text.
 */
export class LineQueue {
  private batches: LogEntry[][] = [];
  private head = 0; // index of the next entry in batches[0]
  private count = 0;
  private charCount = 0;

  get size(): number {
    return this.count;
  }

  get chars(): number {
    return this.charCount;
  }

  push(batch: LogEntry[]): void {
    if (batch.length > 0) {
      this.batches.push(batch);
      this.count += batch.length;
      this.charCount += charsOf(batch);
    }
  }

  /** Puts entries back at the front (lines collected for training, scored once the model is ready). */
  unshift(batch: LogEntry[]): void {
    if (batch.length === 0) {
      return;
    }
    if (this.head > 0) {
      this.batches[0] = this.batches[0].slice(this.head);
      this.head = 0;
    }
    this.batches.unshift(batch);
    this.count += batch.length;
    this.charCount += charsOf(batch);
  }

  /** Calls `visit` for up to `max` entries from the front, removing them; stops early when visit returns false. */
  drain(max: number, visit: (entry: LogEntry) => boolean): number {
    let taken = 0;
    while (taken < max && this.batches.length > 0) {
      const batch = this.batches[0];
      while (this.head < batch.length && taken < max) {
        const entry = batch[this.head++];
        taken++;
        this.count--;
        this.charCount -= entry.line.length;
        if (!visit(entry)) {
          this.compact(batch);
          return taken;
        }
      }
      this.compact(batch);
    }
    return taken;
  }

  private compact(batch: LogEntry[]): void {
    if (this.head >= batch.length) {
      this.batches.shift();
      this.head = 0;
    }
  }
}
