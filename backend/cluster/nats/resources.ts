/**
 * What cluster mode keeps in JetStream, created at start-up when missing (idempotent, so every process of a
 * cluster may run it): the lines stream (per-source subjects, time-based retention, a byte bound past which
 * publishes are refused: the ingest role's backpressure), the lease bucket (TTL = lease time) and the model
 * object store.
 */
import { jetstream, jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/nats-core';
import { LEASE_BUCKET, LINES_STREAM, LINES_SUBJECT_PREFIX, MODEL_BUCKET } from '../ports';

export interface StreamLimits {
  /** Lines older than this leave the stream (it is also the recent-lines store): default 24 h. */
  maxAgeMs: number;
  /** Bytes the stream may hold; beyond it publishes are refused (discard new) and pushes get 429. */
  maxBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxAgeMs: 24 * 3600_000, maxBytes: 8 * 1024 ** 3 };

export interface ClusterResources {
  js: JetStreamClient;
  jsm: JetStreamManager;
  leases: KV;
  models: ObjectStore;
}

/** Creates the stream when missing, and brings its limits to the configured ones when they differ. */
/** The smallest bound the stream is shrunk to when the server has less room than asked for. */
const MIN_STREAM_BYTES = 64 * 1024 * 1024;

export async function ensureLinesStream(jsm: JetStreamManager, limits: StreamLimits, warn?: (message: string) => void): Promise<void> {
  const wanted = {
    name: LINES_STREAM,
    subjects: [`${LINES_SUBJECT_PREFIX}>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_age: limits.maxAgeMs * 1_000_000,
    max_bytes: limits.maxBytes,
  };
  const info = await jsm.streams.info(LINES_STREAM).catch((err: Error) => {
    if (/not found/i.test(err.message)) return null;
    throw err;
  });
  if (info === null) {
    // nats-server keeps JetStream within a share of its disk (75 % by default): a bound beyond it is refused,
    // so the stream is made with the largest half of it that fits, and the warning says which
    for (;;) {
      try {
        await jsm.streams.add(wanted);
        break;
      } catch (err) {
        // roles starting together race to create it: another one made it meanwhile (perhaps already shrunk to a
        // different bound, which this one's add then refuses as "a different configuration"): use theirs
        if (/already in use/i.test((err as Error).message)) return;
        if (!/insufficient storage/i.test((err as Error).message) || wanted.max_bytes <= MIN_STREAM_BYTES) throw err;
        wanted.max_bytes = Math.max(MIN_STREAM_BYTES, Math.floor(wanted.max_bytes / 2));
      }
    }
    if (wanted.max_bytes !== limits.maxBytes) warn?.(`the JetStream server cannot hold ${limits.maxBytes} bytes for ${LINES_STREAM}: made it ${wanted.max_bytes} bytes (pushes get 429 once it is full)`);
  } else if (info.config.max_age !== wanted.max_age) {
    // (the byte bound is kept: it may have been shrunk to what the server holds)
    await jsm.streams.update(LINES_STREAM, { ...info.config, max_age: wanted.max_age });
  }
}

/** Stream, lease bucket (keys expire leaseSeconds after their last renewal) and model store. */
export async function ensureClusterResources(
  nc: NatsConnection,
  leaseSeconds: number,
  limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  warn?: (message: string) => void
): Promise<ClusterResources> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await ensureLinesStream(jsm, limits, warn);
  const leases = await new Kvm(js).create(LEASE_BUCKET, { ttl: leaseSeconds * 1000, history: 1, storage: StorageType.File });
  const models = await new Objm(js).create(MODEL_BUCKET, { storage: StorageType.File });
  return { js, jsm, leases, models };
}
