import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { z } from 'zod';
import { DEFAULT_TEMPLATE_VERSION } from '../engine/drain/config';
import { DurableJSONFile } from './durable-json-file';
import { migratedTemplate } from './template-migration';
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
 * The fact-store: user feedback in a lowdb JSON file. Every mutation is written (and fsynced) before the
 * promise resolves, and mutations run one at a time so concurrent requests never lose each other's writes.
 * It keeps an index of false-positive templates per source for the scoring hot path.
 */
export class LowdbFactStore implements FactStore {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly suppressed = new SuppressionIndex();
  /** Records stamped with the current template version at open (logged by the service). */
  migrated = 0;
  /** Of those, records whose template no longer covered their message and was re-derived from it. */
  rederived = 0;
  private readonly listeners = new Set<FeedbackChangeListener>();

  private constructor(
    private readonly db: Low<FactData>,
    /** What new records are stamped with (templateVersionOf the miner settings in use). */
    readonly templateVersion: string,
  ) {
    for (const record of db.data.feedback) {
      this.index(record, +1);
    }
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
    const store = new LowdbFactStore(db, options.templateVersion ?? DEFAULT_TEMPLATE_VERSION);
    await store.migrateTemplates();
    return store;
  }

  /** Runs mutations one after another: lowdb writes the whole file, so two overlapping writes could race. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  add(input: NewFeedback): Promise<FeedbackRecord> {
    return this.serial(async () => {
      const record: FeedbackRecord = {
        id: randomUUID(),
        time: input.time ?? new Date().toISOString(),
        ...input,
        templateVersion: this.templateVersion,
      };
      if (record.anomalyId === undefined) {
        delete record.anomalyId;
      }
      this.db.data.feedback.push(record);
      try {
        await this.db.write();
      } catch (err) {
        this.db.data.feedback.pop();
        throw err;
      }
      this.index(record, +1);
      this.emit(record, 'added');
      return record;
    });
  }

  /** Resolves false when no record has this id. */
  delete(id: string): Promise<boolean> {
    return this.serial(async () => {
      const at = this.db.data.feedback.findIndex((r) => r.id === id);
      if (at < 0) {
        return false;
      }
      const [record] = this.db.data.feedback.splice(at, 1);
      try {
        await this.db.write();
      } catch (err) {
        this.db.data.feedback.splice(at, 0, record);
        throw err;
      }
      this.index(record, -1);
      this.emit(record, 'deleted');
      return true;
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
  async flush(): Promise<void> {
    await this.queue;
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
      record.templateVersion = this.templateVersion;
      this.migrated++;
      const fresh = migratedTemplate(record);
      if (fresh === null) continue;
      this.index(record, -1);
      record.previousTemplate = record.template;
      record.template = fresh;
      this.index(record, +1);
      this.rederived++;
    }
    if (this.migrated > 0) await this.db.write();
  }
}
