/**
 * Context lines in cluster mode: read back from the JetStream lines stream, which with its time-based
 * retention is the recent-lines store. A source's lines are the messages on its subject (ports.ts), so the
 * lines around stream sequence `seq` are read by an ordered consumer filtered to that subject, starting a
 * window of sequences before `seq`. Sequences are shared by all sources, so how far back `before` lines of
 * one source lie is unknown: the window starts at 32 sequences per wanted line and grows eightfold until it
 * holds them or reaches the start of the stream (at most 4 tries).
 * Works on nats-server 2.9 (no direct-get batch, no allow_direct needed on the stream).
 */
import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { HttpError } from '../api/http-error';
import { decodeJson, LINES_STREAM, linesSubject, streamLineSchema, type StreamLine } from './ports';

export interface StreamRecord {
  seq: number;
  line: StreamLine;
}

export interface StreamAround {
  /** Up to `before` lines of the source just before `seq`, oldest first. */
  before: StreamRecord[];
  /** The line at `seq`, when the stream still holds it. */
  at: StreamRecord | null;
  /** Up to `after` lines of the source just after `seq`. */
  after: StreamRecord[];
}

/** What the query role reads context from (an interface so a test can stand in for the stream). */
export interface LineContextSource {
  around(source: string, seq: number, before: number, after: number): Promise<StreamAround>;
}

/** The stream cannot be read (NATS down or reconnecting): answered 503 naming NATS, as PostgreSQL's errors name it. */
export class StreamUnavailableError extends HttpError {
  constructor(reason: string) {
    super(503, `NATS JetStream (stream ${LINES_STREAM}) did not answer for context lines: ${reason}`);
    this.name = 'StreamUnavailableError';
  }
}

const FETCH_BATCH = 256;
const MAX_TRIES = 4;

export class StreamContextReader implements LineContextSource {
  private readonly decoder = new TextDecoder();

  constructor(private readonly js: JetStreamClient) {}

  async around(source: string, seq: number, before: number, after: number): Promise<StreamAround> {
    try {
      return await this.widening(source, seq, before, after);
    } catch (err) {
      throw new StreamUnavailableError(err instanceof Error ? err.message : String(err));
    }
  }

  private async widening(source: string, seq: number, before: number, after: number): Promise<StreamAround> {
    let window = Math.max(64, (before + 1) * 32);
    let result: StreamAround = { before: [], at: null, after: [] };
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const start = Math.max(1, seq - window);
      result = await this.read(source, start, seq, before, after);
      if (result.before.length >= before || start === 1) break;
      window *= 8;
    }
    return result;
  }

  /** Reads the source's lines from `start` until `after` lines past `seq` (or the end of the stream). */
  private async read(source: string, start: number, seq: number, before: number, after: number): Promise<StreamAround> {
    const consumer = await this.js.consumers.get(LINES_STREAM, {
      filter_subjects: linesSubject(source),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
    });
    const out: StreamAround = { before: [], at: null, after: [] };
    try {
      // Ask for no more than exists: a fetch for more than the stream holds waits for its expiry.
      let remaining = (await consumer.info()).num_pending;
      while (remaining > 0 && out.after.length < after) {
        const batch = await consumer.fetch({ max_messages: Math.min(remaining, FETCH_BATCH), expires: 2000 });
        let got = 0;
        for await (const msg of batch) {
          got++;
          const record = this.decode(msg.seq, msg.data);
          if (record === null) continue;
          if (msg.seq < seq) {
            out.before.push(record);
            if (out.before.length > before) out.before.shift();
          } else if (msg.seq === seq) {
            out.at = record;
          } else if (out.after.length < after) {
            out.after.push(record);
          }
          if (got >= Math.min(remaining, FETCH_BATCH) || out.after.length >= after) break;
        }
        if (got === 0) break;
        remaining -= got;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return out;
  }

  private decode(seq: number, data: Uint8Array): StreamRecord | null {
    const line = decodeJson(streamLineSchema, this.decoder.decode(data));
    return line !== null ? { seq, line } : null;
  }
}
