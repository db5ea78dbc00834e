/**
 * Joins continuation lines (stack-trace frames and the like) to the log entry they belong to, so a Java or
 * Node exception is scored as one entry instead of thirty "anomalous" fragments.
 */

/**
 * Continuation lines: indented lines (stack frames, wrapped messages), `at …` frames, `Caused by:`,
 * `... N more` / `... N common frames omitted`, and Python's `Traceback (most recent call last):`.
 */
const CONTINUATION =
  /^(?:[ \t]+\S|at\s|Caused by:|\.\.\. \d+ (?:more|common frames omitted)|Traceback \(most recent call last\):)/;

export function isContinuation(line: string): boolean {
  return CONTINUATION.test(line);
}

export interface JoinedEntry {
  text: string;
  firstSeenMs: number;
  /** Caller's position just after the entry's last line (the file tail's byte offset, for its checkpoint). */
  endOffset: number;
}

export interface MultilineLimits {
  /** An entry is cut after this many lines (a runaway trace must not grow without bound). */
  maxLines: number;
  /** …or this many characters. */
  maxChars: number;
  /**
   * When set, a line matching it starts a new entry and every other line continues the current one
   * (Promtail's `firstline`): for formats whose continuation lines are not indented.
   */
  firstLine?: RegExp;
}

export class MultilineJoiner {
  private parts: string[] = [];
  private chars = 0;
  private firstSeenMs = 0;
  private lastAddedMs = 0;
  private endOffset = 0;

  constructor(private readonly limits: MultilineLimits) {}

  get hasPending(): boolean {
    return this.parts.length > 0;
  }

  /** When the newest line of the pending entry arrived (for the flush timeout). */
  get lastActivityMs(): number {
    return this.lastAddedMs;
  }

  private continues(line: string): boolean {
    const firstLine = this.limits.firstLine;
    return firstLine ? !firstLine.test(line) : isContinuation(line);
  }

  /** Adds a line; returns the entry it completed, if any. */
  add(line: string, nowMs: number, endOffset = 0): JoinedEntry | null {
    let done: JoinedEntry | null = null;
    const joins = this.parts.length > 0 && this.continues(line);
    if (joins && this.parts.length < this.limits.maxLines && this.chars + 1 + line.length <= this.limits.maxChars) {
      this.parts.push(line);
      this.chars += 1 + line.length;
      this.lastAddedMs = nowMs;
      this.endOffset = endOffset;
      return null;
    }
    if (this.parts.length > 0) {
      done = this.flush();
    }
    this.parts.push(line);
    this.chars = line.length;
    this.firstSeenMs = nowMs;
    this.lastAddedMs = nowMs;
    this.endOffset = endOffset;
    return done;
  }

  flush(): JoinedEntry | null {
    if (this.parts.length === 0) {
      return null;
    }
    const entry = {
      text: this.parts.length === 1 ? this.parts[0] : this.parts.join('\n'),
      firstSeenMs: this.firstSeenMs,
      endOffset: this.endOffset,
    };
    this.parts = [];
    this.chars = 0;
    return entry;
  }
}
