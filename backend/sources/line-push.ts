/**
 * POST /api/push?source=NAME: the simplest way to send lines without a Loki client.
 * - text/plain: one entry per line (\n or \r\n); blank lines are skipped.
 * - application/x-ndjson: one JSON object per line, `{"line": "...", "time"?: epoch ms | ISO 8601,
 *   "labels"?: {"k": "v"}}`.
 * The whole body is validated before the sink sees any of it: one bad line rejects the request (400 naming
 * the line number and field) and nothing of it is accepted.
 */
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import {
  bodyBuffer,
  decodeUtf8,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_LINE_BYTES,
  mediaType,
  PushRequestError,
  pushErrorHandler,
  rawBody,
  sendPushError,
} from './push-http';
import type { LogEntry, LogSink } from './source';
import { sourceNameProblem } from './source-name';

/** Blank lines carry nothing to score (a regex test, unlike trim(), allocates nothing). */
const BLANK = /^\s*$/;

export const LINE_PUSH_PATH = '/api/push';

export const linePushOptionsSchema = z
  .object({
    maxBodyBytes: z.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
    maxLineBytes: z.number().int().positive().default(DEFAULT_MAX_LINE_BYTES),
  })
  .strict();
export type LinePushOptions = z.input<typeof linePushOptionsSchema>;

const TEXT_TYPES = new Set(['text/plain', '']);
const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
]);

const timeSchema = z.union([
  z.number().finite().nonnegative(),
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'time must be epoch milliseconds or an ISO 8601 date')
    .transform((s) => Date.parse(s)),
]);
const ndjsonEntrySchema = z.object({
  line: z.string(),
  time: timeSchema.optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export function createLinePushRouter(sink: LogSink, options: LinePushOptions = {}): Router {
  const opts = linePushOptionsSchema.parse(options);
  const router = express.Router();
  router.post(
    LINE_PUSH_PATH,
    rawBody(opts.maxBodyBytes),
    (req: Request, res: Response) => {
      try {
        const source = requireSource(req.query.source);
        const text = decodeUtf8(bodyBuffer(req.body), 'body');
        const type = mediaType(req.get('content-type'));
        let entries: LogEntry[];
        if (TEXT_TYPES.has(type)) {
          entries = entriesFromText(text, source, opts.maxLineBytes);
        } else if (NDJSON_TYPES.has(type)) {
          entries = entriesFromNdjson(text, source, opts.maxLineBytes);
        } else {
          throw new PushRequestError(415, `unsupported Content-Type ${type}: use text/plain or application/x-ndjson`);
        }
        if (entries.length > 0) {
          sink.push(entries); // an empty batch is a valid request with nothing to do
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

function requireSource(value: unknown): string {
  if (typeof value !== 'string') {
    throw new PushRequestError(
      400,
      'query parameter source is required (exactly once), e.g. /api/push?source=web',
      'source'
    );
  }
  const problem = sourceNameProblem(value);
  if (problem) {
    throw new PushRequestError(400, problem, 'source');
  }
  return value;
}

/** Calls `visit` for every non-blank line with its 1-based line number, without splitting the whole body up front. */
function forEachLine(text: string, visit: (line: string, lineNumber: number) => void): void {
  let start = 0;
  let lineNumber = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) {
      end = text.length;
    }
    lineNumber++;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end; // \r\n
    const line = text.slice(start, stop);
    if (!BLANK.test(line)) {
      visit(line, lineNumber);
    }
    start = end + 1;
  }
}

function checkLineLength(line: string, maxLineBytes: number, lineNumber: number, field: string): void {
  if (line.length > maxLineBytes || (line.length * 3 > maxLineBytes && Buffer.byteLength(line) > maxLineBytes)) {
    throw new PushRequestError(400, `line ${lineNumber}: longer than the limit of ${maxLineBytes} bytes`, field);
  }
}

function entriesFromText(text: string, source: string, maxLineBytes: number): LogEntry[] {
  const now = Date.now();
  const entries: LogEntry[] = [];
  const labels: Record<string, string> = {};
  forEachLine(text, (line, lineNumber) => {
    checkLineLength(line, maxLineBytes, lineNumber, `line ${lineNumber}`);
    entries.push({ source, timestampMs: now, line, labels });
  });
  return entries;
}

function entriesFromNdjson(text: string, source: string, maxLineBytes: number): LogEntry[] {
  const now = Date.now();
  const entries: LogEntry[] = [];
  const noLabels: Record<string, string> = {};
  forEachLine(text, (raw, lineNumber) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new PushRequestError(
        400,
        `line ${lineNumber}: malformed JSON: ${(err as Error).message}`,
        `line ${lineNumber}`
      );
    }
    const parsed = ndjsonEntrySchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue.path.map(String).join('.');
      const field = path ? `line ${lineNumber}.${path}` : `line ${lineNumber}`;
      throw new PushRequestError(400, `line ${lineNumber}: ${path ? `${path}: ` : ''}${issue.message}`, field);
    }
    const { line, time, labels } = parsed.data;
    checkLineLength(line, maxLineBytes, lineNumber, `line ${lineNumber}.line`);
    entries.push({ source, timestampMs: time ?? now, line, labels: labels ?? noLabels });
  });
  return entries;
}
