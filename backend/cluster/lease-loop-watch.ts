/**
 * What a scoring worker's lease timing depends on, measured and exported on its /metrics:
 * - lad_event_loop_delay_seconds: the worst event-loop delay of each second (perf_hooks.monitorEventLoopDelay,
 *   reset every second), as a histogram: how long the main thread was kept from running timers and I/O.
 * - lad_lease_renewal_gap_seconds: time between two consecutive renewals this worker wrote, the figure a lease's
 *   expiry must stay above (lease.ts) or a live worker loses its sources.
 * A second with a delay over `warnMs` is logged, so a stall in a test or in production shows up beside its cause.
 */
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

export class LeaseLoopWatch {
  private readonly delay: ELDHistogram;
  private readonly loopDelay: Histogram;
  private readonly renewalGap: Histogram;
  private timer: NodeJS.Timeout | null = null;
  /** Worst per-second loop delay seen since start, ms (for logs and tests). */
  worstDelayMs = 0;
  /** Longest renewal gap seen since start, ms. */
  worstGapMs = 0;

  constructor(
    registry: Registry,
    private readonly log: Logger,
    /** A loop delay over this is logged; so is a renewal gap over renewEveryMs + this. */
    private readonly warnMs: number,
    private readonly renewEveryMs: number
  ) {
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay = new Histogram({
      name: 'lad_event_loop_delay_seconds',
      help: 'Worst event-loop delay of each second on a scoring worker (perf_hooks.monitorEventLoopDelay): how long lease renewals and I/O waited for the main thread',
      buckets: BUCKETS,
      registers: [registry],
    });
    this.renewalGap = new Histogram({
      name: 'lad_lease_renewal_gap_seconds',
      help: 'Time between two consecutive lease renewals of a scoring worker (a gap near the lease expiry loses its sources)',
      buckets: BUCKETS,
      registers: [registry],
    });
  }

  start(): void {
    this.delay.enable();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.delay.disable();
  }

  private sample(): void {
    // the histogram's max is in ns, and includes the resolution's own wait
    const ms = this.delay.max / 1e6;
    this.delay.reset();
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.loopDelay.observe(ms / 1000);
    this.worstDelayMs = Math.max(this.worstDelayMs, ms);
    if (ms > this.warnMs) this.log.warn({ delayMs: Math.round(ms) }, 'event loop delayed');
  }

  /** A renewal round finished `gapMs` after the one before (measured where the renewals run). */
  renewed(gapMs: number): void {
    this.renewalGap.observe(gapMs / 1000);
    this.worstGapMs = Math.max(this.worstGapMs, gapMs);
    if (gapMs > this.renewEveryMs + this.warnMs) this.log.warn({ gapMs }, 'lease renewal late');
  }
}
