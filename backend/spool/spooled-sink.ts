/**
 * The sink the push routes write to when the spool is on: a batch is checked against the pipelines (capacity,
 * source count: 429/400 before anything is written), appended to the spool, and enqueued for scoring once it
 * is on disk; only then does the route answer 204.
 */
import type { DurableSink, LogEntry } from '../sources/source';
import type { Spool } from './spool';

/** What the sink needs of Pipelines. */
export interface SpoolTarget {
  reserve(entries: LogEntry[]): void;
  accept(entries: LogEntry[]): void;
  readonly saturated: boolean;
  onDrain(listener: () => void): () => void;
}

export class SpooledSink implements DurableSink {
  private readonly deliver = (entries: LogEntry[]): void => this.target.accept(entries);

  constructor(
    private readonly target: SpoolTarget,
    private readonly spool: Spool
  ) {}

  pushDurably(entries: LogEntry[]): Promise<void> {
    try {
      this.target.reserve(entries);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.spool.append(entries, this.deliver);
  }

  /** Sources that cannot wait (none uses it today) still get the durable path; a failure is only logged by the spool. */
  push(entries: LogEntry[]): void {
    this.target.reserve(entries);
    void this.spool.append(entries, this.deliver).catch(() => undefined);
  }

  get saturated(): boolean {
    return this.target.saturated;
  }

  onDrain(listener: () => void): () => void {
    return this.target.onDrain(listener);
  }
}
