// The process-wide bound on line text held in memory, shared by every source. Each source's windows are bounded
// on their own (line-budgets.ts), but 100 sources each at their bounds hold far more than a heap: 60 sources fed
// 64 KB lines ran a 4 GB heap out of memory (docs/service.md, "Memory bounds").
import { getHeapStatistics } from 'node:v8';

/**
 * The share of the heap limit that line text may take by default. Rule, set before measuring: a character
 * takes 1 byte (2 beyond Latin-1), so text takes at most a quarter (or half) of the heap, and the rest is left
 * to what is not counted: request bodies being parsed, the spool's serialised records, the results store's
 * write buffers, models and their training.
 */
export const HEAP_SHARE = 0.25;

/** The default process-wide budget: HEAP_SHARE of the heap limit (node's, or --max-old-space-size). */
export function defaultMemoryChars(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.floor(heapLimitBytes * HEAP_SHARE);
}

/**
 * A window of retained lines (lines kept after scoring: the retraining window, the results store's recent
 * lines and its in-memory anomalies) that the budget may shrink.
 */
export interface RetainedWindow {
  /** What it holds, for the metrics: recent, retrain, anomalies. */
  readonly kind: RetainedKind;
  /** Characters of line text it holds now. */
  readonly heldChars: number;
  /** Drops its oldest lines until it holds at most `chars` (its newest line always stays); returns the lines dropped. */
  shrinkTo(chars: number): number;
}

export type RetainedKind = 'recent' | 'retrain' | 'anomalies';

/** What the metrics read at each scrape. */
export interface MemoryReading {
  waitingMax: number;
  retainedMax: number;
  queued: number;
  window: number;
  retained: number;
}

/** Told about refusals and evictions (the Prometheus counters). */
export interface MemoryBudgetEvents {
  refused(lines: number): void;
  evicted(kind: RetainedKind, lines: number): void;
}

/**
 * After the retained parts passed their bound, they are shrunk to this share of it: the next shrink waits for
 * a tenth of the bound of new lines, so the sort over every window is paid rarely, not once per line.
 */
const SHRINK_TO = 0.9;

/**
 * One character budget for every source, in two halves:
 *  - lines waiting (push queues and first training windows) are admitted against `waitingMax`: a batch that
 *    would pass it is refused (429 + Retry-After), never dropped, as a full queue is (a batch alone over it is
 *    taken, so no batch waits forever). A refusal never lasts: queued lines are scored or taken into a training
 *    window, and while the half is full every training window counts as full and trains on what it holds
 *    (source-pipeline.ts), so its lines are scored and leave;
 *  - lines retained after scoring are evicted, never refused: past `retainedMax`, every window above a common
 *    level (the largest that brings the total to 90% of the bound) drops its oldest lines down to it, so the
 *    largest windows shrink first and a service full of history still accepts new lines.
 */
export class MemoryBudget {
  readonly waitingMax: number;
  readonly retainedMax: number;
  /** Characters of lines in push queues (accepted, not yet scored nor taken into a training window). */
  private queued = 0;
  /** Characters of lines in first training windows (collected, not yet scored). */
  private window = 0;
  private retained = 0;
  private readonly windows = new Set<RetainedWindow>();
  private shrinking = false;

  constructor(
    readonly maxChars: number,
    private readonly events?: MemoryBudgetEvents
  ) {
    if (!(maxChars >= 2)) throw new RangeError(`memory budget must be at least 2 characters, got ${maxChars}`);
    this.waitingMax = Math.floor(maxChars / 2);
    this.retainedMax = maxChars - this.waitingMax;
  }

  reading(): MemoryReading {
    return { waitingMax: this.waitingMax, retainedMax: this.retainedMax, queued: this.queued, window: this.window, retained: this.retained };
  }

  /** Whether a batch of `chars` more waiting characters is refused now (see the class comment). */
  refuses(chars: number): boolean {
    const waiting = this.queued + this.window;
    return waiting > 0 && waiting + chars > this.waitingMax;
  }

  /** No more waiting lines fit: training windows train on what they hold, sources that read at their own pace wait. */
  get waitingFull(): boolean {
    return this.queued + this.window >= this.waitingMax;
  }

  /** At most half the waiting bound used: when a refused sender is told to try again. */
  get waitingBelowHalf(): boolean {
    return this.queued + this.window <= this.waitingMax / 2;
  }

  /** `lines` refused by this budget (counted; the refusal itself is the caller's). */
  refused(lines: number): void {
    this.events?.refused(lines);
  }

  /** Queued and training-window characters changed by these amounts. */
  addWaiting(queuedDelta: number, windowDelta: number): void {
    this.queued += queuedDelta;
    this.window += windowDelta;
  }

  /** A window of retained lines, shrunk with the others when they pass retainedMax; returns its removal. */
  register(window: RetainedWindow): () => void {
    this.windows.add(window);
    this.retained += window.heldChars;
    return () => {
      if (this.windows.delete(window)) this.retained -= window.heldChars;
    };
  }

  /** A registered window's characters changed by `delta` (after the change); may shrink windows, that one too. */
  addRetained(delta: number): void {
    this.retained += delta;
    if (delta > 0 && this.retained > this.retainedMax && !this.shrinking) this.shrink();
  }

  private shrink(): void {
    this.shrinking = true;
    try {
      const windows = [...this.windows].sort((a, b) => a.heldChars - b.heldChars);
      const level = waterLevel(
        windows.map((w) => w.heldChars),
        Math.floor(this.retainedMax * SHRINK_TO)
      );
      for (let i = windows.length - 1; i >= 0 && windows[i].heldChars > level; i--) {
        const dropped = windows[i].shrinkTo(level);
        if (dropped > 0) this.events?.evicted(windows[i].kind, dropped);
      }
    } finally {
      this.shrinking = false;
    }
  }
}

/**
 * The largest level L with Σ min(heldᵢ, L) ≤ target (`held` ascending): capping every window at L brings the
 * total within the target while taking from the largest windows only. Infinity when the total already fits.
 */
export function waterLevel(held: readonly number[], target: number): number {
  let rest = target;
  for (let i = 0; i < held.length; i++) {
    const left = held.length - i;
    if (held[i] * left > rest) return Math.floor(rest / left);
    rest -= held[i];
  }
  return Infinity;
}

/**
 * The line as a string of its own. A pushed line is a slice of its request body (line-push.ts), and V8 keeps a
 * slice's whole parent alive: a window that keeps a few lines of each body would hold whole bodies of up to
 * 10 MiB while it counts their lines only (100 anomalies of one 64 KB line per body held 944 MB while they
 * counted 6.4 M characters). Concatenating flattens into a new string (the slice then refers to that copy only).
 */
export function detached(line: string): string {
  return (' ' + line).slice(1);
}

/** The configured budget (memory.maxChars, LAD_MEMORY_MAX_CHARS), else the default from the heap limit. */
export function memoryChars(memory: { maxChars?: number }): number {
  return memory.maxChars ?? defaultMemoryChars();
}
