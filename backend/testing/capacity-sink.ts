/**
 * A LogSink with a bounded capacity that the test raises: the LogSink contract without the pipeline. A batch
 * that does not fit is refused whole with BackpressureError (counted in `refused`); raise() makes room and
 * calls the onDrain listeners, as the pipeline does when its queue drains.
 */
import { BackpressureError, type LogEntry, type LogSink } from '../sources/source';

export class CapacitySink implements LogSink {
  readonly entries: LogEntry[] = [];
  refused = 0;
  private readonly listeners = new Set<() => void>();

  /** `retryAfterSeconds`: long values make sure only onDrain can wake the source in time. */
  constructor(
    public capacity = Infinity,
    private readonly retryAfterSeconds = 30
  ) {}

  get saturated(): boolean {
    return this.entries.length >= this.capacity;
  }

  push(batch: LogEntry[]): void {
    if (this.entries.length + batch.length > this.capacity) {
      this.refused += 1;
      throw new BackpressureError(this.retryAfterSeconds);
    }
    this.entries.push(...batch);
  }

  onDrain(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  raise(by: number): void {
    this.capacity += by;
    for (const listener of [...this.listeners]) listener();
  }
}
