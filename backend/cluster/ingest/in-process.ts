/**
 * Embedded mode's ingest queue: the pipelines themselves, behind the write-ahead spool when it is on (a batch
 * is acknowledged once fsynced to the spool), as before cluster mode existed.
 */
import type { Pipelines } from '../../pipeline/pipelines';
import type { Spool } from '../../spool/spool';
import { SpooledSink } from '../../spool/spooled-sink';
import type { LogEntry } from '../../sources/source';
import type { IngestQueue } from './ingest-queue';

export function inProcessQueue(pipelines: Pipelines, spool: Spool | null): IngestQueue {
  const spooled = spool ? new SpooledSink(pipelines, spool) : null;
  return {
    pushDurably: (entries: LogEntry[]) => {
      if (spooled) return spooled.pushDurably(entries);
      try {
        pipelines.push(entries);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    },
    push: (entries) => (spooled ?? pipelines).push(entries),
    get saturated() {
      return pipelines.saturated;
    },
    onDrain: (listener) => pipelines.onDrain(listener),
    close: async () => undefined,
  };
}
