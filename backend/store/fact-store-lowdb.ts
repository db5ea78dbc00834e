import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { z } from 'zod';
import { DEFAULT_TEMPLATE_VERSION } from '../engine/drain/config';
import { DurableJSONFile } from './durable-json-file';
import { GroupCommit } from './group-commit';
import { migratedTemplate } from './template-migration';
import { defaultFactStoreChars, FactStoreFullError, recordChars } from './fact-store-bound';
import type { FactStore, FactStoreOptions, FeedbackChangeListener, FeedbackCounts, FeedbackFilter, FeedbackRecord, NewFeedback } from './fact-store';
import { countRecords, falsePositiveMessagesOf, matchesFilter, SuppressionIndex } from './fact-store-index';

interface FactData {
  version: 1;
  feedback: FeedbackRecord[];
}

/**
 * What open() accepts (a hand-edited or foreign file must fail naming the entry, not deep inside the index).
 * Loose objects: fields this version does not know are kept, not refused.
 */
const recordSchema = z.looseObject({
  id: z.string().min(1),
  time: z.string(),
  source: z.string(),
  message: z.string(),
  template: z.string(),
  kind: z.enum(['false_positive', 'confirmed']),
  score: z.number().nullable().optional(),
  comment: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  anomalyId: z.string().optional(),
  templateVersion: z.string().optional(),
  previousTemplate: z.string().optional(),
});
const factDataSchema = z.looseObject({ feedback: z.array(recordSchema) });

/**
 * A new record must be one open() accepts again and one JSON can write: checked before it is applied,
 * so a bad one is refused alone instead of failing the whole batch's write (or the next start).
 * Returns the characters it takes in the file.
 */
function checkWritable(record: FeedbackRecord): number {
  const checked = recordSchema.safeParse(record);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new Error(`feedback record refused: ${issue.path.join('.') || 'record'}: ${issue.message}`);
  }
  return recordChars(record); // throws on a BigInt or a cycle in a field open() does not know
}

/**
 * The fact-store: user feedback in a lowdb JSON file. Every mutation is written (and fsynced) before the
 * promise resolves; mutations are applied in arrival order and those arriving during a write share the next
 * one (group commit), so concurrent requests never lose each other's writes and cost one write per batch.
 * It keeps an index of false-positive templates per source for the scoring hot path.
 */
export class LowdbFactStore implements FactStore {
  /** Mutations are applied in arrival order and made durable in batches: one file write per batch (group-commit.ts). */
  private readonly commits: GroupCommit;
  private readonly suppressed = new SuppressionIndex();
  /** Records stamped with the current template version at open (logged by the service). */
  migrated = 0;
  /** Of those, records whose template no longer covered their message and was re-derived from it. */
  rederived = 0;
  private readonly listeners = new Set<FeedbackChangeListener>();
  /** Characters the records take in the file: an add past maxChars is refused (FACT_STORE_LIMITS). */
  private chars = 0;

  private constructor(
    private readonly db: Low<FactData>,
    /** What new records are stamped with (templateVersionOf the miner settings in use). */
    readonly templateVersion: string,
    /** The bound on `chars`; a file already past it (written before the bound) opens, and takes deletes only. */
    readonly maxChars: number,
  ) {
    for (const record of db.data.feedback) {
      this.index(record, +1);
      this.chars += recordChars(record);
    }
    this.commits = new GroupCommit({
      checkpoint: () => {
        // add and delete only push and splice: the array's former contents (and their size) are the whole undo.
        const before = db.data.feedback.slice();
        const chars = this.chars;
        return () => {
          db.data.feedback = before;
          this.chars = chars;
        };
      },
      persist: () => db.write(),
    });
  }

  /** Durable file writes since open (one per batch of mutations). */
  get writes(): number {
    return this.commits.writes;
  }

  static async open(dataDir: string, options: FactStoreOptions = {}): Promise<LowdbFactStore> {
    await fs.mkdir(dataDir, { recursive: true });
    const db = new Low<FactData>(new DurableJSONFile<FactData>(path.join(dataDir, 'fact-store.json')), {
      version: 1,
      feedback: [],
    });
    const file = path.join(dataDir, 'fact-store.json');
    try {
      await db.read();
    } catch (err) {
      // Never start over silently on top of someone's feedback: say which file and why.
      throw new Error(`fact-store ${file} is unreadable (${(err as Error).message}); fix or move it away`);
    }
    const checked = factDataSchema.safeParse(db.data);
    if (!checked.success) {
      // Name the file and the entry: "Cannot read properties of null" helps nobody find a hand-edited record.
      const issue = checked.error.issues[0];
      const where = issue.path.length === 0 ? 'the file' : issue.path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('');
      throw new Error(`fact-store ${file} is invalid at ${where}: ${issue.message}; fix or move it away`);
    }
    const store = new LowdbFactStore(db, options.templateVersion ?? DEFAULT_TEMPLATE_VERSION, options.maxChars ?? defaultFactStoreChars());
    await store.migrateTemplates();
    return store;
  }

  add(input: NewFeedback): Promise<FeedbackRecord> {
    return this.commits.submit(() => {
      const record: FeedbackRecord = {
        id: randomUUID(),
        time: input.time ?? new Date().toISOString(),
        ...input,
        templateVersion: this.templateVersion,
      };
      if (record.anomalyId === undefined) {
        delete record.anomalyId;
      }
      const size = checkWritable(record);
      if (this.chars + size > this.maxChars) {
        throw new FactStoreFullError(this.chars, this.maxChars, size);
      }
      this.db.data.feedback.push(record);
      this.chars += size;
      return {
        result: record,
        changed: true,
        durable: () => {
          this.index(record, +1);
          this.emit(record, 'added');
        },
      };
    });
  }

  /** Resolves false when no record has this id. */
  delete(id: string): Promise<boolean> {
    return this.commits.submit(() => {
      const at = this.db.data.feedback.findIndex((r) => r.id === id);
      if (at < 0) {
        return { result: false, changed: false };
      }
      const [record] = this.db.data.feedback.splice(at, 1);
      this.chars -= recordChars(record);
      return {
        result: true,
        changed: true,
        durable: () => {
          this.index(record, -1);
          this.emit(record, 'deleted');
        },
      };
    });
  }

  list(filter: FeedbackFilter = {}): FeedbackRecord[] {
    return this.db.data.feedback.filter((r) => matchesFilter(r, filter));
  }

  get(id: string): FeedbackRecord | undefined {
    return this.db.data.feedback.find((r) => r.id === id);
  }

  /** Hot path: is a line with this template from this source a known false positive? */
  isSuppressed(source: string, template: string): boolean {
    return this.suppressed.isSuppressed(source, template);
  }

  /** Messages marked false positive for a source (trained on as normal at the next retraining). */
  falsePositiveMessages(source: string): string[] {
    return falsePositiveMessagesOf(this.db.data.feedback, source);
  }

  counts(): FeedbackCounts {
    return countRecords(this.db.data.feedback);
  }

  onChange(listener: FeedbackChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for queued writes (used at shutdown). */
  flush(): Promise<void> {
    return this.commits.flush();
  }

  private emit(record: FeedbackRecord, change: 'added' | 'deleted'): void {
    for (const listener of this.listeners) {
      listener(record, change);
    }
  }

  private index(record: FeedbackRecord, delta: 1 | -1): void {
    this.suppressed.update(record, delta);
  }

  /**
   * Stamps records made by an older tokenizer or miner (or other miner settings) with the current version.
   * A record whose template no longer covers its own message takes the message's template
   * (template-migration.ts). Counted in `migrated` and `rederived` so the change is visible, never silent.
   */
  private async migrateTemplates(): Promise<void> {
    for (const record of this.db.data.feedback) {
      if (record.templateVersion === this.templateVersion) continue;
      this.chars -= recordChars(record); // the stamp (and a new template) change its size
      record.templateVersion = this.templateVersion;
      this.migrated++;
      const fresh = migratedTemplate(record);
      if (fresh !== null) {
        this.index(record, -1);
        record.previousTemplate = record.template;
        record.template = fresh;
        this.index(record, +1);
        this.rederived++;
      }
      this.chars += recordChars(record);
    }
    if (this.migrated > 0) await this.db.write();
  }
}
