/**
 * POST /loki/api/v1/push: Loki's push API, so Promtail, Alloy, Fluent Bit, winston-loki, pino-loki and
 * anything else that ships to Loki can ship to Scorpio unchanged. Both wire forms:
 * - application/x-protobuf (or no Content-Type, as Loki assumes): snappy-compressed logproto.PushRequest
 * - application/json (optionally Content-Encoding gzip/deflate):
 *   {"streams":[{"stream":{"job":"x"},"values":[["<unix ns>","line",{"meta":"data"}?]]}]}
 * A request is validated whole before anything reaches the sink, which takes it all or nothing.
 */
import type { Router } from 'express';
import { z } from 'zod';
import { MAX_TIME_MS } from '../contract/time';
import { JSON_BODY_LIMITS, jsonShapeProblem } from '../api/json-body';
import { LabelParseError, parseLabelString } from './loki-labels';
import {
  decodePushRequest,
  snappyDecompress,
  SnappyTooLargeError,
  snappyUncompressedLength,
  timestampToMs,
  type ProtoPushRequest,
} from './loki-proto';
import {
  checkLabels,
  checkLineLength,
  createPushRoute,
  decodeUtf8,
  PushRequestError,
  pushLimitsShape,
  type PushRequest,
} from './push-http';
import type { LogEntry, LogSink } from './source';
import { BodyBudgetFullError, reservationOf, type BodyReservation } from '../server/body-budget';
import {
  DEFAULT_SOURCE_LABELS,
  sourceFromLabels,
  sourceNameFromLabel,
  sourceNameProblem,
  sourceNameSchema,
} from './source-name';

export const LOKI_PUSH_PATH = '/loki/api/v1/push';

export const lokiPushOptionsSchema = z
  .object({
    /** Labels tried in order for the source name when the request has no `?source=`. */
    sourceLabels: z
      .array(z.string().min(1))
      .min(1)
      .default([...DEFAULT_SOURCE_LABELS]),
    /** Source for streams that carry none of `sourceLabels`. */
    defaultSource: sourceNameSchema.default('loki'),
    ...pushLimitsShape,
  })
  .strict();
export type LokiPushOptions = z.input<typeof lokiPushOptionsSchema>;
type ResolvedOptions = z.output<typeof lokiPushOptionsSchema>;

export function createLokiPushRouter(sink: LogSink, options: LokiPushOptions = {}): Router {
  const opts = lokiPushOptionsSchema.parse(options);
  return createPushRoute(sink, LOKI_PUSH_PATH, opts, (request) => parseLokiPush(request, opts));
}

function parseLokiPush({ req, body, type }: PushRequest, opts: ResolvedOptions): LogEntry[] {
  const rawSource: unknown = req.query.source;
  if (rawSource !== undefined && typeof rawSource !== 'string') {
    throw new PushRequestError(400, 'query parameter source may be given once', 'source');
  }
  const querySource = rawSource;
  if (querySource !== undefined) {
    const problem = sourceNameProblem(querySource);
    if (problem) {
      throw new PushRequestError(400, problem, 'source');
    }
  }
  const ctx: EntryContext = { opts, querySource, receivedAtMs: Date.now(), reservation: reservationOf(req) };
  if (type === 'application/json') {
    return entriesFromJson(body, ctx);
  }
  if (type === 'application/x-protobuf' || type === '') {
    return entriesFromProtobuf(body, ctx);
  }
  throw new PushRequestError(415, `unsupported Content-Type ${type}: use application/json or application/x-protobuf`);
}

interface EntryContext {
  opts: ResolvedOptions;
  querySource: string | undefined;
  receivedAtMs: number;
  /** The body's share of the process-wide body budget (body-budget.ts), when the app has one. */
  reservation: BodyReservation | undefined;
}

function sourceFor(labels: Record<string, string>, ctx: EntryContext): string {
  if (ctx.querySource !== undefined) {
    return ctx.querySource;
  }
  const fromLabels = sourceFromLabels(labels, ctx.opts.sourceLabels);
  return fromLabels === undefined ? ctx.opts.defaultSource : sourceNameFromLabel(fromLabels);
}

// ---------------------------------------------------------------- JSON

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const labelMapSchema = z.record(z.string().regex(LABEL_NAME, 'label names match [A-Za-z_][A-Za-z0-9_]*'), z.string());
const nanosecondsSchema = z.string().regex(/^\d{1,19}$/, 'timestamp must be a string of Unix epoch nanoseconds');

const jsonPushSchema = z.object({
  streams: z.array(
    z.object({
      stream: labelMapSchema.default({}),
      values: z.array(z.tuple([nanosecondsSchema, z.string(), labelMapSchema.optional()])),
    })
  ),
});

function entriesFromJson(body: Buffer, ctx: EntryContext): LogEntry[] {
  let parsed: unknown;
  try {
    const text = decodeUtf8(body, 'body');
    // A push's values may be many (100,000 entries in 10 MiB are 300,000 values), its depth never: Loki's JSON push
    // nests 5 levels. 10 concurrent 10 MiB `[[[…]]]` pushes took 17 s to refuse (built service; health 3.6 s).
    const shape = jsonShapeProblem(body, { depth: JSON_BODY_LIMITS.depth, values: Infinity });
    if (shape !== null) throw new PushRequestError(400, `body: ${shape}`, 'body');
    parsed = JSON.parse(text);
  } catch (err) {
    if (err instanceof PushRequestError) {
      throw err;
    }
    throw new PushRequestError(400, `malformed JSON: ${(err as Error).message}`, 'body');
  }
  const result = jsonPushSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.map(String).join('.');
    throw new PushRequestError(400, `${field || 'body'}: ${issue.message}`, field || 'body');
  }
  const entries: LogEntry[] = [];
  result.data.streams.forEach((stream, s) => {
    checkLabels(stream.stream, ctx.opts.maxLineBytes, `streams.${s}.stream`);
    const source = sourceFor(stream.stream, ctx);
    stream.values.forEach(([ns, line, metadata], v) => {
      checkLineLength(line, ctx.opts.maxLineBytes, `streams.${s}.values.${v}.1`);
      const labels = metadata && Object.keys(metadata).length > 0 ? { ...metadata, ...stream.stream } : stream.stream;
      if (labels !== stream.stream) checkLabels(labels, ctx.opts.maxLineBytes, `streams.${s}.values.${v}.2`);
      entries.push({ source, timestampMs: nanosecondsToMs(ns), line, labels });
    });
  });
  return entries;
}

/** Loki sends nanoseconds as a decimal string (beyond 2^53); drop the last six digits instead of parsing it whole. */
function nanosecondsToMs(ns: string): number {
  return ns.length > 6 ? Number(ns.slice(0, ns.length - 6)) : 0;
}

// ---------------------------------------------------------------- protobuf

function entriesFromProtobuf(body: Buffer, ctx: EntryContext): LogEntry[] {
  let message: ProtoPushRequest;
  // The decompressed block is held beside the body: reserved too, before it is allocated.
  const inflated = snappyUncompressedLength(body);
  if (ctx.reservation && inflated > 0 && inflated <= ctx.opts.maxBodyBytes && !ctx.reservation.grow(inflated)) {
    throw new BodyBudgetFullError(ctx.reservation.budget, inflated);
  }
  try {
    message = decodePushRequest(snappyDecompress(body, ctx.opts.maxBodyBytes));
  } catch (err) {
    if (err instanceof SnappyTooLargeError) {
      throw new PushRequestError(
        413,
        `decompressed body of ${err.uncompressedBytes} bytes exceeds the limit of ${ctx.opts.maxBodyBytes}`,
        'body'
      );
    }
    throw new PushRequestError(
      400,
      `body is not a snappy-compressed logproto.PushRequest: ${(err as Error).message}`,
      'body'
    );
  }
  const entries: LogEntry[] = [];
  message.streams.forEach((stream, s) => {
    const labelsField = `streams.${s}.labels`;
    let labels: Record<string, string>;
    try {
      labels = parseLabelString(decodeUtf8(stream.labels, labelsField));
    } catch (err) {
      if (err instanceof LabelParseError) {
        throw new PushRequestError(400, `bad label string: ${err.message}`, labelsField);
      }
      throw err;
    }
    checkLabels(labels, ctx.opts.maxLineBytes, labelsField);
    const source = sourceFor(labels, ctx);
    stream.entries.forEach((entry, e) => {
      const field = `streams.${s}.entries.${e}`;
      const line = decodeUtf8(entry.line, `${field}.line`);
      checkLineLength(line, ctx.opts.maxLineBytes, `${field}.line`);
      let entryLabels = labels;
      if (entry.structuredMetadata.length > 0) {
        entryLabels = {};
        for (const pair of entry.structuredMetadata) {
          entryLabels[decodeUtf8(pair.name, `${field}.structuredMetadata`)] = decodeUtf8(
            pair.value,
            `${field}.structuredMetadata`
          );
        }
        Object.assign(entryLabels, labels); // stream labels win over structured metadata of the same name
        checkLabels(entryLabels, ctx.opts.maxLineBytes, `${field}.structuredMetadata`);
      }
      const timestampMs = entry.timestamp ? timestampToMs(entry.timestamp) : ctx.receivedAtMs;
      // Beyond a Date's range no query can find the line (their ranges are Dates): refused, as Loki refuses
      // entries too far in the future, instead of a 204 for lines nobody will see.
      if (!(Math.abs(timestampMs) <= MAX_TIME_MS)) {
        throw new PushRequestError(400, `${field}.timestamp: beyond the time range of a date (±${MAX_TIME_MS} ms, the year 275760)`, `${field}.timestamp`);
      }
      entries.push({ source, timestampMs, line, labels: entryLabels });
    });
  });
  return entries;
}
