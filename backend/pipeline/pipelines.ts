import { PushRequestError } from '../sources/push-http';
import type { LogEntry, LogSink, LogSource, SourceStatus } from '../sources/source';
import { Metrics } from '../metrics/metrics';
import { DroppedLinesExporter } from '../sources/syslog-drops';
import { SourcePipeline, type PipelineDeps } from './source-pipeline';
import { charsOf } from './line-queue';

const PUSH_SOURCE_STATUS = { state: 'connected', lastError: null, lagMs: null } as const;

/**
 * All source pipelines, and the one LogSink every source and push router writes to: entries are routed to the
 * pipeline of their `source` (created on first sight, up to config.maxSources). A batch is accepted whole or
 * not at all, also when it spans several sources.
 */
export class Pipelines implements LogSink {
  private readonly pipelines = new Map<string, SourcePipeline>();
  /** Per source, the miner eviction count already added to lad_templates_evicted_total. */
  private readonly evictedSeen = new Map<string, number>();
  private readonly sources = new Map<string, LogSource>();
  private readonly drainListeners = new Set<() => void>();
  /** Lines sources lost on their side (syslog UDP while full, oversize frames, ...) → lad_dropped_lines_total. */
  private readonly droppedLines = new DroppedLinesExporter();

  constructor(private readonly deps: PipelineDeps) {}

  /** A configured source (file tail, demo, syslog, ...): its pipeline exists from the start. */
  addSource(source: LogSource): SourcePipeline {
    this.sources.set(source.name, source);
    return this.pipeline(source.name, source.kind);
  }

  get(name: string): SourcePipeline | undefined {
    return this.pipelines.get(name);
  }

  source(name: string): LogSource | undefined {
    return this.sources.get(name);
  }

  /** What a pipeline's source reports; a push source (no LogSource of its own) is always connected. */
  sourceStatus(name: string): Pick<SourceStatus, 'state' | 'lastError' | 'lagMs'> {
    return this.sources.get(name)?.status() ?? PUSH_SOURCE_STATUS;
  }

  all(): SourcePipeline[] {
    return [...this.pipelines.values()];
  }

  push(entries: LogEntry[]): void {
    if (entries.length === 0) {
      return;
    }
    // every source's capacity is checked before any is enqueued: all or nothing
    this.reserve(entries);
    this.accept(entries);
  }

  /** push's checks alone (capacity of every source, source count): the spool takes a batch only if they pass. */
  reserve(entries: LogEntry[]): void {
    for (const { p, group } of this.targets(entries)) {
      p.checkCapacity(group.length, charsOf(group));
    }
  }

  /** push without the capacity check: lines already spooled (a reserved batch, or a replay at start-up). */
  accept(entries: LogEntry[]): void {
    for (const { p, group } of this.targets(entries)) {
      p.enqueue(group);
    }
  }

  /** The batch split by source (no copy in the usual one-source case), each with its pipeline. */
  private targets(entries: LogEntry[]): { p: SourcePipeline; group: LogEntry[] }[] {
    if (entries.length === 0) {
      return [];
    }
    const first = entries[0].source;
    let single = true;
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].source !== first) {
        single = false;
        break;
      }
    }
    if (single) {
      return [{ p: this.pipelineFor(first), group: entries }];
    }
    const groups = new Map<string, LogEntry[]>();
    for (const e of entries) {
      const group = groups.get(e.source);
      if (group) {
        group.push(e);
      } else {
        groups.set(e.source, [e]);
      }
    }
    return [...groups].map(([name, group]) => ({ p: this.pipelineFor(name), group }));
  }

  get saturated(): boolean {
    for (const p of this.pipelines.values()) {
      if (p.saturated) {
        return true;
      }
    }
    return false;
  }

  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.stop().catch(() => undefined)));
    await Promise.all(this.all().map((p) => p.stop()));
  }

  /**
   * Brings the gauges (queue depth, model age, source state and lag, lines/s) and the sources' own drop counts
   * up to date; called before each scrape.
   */
  refreshMetrics(): void {
    const m = this.deps.metrics;
    for (const p of this.pipelines.values()) {
      const stats = p.stats();
      const labels = { source: p.name };
      m.queueDepth.set(labels, stats.queueDepth);
      const mined = p.templateStats();
      if (mined !== undefined) {
        m.templates.set(labels, mined.templates);
        // The miner counts its evictions over its life (carried across retraining): add what is new since.
        const before = this.evictedSeen.get(p.name) ?? 0;
        if (mined.evicted > before) m.templatesEvicted.inc(labels, mined.evicted - before);
        this.evictedSeen.set(p.name, mined.evicted);
      }
      m.linesPerSecond.set(labels, stats.linesPerSecond);
      if (stats.modelAgeSeconds !== null) {
        m.modelAge.set(labels, stats.modelAgeSeconds);
      }
      Metrics.oneHot(m.modelState, labels, ['collecting', 'training', 'ready'], stats.modelState);
      const status = this.sourceStatus(p.name);
      Metrics.oneHot(m.sourceState, labels, ['starting', 'connected', 'paused', 'error', 'stopped'], status.state);
      m.sourceUp.set({ source: p.name, kind: p.kind }, status.state === 'connected' ? 1 : 0);
      // Push sources have no lag of their own; a source that does not know it yet has no sample either.
      if (status.lagMs === null) {
        m.sourceLag.remove(labels);
      } else {
        m.sourceLag.set(labels, status.lagMs / 1000);
      }
    }
    this.droppedLines.update(m.dropped, this.sources.values());
  }

  private pipelineFor(name: string): SourcePipeline {
    const existing = this.pipelines.get(name);
    if (existing) {
      return existing;
    }
    if (this.pipelines.size >= this.deps.config.maxSources) {
      this.deps.metrics.dropped.inc({ source: '(new)', reason: 'too_many_sources' });
      throw new PushRequestError(
        400,
        `source ${JSON.stringify(name)} refused: already ${this.pipelines.size} sources (maxSources); reuse a source name`,
        'source'
      );
    }
    return this.pipeline(name, 'push');
  }

  private pipeline(name: string, kind: string): SourcePipeline {
    let p = this.pipelines.get(name);
    if (!p) {
      p = new SourcePipeline(name, kind, this.deps);
      p.onDrain(() => {
        // A copy: a listener that pushes again may unsubscribe and subscribe anew while we iterate.
        for (const listener of [...this.drainListeners]) {
          listener();
        }
      });
      this.pipelines.set(name, p);
    }
    return p;
  }
}
