/**
 * The fact-store: user feedback on lines. One interface, one file per backend:
 *  - fact-store-lowdb.ts: a lowdb JSON file in the data directory (embedded mode, the default);
 *  - fact-store-postgres.ts: PostgreSQL, shared by every replica of a cluster (kept current by LISTEN/NOTIFY).
 * Reads are synchronous (the scoring hot path asks isSuppressed per line): both keep an in-memory index.
 */
import { LowdbFactStore } from './fact-store-lowdb';

export { ANY_SOURCE } from './fact-store-index';
export { defaultFactStoreChars, FACT_STORE_LIMITS, FactStoreFullError } from './fact-store-bound';

export type FeedbackKind = 'false_positive' | 'confirmed';

/** One piece of user feedback on a line (the contract in docs/architecture.md, plus the anomaly it came from). */
export interface FeedbackRecord {
  id: string;
  time: string;
  source: string;
  message: string;
  template: string;
  score: number | null;
  kind: FeedbackKind;
  comment: string | null;
  user: string | null;
  anomalyId?: string;
  /**
   * Which tokenizer, miner and miner settings made `template` (templateVersionOf). Absent on records written
   * before the miner; those are stamped at start-up (their masked templates still match, see TemplateSet).
   */
  templateVersion?: string;
  /** The template as first recorded, when a migration changed it. */
  previousTemplate?: string;
}

export type NewFeedback = Omit<FeedbackRecord, 'id' | 'time' | 'templateVersion' | 'previousTemplate'> & { time?: string };

export interface FeedbackFilter {
  source?: string;
  kind?: FeedbackKind;
  fromMs?: number;
  toMs?: number;
}

export interface FeedbackCounts {
  falsePositives: number;
  confirmed: number;
  precision: number | null;
}

export type FeedbackChangeListener = (record: FeedbackRecord, change: 'added' | 'deleted') => void;

export interface FactStore {
  /** Stores a record; resolves once it is durable. */
  add(input: NewFeedback): Promise<FeedbackRecord>;
  /** Resolves false when no record has this id. */
  delete(id: string): Promise<boolean>;
  list(filter?: FeedbackFilter): FeedbackRecord[];
  get(id: string): FeedbackRecord | undefined;
  /** Hot path: is a line with this template from this source a known false positive? (overlap, see TemplateSet) */
  isSuppressed(source: string, template: string): boolean;
  /** Messages marked false positive for a source (trained on as normal at the next retraining). */
  falsePositiveMessages(source: string): string[];
  counts(): FeedbackCounts;
  /** Told of every change, including (PostgreSQL) changes made by other replicas. Returns the unsubscribe. */
  onChange(listener: FeedbackChangeListener): () => void;
  /** Waits for queued writes (used at shutdown). */
  flush(): Promise<void>;
}

export interface FactStoreOptions {
  /**
   * The template version new records are stamped with and older ones are migrated to at open
   * (templateVersionOf the miner settings in use; default: the default settings').
   */
  templateVersion?: string;
  /** Characters of JSON the stored records may take together (FACT_STORE_LIMITS); default defaultFactStoreChars(). */
  maxChars?: number;
}

/** The embedded default (lowdb): `FactStore.open(dataDir)` as before the interface existed. */
export const FactStore = {
  open: (dataDir: string, options: FactStoreOptions = {}): Promise<LowdbFactStore> => LowdbFactStore.open(dataDir, options),
};
