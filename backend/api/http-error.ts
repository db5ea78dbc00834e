import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';

/** An error with the HTTP status and the offending field to answer with: `{error, field}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The first zod issue as a 400 naming its field (e.g. `targets.0.queryType`). */
export function fromZod(error: z.ZodError, prefix?: string): HttpError {
  const issue = error.issues[0];
  const pathText = issue.path.map(String).join('.');
  const field = [prefix, pathText].filter(Boolean).join('.') || undefined;
  return new HttpError(400, field ? `${field}: ${issue.message}` : issue.message, field);
}

/** Parses with a zod schema or throws the 400 naming the bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw fromZod(result.error, prefix);
  }
  return result.data;
}

export function sendError(res: Response, status: number, message: string, field?: string): void {
  res.status(status).json(field === undefined ? { error: message } : { error: message, field });
}

/** Errors of body-parser (express.json) carry `type`; answer them as readable 4xx JSON. */
function bodyError(err: { type?: unknown; limit?: unknown; message?: string; charset?: unknown }): HttpError | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return new HttpError(400, `malformed JSON body: ${err.message ?? ''}`.trim(), 'body');
    case 'entity.too.large':
      return new HttpError(413, `request body too large (limit ${String(err.limit)} bytes)`, 'body');
    case 'encoding.invalid':
      return new HttpError(400, 'request body is not valid UTF-8', 'body');
    case 'charset.unsupported':
      return new HttpError(415, `unsupported charset ${String(err.charset)}: send UTF-8`, 'body');
    case 'encoding.unsupported':
      return new HttpError(415, err.message ?? 'unsupported Content-Encoding', 'body');
    case 'request.aborted':
    case 'request.size.invalid':
      return new HttpError(400, err.message ?? 'request body incomplete', 'body');
    default:
      return null;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = err instanceof HttpError ? err : bodyError((err ?? {}) as Record<string, string>);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (known) {
      sendError(res, known.status, known.message, known.field);
      return;
    }
    logger.error({ err: err instanceof Error ? err.stack : String(err), method: req.method, path: req.path }, 'request failed');
    sendError(res, 500, 'internal error');
  };
}
