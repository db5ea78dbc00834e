/**
 * The fact-store in PostgreSQL (cluster mode): table lad_feedback (backend/cluster/postgres/migrations.ts).
 * Every replica keeps all records and the suppression index in memory, as the lowdb store does, so the
 * scoring hot path never waits on the network. The index is loaded at open and kept current by LISTEN/NOTIFY:
 * a trigger notifies channel `lad_feedback` with {change, id} on every insert and delete, so a feedback
 * written on any replica reaches every process within a second and its onChange listeners (the owning
 * worker's pipeline) apply it there. When the listening connection drops (PostgreSQL restarted), it
 * reconnects and reloads everything, announcing what changed meanwhile: notifications are not queued for
 * a connection that was gone.
 * Writes need PostgreSQL (PostgresUnavailableError, a 503, when it is down); reads are served from memory.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { DEFAULT_TEMPLATE_VERSION } from '../engine/drain/config';
import type { PostgresPool } from '../cluster/postgres/pool';
import type { FactStore, FactStoreOptions, FeedbackChangeListener, FeedbackCounts, FeedbackFilter, FeedbackRecord, NewFeedback } from './fact-store';
import { migratedTemplate } from './template-migration';
import { defaultFactStoreChars, FactStoreFullError, recordChars } from './fact-store-bound';
import { countRecords, falsePositiveMessagesOf, matchesFilter, SuppressionIndex } from './fact-store-index';

export const FEEDBACK_CHANNEL = 'lad_feedback';

/** A lad_feedback row: the record's fields, the optional ones as nullable snake_case columns. */
type FeedbackRow = Pick<FeedbackRecord, 'id' | 'time' | 'source' | 'message' | 'template' | 'score' | 'kind' | 'comment'> & {
  user_name: string | null;
  anomaly_id: string | null;
  template_version: string | null;
  previous_template: string | null;
};

const COLUMNS = 'id, time, source, message, template, score, kind, comment, user_name, anomaly_id, template_version, previous_template';

function fromRow(r: FeedbackRow): FeedbackRecord {
  const record: FeedbackRecord = {
    id: r.id,
    time: r.time,
    source: r.source,
    message: r.message,
    template: r.template,
    score: r.score,
    kind: r.kind,
    comment: r.comment,
    user: r.user_name,
  };
  if (r.anomaly_id !== null) record.anomalyId = r.anomaly_id;
  if (r.template_version !== null) record.templateVersion = r.template_version;
  if (r.previous_template !== null) record.previousTemplate = r.previous_template;
  return record;
}

export interface PostgresFactStoreOptions extends FactStoreOptions {
  /** Told when the listening connection fails or a notification cannot be applied (the store keeps going). */
  onError?: (err: Error, what: string) => void;
  /** Wait before reconnecting the listener (default 500 ms). */
  reconnectMs?: number;
}

export class PostgresFactStore implements FactStore {
  private readonly records = new Map<string, FeedbackRecord>();
  private readonly suppressed = new SuppressionIndex();
  private readonly listeners = new Set<FeedbackChangeListener>();
  /** Notifications and reloads are applied one at a time, in the order they came. */
  private applying: Promise<void> = Promise.resolve();
  private writes = new Set<Promise<unknown>>();
  private listener: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Records stamped with the current template version at open. */
  migrated = 0;
  /** Of those, records whose template no longer covered their message and was re-derived from it. */
  rederived = 0;
  /** Why the listener is disconnected (null while listening): changes from other replicas are late meanwhile. */
  lastError: string | null = null;
  /**
   * Characters of the records held in memory (every replica holds them all): an add past maxChars is refused, as
   * by the lowdb store (fact-store-bound.ts). Adds from other replicas, or running at once here, may pass it by
   * what they add: it bounds memory within a few records, and nothing stored is ever dropped for it.
   */
  private chars = 0;
  readonly maxChars: number;

  private constructor(
    private readonly pool: PostgresPool,
    private readonly options: PostgresFactStoreOptions
  ) {
    this.templateVersion = options.templateVersion ?? DEFAULT_TEMPLATE_VERSION;
    this.maxChars = options.maxChars ?? defaultFactStoreChars();
  }

  /** What new records are stamped with (templateVersionOf the miner settings in use). */
  readonly templateVersion: string;

  static async open(pool: PostgresPool, options: PostgresFactStoreOptions = {}): Promise<PostgresFactStore> {
    const store = new PostgresFactStore(pool, options);
    const stamped = await pool.query<{ id: string; message: string; template: string }>(
      'UPDATE lad_feedback SET template_version = $1 WHERE template_version IS DISTINCT FROM $1 RETURNING id, message, template',
      [store.templateVersion],
    );
    store.migrated = stamped.rowCount ?? 0;
    // the replica that stamped them re-derives what no longer covers its message (template-migration.ts)
    for (const row of stamped.rows) {
      const fresh = migratedTemplate(row);
      if (fresh === null) continue;
      await pool.query('UPDATE lad_feedback SET previous_template = template, template = $2 WHERE id = $1', [row.id, fresh]);
      store.rederived++;
    }
    // LISTEN before loading: a change committed between the two is then seen (twice at worst, applied once).
    await store.listen();
    await store.reload();
    return store;
  }

  add(input: NewFeedback): Promise<FeedbackRecord> {
    return this.track(async () => {
      const record: FeedbackRecord = { id: randomUUID(), time: input.time ?? new Date().toISOString(), ...input, templateVersion: this.templateVersion };
      if (record.anomalyId === undefined) delete record.anomalyId;
      const size = recordChars(record);
      if (this.chars + size > this.maxChars) throw new FactStoreFullError(this.chars, this.maxChars, size);
      await this.pool.query(`INSERT INTO lad_feedback (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, [
        record.id,
        record.time,
        record.source,
        record.message,
        record.template,
        record.score,
        record.kind,
        record.comment,
        record.user,
        record.anomalyId ?? null,
        record.templateVersion ?? null,
        record.previousTemplate ?? null,
      ]);
      this.apply(record, 'added');
      return record;
    });
  }

  delete(id: string): Promise<boolean> {
    return this.track(async () => {
      const { rows } = await this.pool.query<FeedbackRow>(`DELETE FROM lad_feedback WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
      if (rows.length === 0) return false;
      this.apply(this.records.get(id) ?? fromRow(rows[0]), 'deleted');
      return true;
    });
  }

  list(filter: FeedbackFilter = {}): FeedbackRecord[] {
    return [...this.records.values()].filter((r) => matchesFilter(r, filter));
  }

  get(id: string): FeedbackRecord | undefined {
    return this.records.get(id);
  }

  isSuppressed(source: string, template: string): boolean {
    return this.suppressed.isSuppressed(source, template);
  }

  falsePositiveMessages(source: string): string[] {
    return falsePositiveMessagesOf(this.records.values(), source);
  }

  counts(): FeedbackCounts {
    return countRecords(this.records.values());
  }

  onChange(listener: FeedbackChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
    await this.applying;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.flush();
    const client = this.listener;
    this.listener = null;
    await client?.end().catch(() => undefined);
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    const run = work();
    this.writes.add(run);
    const done = () => this.writes.delete(run);
    run.then(done, done);
    return run;
  }

  /** Applies one change to memory and tells the listeners, once: a replica's own change also comes back as a notification. */
  private apply(record: FeedbackRecord, change: 'added' | 'deleted'): void {
    if (change === 'added') {
      if (this.records.has(record.id)) return;
      this.records.set(record.id, record);
      this.chars += recordChars(record);
      this.suppressed.update(record, +1);
    } else {
      const held = this.records.get(record.id);
      if (held === undefined) return;
      this.records.delete(record.id);
      this.chars -= recordChars(held);
      this.suppressed.update(record, -1);
    }
    for (const listener of this.listeners) {
      try {
        listener(record, change);
      } catch (err) {
        this.options.onError?.(err as Error, 'feedback change listener');
      }
    }
  }

  private serially(task: () => Promise<void>, what: string): void {
    this.applying = this.applying.then(task).catch((err: Error) => {
      this.options.onError?.(err, what);
    });
  }

  /** Reads every record and applies the difference to memory (at open and after the listener reconnects). */
  private async reload(): Promise<void> {
    const { rows } = await this.pool.query<FeedbackRow>(`SELECT ${COLUMNS} FROM lad_feedback ORDER BY created_at, id`);
    const current = new Map(rows.map((r) => [r.id, fromRow(r)]));
    for (const [id, record] of this.records) {
      if (!current.has(id)) this.apply(record, 'deleted');
    }
    for (const record of current.values()) this.apply(record, 'added');
  }

  private async listen(): Promise<void> {
    const client = await this.pool.dedicatedClient();
    client.on('notification', (msg) => {
      if (msg.channel !== FEEDBACK_CHANNEL || !msg.payload) return;
      this.serially(() => this.onNotification(msg.payload!), 'applying a feedback notification');
    });
    const lost = (err?: Error) => {
      if (this.listener !== client) return;
      this.listener = null;
      this.lastError = `feedback notifications from PostgreSQL at ${this.pool.where} interrupted: ${err?.message ?? 'connection ended'}`;
      this.options.onError?.(this.pool.wrap(err ?? new Error('Connection terminated')), 'listening for feedback changes');
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.query(`LISTEN ${FEEDBACK_CHANNEL}`);
    this.listener = client;
    this.lastError = null;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.serially(async () => {
        if (this.closed) return;
        try {
          await this.listen();
          await this.reload();
        } catch (err) {
          const repeated = this.lastError?.endsWith((err as Error).message) ?? false;
          this.lastError = `feedback notifications from PostgreSQL at ${this.pool.where} interrupted: ${(err as Error).message}`;
          // listening but not reloaded would miss what changed while away: start over
          const half = this.listener;
          this.listener = null;
          await half?.end().catch(() => undefined);
          this.scheduleReconnect();
          // told once per outage, not every half second while PostgreSQL stays down
          if (!repeated) throw err;
        }
      }, 'reconnecting the feedback listener');
    }, this.options.reconnectMs ?? 500);
    this.reconnectTimer.unref();
  }

  private async onNotification(payload: string): Promise<void> {
    let note: { change?: unknown; id?: unknown };
    try {
      note = JSON.parse(payload) as typeof note;
    } catch {
      return;
    }
    if (typeof note.id !== 'string') return;
    if (note.change === 'deleted') {
      const record = this.records.get(note.id);
      if (record) this.apply(record, 'deleted');
      return;
    }
    if (note.change === 'added' && !this.records.has(note.id)) {
      const { rows } = await this.pool.query<FeedbackRow>(`SELECT ${COLUMNS} FROM lad_feedback WHERE id = $1`, [note.id]);
      // gone again already: its 'deleted' notification follows and finds nothing to do
      if (rows.length > 0) this.apply(fromRow(rows[0]), 'added');
    }
  }
}
