/**
 * Turns the cumulative drop counts a source keeps (SyslogSource.droppedLines(): oversize, udp_backpressure,
 * shutdown, sink_error) into increments of the service's `lad_dropped_lines_total{source, reason}` counter.
 * The service owns the metric, the source owns the counts; Pipelines.refreshMetrics (before each /metrics
 * scrape) calls update() with the configured sources (sources without droppedLines() are skipped).
 */
import type { Counter } from 'prom-client';
import type { LogSource } from './source';

export interface CountsDroppedLines {
  droppedLines(): Readonly<Record<string, number>>;
}

function countsDrops(source: LogSource): source is LogSource & CountsDroppedLines {
  return typeof (source as Partial<CountsDroppedLines>).droppedLines === 'function';
}

export class DroppedLinesExporter {
  private readonly exported = new Map<string, number>();

  update(counter: Counter<'source' | 'reason'>, sources: Iterable<LogSource>): void {
    for (const source of sources) {
      if (!countsDrops(source)) continue;
      for (const [reason, total] of Object.entries(source.droppedLines())) {
        const key = `${source.name}\u0000${reason}`;
        const delta = total - (this.exported.get(key) ?? 0);
        if (delta > 0) counter.inc({ source: source.name, reason }, delta);
        this.exported.set(key, total);
      }
    }
  }
}
