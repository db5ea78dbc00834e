/**
 * Cluster mode's shared contract: what the ingest role, the scoring workers and the query role hand each
 * other through NATS JetStream and PostgreSQL. (Feedback travels through PostgreSQL: fact-store-postgres.ts's
 * LISTEN/NOTIFY, not a NATS subject.) Both sides import this one module, so the subject names,
 * the wire form of a line and the row a worker writes are stated once.
 *
 * Embedded mode does not use this module.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ScoredLine } from '../store/results-store';

/** The JetStream stream that holds accepted lines; its time-based retention makes it the recent-lines store. */
export const LINES_STREAM = 'LAD_LINES';
/** Subjects are per source: `lad.lines.<sourceToken>`. */
export const LINES_SUBJECT_PREFIX = 'lad.lines.';
/** Key-value bucket of source leases (key: sourceToken, value: LeaseValue JSON, bucket TTL = lease time). */
export const LEASE_BUCKET = 'lad_leases';
/** Object store bucket of trained models (object name: sourceToken). */
export const MODEL_BUCKET = 'lad_models';
/** Subject on which ingest replicas announce sources they have seen (workers discover sources from it). */
export const SOURCES_SUBJECT = 'lad.sources';

/**
 * A NATS subject token for a source name: sources are free text (`app/api`, `web.1`, unicode), subject
 * tokens may not hold `.`, `*`, `>` or whitespace. A short hash keeps it unique and reversible through the
 * message itself (the source name travels in the payload).
 */
export function sourceToken(source: string): string {
  const safe = source.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  return `${safe}_${hash}`;
}

export function linesSubject(source: string): string {
  return LINES_SUBJECT_PREFIX + sourceToken(source);
}

/** One accepted line as published to JetStream (JSON). Validated by the worker: the stream is an edge. */
export const streamLineSchema = z.object({
  source: z.string().min(1),
  /** Line time, ms since the epoch. */
  t: z.number(),
  line: z.string(),
  labels: z.record(z.string(), z.string()).default({}),
});
export type StreamLine = z.infer<typeof streamLineSchema>;

/** Value of a lease key: who owns the source and when it last renewed (lease.ts leaseTiming: older than half the lease time = expired; the bucket TTL removes the key later). */
export const leaseValueSchema = z.object({ worker: z.string(), renewedAt: z.number() });
export type LeaseValue = z.infer<typeof leaseValueSchema>;

/**
 * One scored line as a worker writes it to PostgreSQL. `seq` is the JetStream stream sequence: rows are
 * keyed by (source, seq), so a line redelivered after a worker dies is written once, never twice.
 */
export interface ClusterScoredLine extends ScoredLine {
  seq: number;
}

/**
 * A JSON message read with its schema (a stream line, a lease value): the value, or null when the text is not
 * JSON or not of that shape. Messages come from other processes, of other versions too: never trusted, never thrown.
 */
export function decodeJson<T>(schema: z.ZodType<T>, text: string): T | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
