/**
 * POST /api/push?source=NAME: the simplest way to send lines without a Loki client.
 * - text/plain: one entry per line (\n or \r\n); blank lines are skipped.
 * - application/x-ndjson: one JSON object per line, `{"line": "...", "time"?: epoch ms | ISO 8601,
 *   "labels"?: {"k": "v"}}`.
 * The whole body is validated before the sink sees any of it: one bad line rejects the request (400 naming
 * the line number and field) and nothing of it is accepted.
 */
import type { Router } from 'express';
import { z } from 'zod';
import { MAX_TIME_MS, timeStringMs } from '../contract/time';
import { checkLabels, checkLineLength, createPushRoute, decodeUtf8, PushRequestError, pushLimitsShape } from './push-http';
import type { LogEntry, LogSink } from './source';
import { sourceNameProblem } from './source-name';
import { detached } from '../server/memory-budget';

/** Blank lines carry nothing to score (a regex test, unlike trim(), allocates nothing). */
const BLANK = /^\s*$/;

export const LINE_PUSH_PATH = '/api/push';

export const linePushOptionsSchema = z.object(pushLimitsShape).strict();
export type LinePushOptions = z.input<typeof linePushOptionsSchema>;

const TEXT_TYPES = new Set(['text/plain', '']);
const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
]);

const TIME_MESSAGE = `time must be epoch milliseconds or an ISO 8601 date, from 1970 to the year 275760 (${MAX_TIME_MS} ms)`;
/**
 * Bounded by what a Date holds: a line timed 9e15 or 1e308 was answered 204, counted, and never found by any query
 * (whose range is Dates). Strings go through the contract's parser: Date.parse alone read "-1" as 2001-01-01.
 */
const timeSchema = z.unknown().transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? timeStringMs(value) : NaN;
  if (!(ms >= 0 && ms <= MAX_TIME_MS)) {
    ctx.addIssue({ code: 'custom', message: TIME_MESSAGE });
    return z.NEVER;
  }
  return ms;
});
const ndjsonEntrySchema = z.object({
  line: z.string(),
  time: timeSchema.optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export function createLinePushRouter(sink: LogSink, options: LinePushOptions = {}): Router {
  const opts = linePushOptionsSchema.parse(options);
  return createPushRoute(sink, LINE_PUSH_PATH, opts, ({ req, body, type }) => {
    const source = requireSource(req.query.source);
    const text = decodeUtf8(body, 'body');
    if (TEXT_TYPES.has(type)) {
      return entriesFromText(text, source, opts.maxLineBytes);
    }
    if (NDJSON_TYPES.has(type)) {
      return entriesFromNdjson(text, source, opts.maxLineBytes);
    }
    throw new PushRequestError(415, `unsupported Content-Type ${type}: use text/plain or application/x-ndjson`);
  });
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

function entriesFromText(text: string, source: string, maxLineBytes: number): LogEntry[] {
  const now = Date.now();
  const entries: LogEntry[] = [];
  const labels: Record<string, string> = {};
  let chars = 0;
  forEachLine(text, (line, lineNumber) => {
    checkLineLength(line, maxLineBytes, `line ${lineNumber}`, `line ${lineNumber}:`);
    entries.push({ source, timestampMs: now, line, labels });
    chars += line.length;
  });
  // Each line is a slice that keeps the whole body alive, and memory is bounded by line characters
  // (memory-budget.ts): a body mostly blank lines gets its lines copied, or 10 MiB bodies each holding one short
  // line would fill the heap while they count a few characters (36 such pushes ended a 384 MB heap).
  if (chars * 2 < text.length) for (const entry of entries) entry.line = detached(entry.line);
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
    checkLineLength(line, maxLineBytes, `line ${lineNumber}.line`, `line ${lineNumber}:`);
    if (labels) checkLabels(labels, maxLineBytes, `line ${lineNumber}.labels`, `line ${lineNumber}:`);
    entries.push({ source, timestampMs: time ?? now, line, labels: labels ?? noLabels });
  });
  return entries;
}
