/**
 * What the push routers share: reading the raw body (with gzip/deflate/br Content-Encoding and a size
 * limit, via express's body-parser), strict UTF-8 decoding, and answering errors the way the team's API
 * does (`{error, field}` JSON) with Loki's status codes: 400 bad input, 413 too large, 415 unsupported
 * media type or encoding, 429 + Retry-After when the pipeline is saturated.
 */
import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import { z } from 'zod';
import { BodyBudgetFullError } from '../server/body-budget';
import { BackpressureError, type DurableSink, type LogEntry, type LogSink } from './source';

export class PushRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string
  ) {
    super(message);
    this.name = 'PushRequestError';
  }
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Loki's own default `max_line_size` is 256 KB; a longer line is rejected, not silently cut. */
export const DEFAULT_MAX_LINE_BYTES = 256 * 1024;

/** The size limits every push router takes (spread into its options schema). */
export const pushLimitsShape = {
  maxBodyBytes: z.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  maxLineBytes: z.number().int().positive().default(DEFAULT_MAX_LINE_BYTES),
  /**
   * Most lines of one source in one request: the sink's queue bound (`queue.maxLines`). A bigger batch could never
   * be taken, so it is refused with 413 instead of a 429 its sender would retry forever. Absent: no bound here.
   */
  maxBatchLines: z.number().int().positive().optional(),
};

/** The limits createPushRoute enforces itself (the line limit is the parser's). */
export interface PushRouteLimits {
  maxBodyBytes: number;
  maxBatchLines?: number;
}

/** 413 naming the limit when one source's share of the batch exceeds what its queue can ever hold. */
export function checkBatchLines(entries: LogEntry[], maxBatchLines: number | undefined): void {
  if (maxBatchLines === undefined || entries.length <= maxBatchLines) {
    return;
  }
  const perSource = new Map<string, number>();
  for (const e of entries) {
    const n = (perSource.get(e.source) ?? 0) + 1;
    if (n > maxBatchLines) {
      throw new PushRequestError(
        413,
        `batch too large: more than ${maxBatchLines} lines for source ${e.source}, which is all its queue can ever hold (queue.maxLines); split it into smaller requests`,
        'body'
      );
    }
    perSource.set(e.source, n);
  }
}

/** What a push route hands its parser: the request (query, headers), the raw body and its media type. */
export interface PushRequest {
  req: Request;
  body: Buffer;
  /** Content-Type without parameters, lower case; '' when absent. */
  type: string;
}

/**
 * A router with one POST route: the raw body (limited to `maxBodyBytes` after decompression) is turned into
 * entries by `parse` (which throws PushRequestError on bad input), a batch no queue could hold is refused (413), the sink takes them all or throws
 * BackpressureError (→ 429), and the answer is 204. The error handler sits on the route, not the router, so it
 * never answers for other routes' errors.
 */
export function createPushRoute(
  sink: LogSink | DurableSink,
  path: string,
  limits: PushRouteLimits,
  parse: (request: PushRequest) => LogEntry[]
): Router {
  const router = express.Router();
  router.post(
    path,
    rawBody(limits.maxBodyBytes),
    async (req: Request, res: Response) => {
      try {
        const entries = parse({ req, body: bodyBuffer(req.body), type: mediaType(req.get('content-type')) });
        checkBatchLines(entries, limits.maxBatchLines);
        // an empty batch is a valid request with nothing to do; a durable sink answers once the lines are on disk
        if (entries.length > 0) {
          if ('pushDurably' in sink) await sink.pushDurably(entries);
          else sink.push(entries);
        }
        res.status(204).end();
      } catch (err) {
        sendPushError(res, err);
      }
    },
    pushErrorHandler
  );
  return router;
}

/** Throws a 400 naming `field` when a line is longer than `maxLineBytes` UTF-8 bytes (`what` starts the message). */
export function checkLineLength(line: string, maxLineBytes: number, field: string, what = 'line'): void {
  // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: only measure bytes when it can matter.
  if (line.length > maxLineBytes || (line.length * 3 > maxLineBytes && Buffer.byteLength(line) > maxLineBytes)) {
    throw new PushRequestError(400, `${what} longer than the limit of ${maxLineBytes} bytes`, field);
  }
}

/**
 * Most labels one line may carry: Loki's defaults allow 15 stream labels and 128 structured-metadata entries a
 * line, so 256 refuses nothing Loki takes.
 */
export const MAX_LABELS_PER_LINE = 256;

/**
 * Throws a 400 naming `field` when a line's labels are more than MAX_LABELS_PER_LINE, or longer together (names and
 * values, UTF-8 bytes) than a line may be: Loki's own default for a line's structured metadata is that 64 KB. Labels
 * are kept with every line in memory (recent lines, anomalies); unbounded, 15,000 lines with a 60 KB label each
 * (well within the body limit) grew the service by 1 GB.
 */
export function checkLabels(labels: Readonly<Record<string, string>>, maxLineBytes: number, field: string, lead = ''): void {
  const what = lead ? `${lead} ` : '';
  const names = Object.keys(labels);
  if (names.length > MAX_LABELS_PER_LINE) {
    throw new PushRequestError(400, `${what}${names.length} labels, more than ${MAX_LABELS_PER_LINE} on one line`, field);
  }
  let chars = 0;
  for (const name of names) chars += name.length + labels[name].length;
  // as checkLineLength: UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length
  if (chars > maxLineBytes || (chars * 3 > maxLineBytes && names.reduce((n, name) => n + Buffer.byteLength(name) + Buffer.byteLength(labels[name]), 0) > maxLineBytes)) {
    throw new PushRequestError(400, `${what}labels longer together (names and values) than the line limit of ${maxLineBytes} bytes`, field);
  }
}

/** Reads the whole body as a Buffer whatever its Content-Type; the limit applies after decompression. */
export function rawBody(maxBodyBytes: number): RequestHandler {
  return express.raw({ type: () => true, limit: maxBodyBytes, inflate: true });
}

export function bodyBuffer(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.alloc(0);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 or throws a 400 naming `field`: log lines must be text, and a lossy decode would hide bad input. */
export function decodeUtf8(bytes: Uint8Array, field: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new PushRequestError(400, `${field} is not valid UTF-8`, field);
  }
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** Sends the JSON error answer for anything a push handler throws. */
export function sendPushError(res: Response, err: unknown): void {
  if (err instanceof BackpressureError) {
    const seconds = Math.max(1, Math.ceil(err.retryAfterSeconds));
    res.set('Retry-After', String(seconds));
    res.status(429).json({ error: err.message, retryAfterSeconds: seconds });
    return;
  }
  if (err instanceof BodyBudgetFullError) {
    res.set('Retry-After', String(err.retryAfterSeconds));
    res.status(429).json({ error: err.message, field: 'body', retryAfterSeconds: err.retryAfterSeconds });
    return;
  }
  if (err instanceof PushRequestError) {
    res
      .status(err.status)
      .json(err.field === undefined ? { error: err.message } : { error: err.message, field: err.field });
    return;
  }
  const parserError = bodyParserError(err);
  if (parserError) {
    res.status(parserError.status).json({ error: parserError.message, field: 'body' });
    return;
  }
  res.status(500).json({ error: err instanceof Error ? err.message : 'internal error' });
}

/** body-parser (raw-body) errors carry an HTTP status and a `type`; turn them into readable messages. */
function bodyParserError(err: unknown): { status: number; message: string } | null {
  if (typeof err !== 'object' || err === null) {
    return null;
  }
  const { status, type, limit } = err as { status?: unknown; type?: unknown; limit?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) {
    return null;
  }
  switch (type) {
    case 'entity.too.large':
      return { status: 413, message: `request body too large (limit ${String(limit)} bytes after decompression)` };
    case 'encoding.unsupported':
      return { status: 415, message: (err as Error).message };
    case 'request.aborted':
      return { status: 400, message: 'request aborted by the client' };
    default: {
      // e.g. a body that is not what its Content-Encoding says (zlib's "incorrect header check").
      const encoding = (err as { encoding?: unknown }).encoding;
      return { status, message: `request body could not be read${typeof encoding === 'string' ? ` as ${encoding}` : ''}: ${(err as Error).message || 'bad request body'}` };
    }
  }
}

/** Router-level error handler so body-parser failures (bad gzip, too large) answer JSON too. */
// four parameters, even unused: express tells error handlers by their arity
export const pushErrorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  // Already answered (e.g. 408 for a body that arrived too slowly, body-budget.ts): the read's error that
  // follows has nothing to add, and express's own handler would print its stack.
  if (res.headersSent) {
    res.end();
    return;
  }
  sendPushError(res, err);
};
