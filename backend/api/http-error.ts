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

/** The parameter of `routes` (express paths like `/api/feedback/:id`) whose segment of `path` is malformed. */
function malformedParam(path: string, routes: readonly string[]): string | undefined {
  const segments = path.split('/');
  for (const route of routes) {
    const parts = route.split('/');
    if (parts.length !== segments.length || !parts.every((p, i) => p.startsWith(':') || p.toLowerCase() === segments[i].toLowerCase())) {
      continue;
    }
    const bad = parts.findIndex((p, i) => p.startsWith(':') && !decodes(segments[i]));
    if (bad >= 0) {
      return parts[bad].slice(1);
    }
  }
  return undefined;
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Any other error that carries a 4xx status is the client's: express's URL decoding (URIError, e.g. `%ff` in a
 * path parameter) and body-parser's reading (a body that is not what its Content-Encoding says). Answered with
 * that status and the field; never logged with a stack.
 */
function clientError(err: unknown, req: Request, paramRoutes: readonly string[]): HttpError | null {
  const { status, statusCode } = (err ?? {}) as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  if (typeof code !== 'number' || code < 400 || code > 499) {
    return null;
  }
  if (err instanceof URIError) {
    const field = malformedParam(req.path, paramRoutes) ?? 'path';
    return new HttpError(400, `${field}: malformed percent-encoding in the URL (e.g. %ff is not UTF-8)`, field);
  }
  const encoding = req.get('content-encoding');
  const detail = err instanceof Error ? err.message : 'unreadable';
  return new HttpError(code, `request body could not be read${encoding ? ` as Content-Encoding ${encoding}` : ''}: ${detail}`, 'body');
}

/**
 * JSON errors for everything: HttpError and body-parser's known types as they are, other 4xx as client errors
 * (`paramRoutes`, the routes with path parameters, let a malformed one be named), the rest 500 with the stack logged.
 */
export function errorHandler(logger: Logger, paramRoutes: readonly string[] = []): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = err instanceof HttpError ? err : (bodyError((err ?? {}) as Record<string, string>) ?? clientError(err, req, paramRoutes));
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
