/**
 * The contract between log sources (push endpoints, file tail, syslog, pulls, demo) and the
 * pipeline that scores their lines. See docs/architecture.md "Sources".
 */

export interface LogEntry {
  source: string;
  timestampMs: number;
  line: string;
  labels: Record<string, string>;
  /** Its number in the write-ahead spool (backend/spool), per source; absent for lines not spooled. */
  spoolSeq?: number;
}

export interface LogSink {
  /**
   * Accepts the whole batch or none of it. Throws BackpressureError (retryAfterSeconds) when the
   * pipeline's bounded queue cannot take the batch: push endpoints answer 429 + Retry-After,
   * pull sources wait, tailing pauses. Accepted lines are never dropped silently.
   */
  push(entries: LogEntry[]): void;
  readonly saturated: boolean;
  /** Returns an unsubscribe function. */
  onDrain(listener: () => void): () => void;
}

/** A sink that can say when a batch is on disk (the spool): push routes then answer 2xx only after that. */
export interface DurableSink extends LogSink {
  /** Resolves once the batch is durable and accepted; rejects (backpressure, 503 on a failed write) otherwise. */
  pushDurably(entries: LogEntry[]): Promise<void>;
}

export interface SourceStatus {
  state: 'starting' | 'connected' | 'paused' | 'error' | 'stopped';
  lastError: string | null;
  linesTotal: number;
  lagMs: number | null;
  linesPerSecond: number;
}

export interface LogSource {
  readonly name: string;
  readonly kind: string;
  start(sink: LogSink): Promise<void>;
  stop(): Promise<void>;
  status(): SourceStatus;
}

/** Thrown by LogSink.push when the pipeline cannot take the batch now; nothing of the batch was accepted. */
export class BackpressureError extends Error {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number, message = `pipeline saturated, retry after ${retryAfterSeconds}s`) {
    super(message);
    this.name = 'BackpressureError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isBackpressureError(err: unknown): err is BackpressureError {
  return err instanceof BackpressureError;
}
