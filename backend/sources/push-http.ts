/**
 * What the push routers share: reading the raw body (with gzip/deflate/br Content-Encoding and a size
 * limit, via express's body-parser), strict UTF-8 decoding, and answering errors the way the team's API
 * does (`{error, field}` JSON) with Loki's status codes: 400 bad input, 413 too large, 415 unsupported
 * media type or encoding, 429 + Retry-After when the pipeline is saturated.
 */
import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { BackpressureError } from './source';

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
  if (err instanceof PushRequestError) {
    res
      .status(err.status)
      .json(err.field === undefined ? { error: err.message } : { error: err.message, field: err.field });
    return;
  }
  const parserError = bodyParserError(err);
  if (parserError) {
    res.status(parserError.status).json({ error: parserError.message });
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
    default:
      return { status, message: (err as Error).message || 'bad request body' };
  }
}

/** Router-level error handler so body-parser failures (bad gzip, too large) answer JSON too. */
export const pushErrorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  sendPushError(res, err);
};
