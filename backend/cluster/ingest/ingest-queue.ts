/**
 * The ingest queue: where a push endpoint's accepted batch goes, behind one interface (the push routes'
 * DurableSink: a batch is taken whole, and the promise resolves only once it is durable). One file per
 * implementation: in-process.ts (embedded mode: the pipelines behind the disk spool) and jetstream.ts
 * (cluster mode: the LAD_LINES stream, "durable" meaning stored by JetStream).
 */
import type { DurableSink } from '../../sources/source';

export interface IngestQueue extends DurableSink {
  /** Stops taking batches; resolves once what was taken is durable (or refused). */
  close(): Promise<void>;
}
