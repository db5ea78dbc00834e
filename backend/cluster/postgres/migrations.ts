/**
 * Versioned schema of cluster mode's PostgreSQL tables. Each migration is a numbered step; `lad_migrations`
 * records which ran. At start-up every role calls migrate(): the missing steps run in one transaction under an
 * advisory lock, so replicas starting together apply each step once and a failed step leaves nothing behind.
 * Append new steps at the end; never edit one that shipped.
 */
import type { PostgresPool } from './pool';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'anomalies, interval counts, per-source progress',
    sql: `
      -- One row per anomalous line, keyed by the JetStream stream sequence: a redelivered line is written once.
      CREATE TABLE lad_anomalies (
        source     text             NOT NULL,
        seq        bigint           NOT NULL,
        time_ms    bigint           NOT NULL,
        line       text             NOT NULL,
        labels     jsonb            NOT NULL DEFAULT '{}',
        score      double precision NOT NULL,
        threshold  double precision NOT NULL,
        suppressed boolean          NOT NULL,
        template   text             NOT NULL,
        reason     text             NOT NULL,
        level      text,
        PRIMARY KEY (source, seq)
      );
      CREATE INDEX lad_anomalies_time ON lad_anomalies (time_ms DESC, seq DESC);
      CREATE INDEX lad_anomalies_source_time ON lad_anomalies (source, time_ms DESC);
      CREATE INDEX lad_anomalies_seq ON lad_anomalies (seq);
      -- Lines, anomalies and suppressed anomalies per source and interval (bucket_ms = start of the interval).
      CREATE TABLE lad_counts (
        source     text   NOT NULL,
        bucket_ms  bigint NOT NULL,
        lines      bigint NOT NULL DEFAULT 0,
        anomalies  bigint NOT NULL DEFAULT 0,
        suppressed bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (source, bucket_ms)
      );
      -- The highest stream sequence counted per source: lines at or below it are not counted again.
      CREATE TABLE lad_progress (
        source     text   PRIMARY KEY,
        last_seq   bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: 'feedback (the fact-store) with change notifications',
    sql: `
      CREATE TABLE lad_feedback (
        id                text PRIMARY KEY,
        time              text NOT NULL,
        source            text NOT NULL,
        message           text NOT NULL,
        template          text NOT NULL,
        score             double precision,
        kind              text NOT NULL CHECK (kind IN ('false_positive', 'confirmed')),
        comment           text,
        user_name         text,
        anomaly_id        text,
        template_version  text,
        previous_template text,
        created_at        timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX lad_feedback_source ON lad_feedback (source);
      -- Every replica keeps the fact-store in memory; this tells them all of a change within a second.
      -- The payload is small (change + id): a record may exceed NOTIFY's 8000-byte limit, so listeners read it.
      CREATE FUNCTION lad_feedback_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('lad_feedback', json_build_object('change', 'deleted', 'id', OLD.id, 'source', OLD.source)::text);
          RETURN OLD;
        END IF;
        PERFORM pg_notify('lad_feedback', json_build_object('change', 'added', 'id', NEW.id, 'source', NEW.source)::text);
        RETURN NEW;
      END;
      $$;
      CREATE TRIGGER lad_feedback_changed AFTER INSERT OR DELETE ON lad_feedback
        FOR EACH ROW EXECUTE FUNCTION lad_feedback_notify();
    `,
  },
  {
    version: 3,
    name: 'rate model state (template interval counts, surge and drop events) and review queues, for query replicas',
    sql: `
      -- Lines of each template per rate interval, and what the rate model expected there (template_rates).
      -- Counted with the lines of lad_counts, under the same per-source high-water mark: a replay adds nothing.
      CREATE TABLE lad_template_counts (
        source      text             NOT NULL,
        template_id integer          NOT NULL,
        start_ms    bigint           NOT NULL,
        template    text             NOT NULL,
        observed    bigint           NOT NULL,
        expected    double precision NOT NULL,
        PRIMARY KEY (source, template_id, start_ms)
      );
      CREATE INDEX lad_template_counts_start ON lad_template_counts (start_ms);
      -- Surges and drops (rate_events), keyed by what they are: raised again by a new owner, they stay one row.
      CREATE TABLE lad_rate_events (
        source      text             NOT NULL,
        kind        text             NOT NULL CHECK (kind IN ('surge', 'drop')),
        template_id integer          NOT NULL,
        time_ms     bigint           NOT NULL,
        template    text             NOT NULL,
        observed    bigint           NOT NULL,
        expected    double precision NOT NULL,
        interval    text             NOT NULL,
        PRIMARY KEY (source, kind, template_id, time_ms)
      );
      CREATE INDEX lad_rate_events_time ON lad_rate_events (source, time_ms DESC);
      -- Width of each source's rate intervals (ms): the query replica's frame grid and cost check.
      CREATE TABLE lad_rate_intervals (
        source      text   PRIMARY KEY,
        interval_ms bigint NOT NULL
      );
      -- Each source's review queue as its owning worker last computed it (items in priority order).
      CREATE TABLE lad_review (
        source     text        PRIMARY KEY,
        items      jsonb       NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

/** Any fixed number: the advisory lock all replicas take while migrating. */
const MIGRATION_LOCK = 7_110_011;

/** Applies the missing migrations; returns the versions applied now (empty when the schema was current). */
export async function migrate(pool: PostgresPool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return pool.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS lad_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM lad_migrations')).rows.map((r) => r.version));
    const newest = Math.max(0, ...migrations.map((m) => m.version));
    const ahead = [...done].filter((v) => v > newest);
    if (ahead.length > 0) {
      // A newer binary migrated this database: running older code on it could corrupt what it does not know.
      throw new Error(`PostgreSQL at ${pool.where} has schema version ${Math.max(...ahead)}, newer than this binary's ${newest}: upgrade this binary`);
    }
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO lad_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
