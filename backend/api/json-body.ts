/**
 * What a JSON request body (POST /api/query, POST /api/feedback) must be before JSON.parse sees it: valid UTF-8,
 * nested at most JSON_BODY_LIMITS.depth levels, and at most JSON_BODY_LIMITS.values values. JSON.parse builds every
 * array and object of the body before any schema can refuse it, and a small body can ask for a lot of them:
 * 10 MB of `[[[[...]]]]` is 5 million nested arrays. On the built service, 20 such POST /api/feedback at once took
 * 32.8 s to refuse, the event loop blocked (slowest /api/health 21.9 s), RSS 1.7 GB; with --max-old-space-size=384
 * the first one ran the heap out (SIGABRT). A scan of the bytes costs a few ms for 10 MB, and builds nothing.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error';

/**
 * Rule: far beyond any body the plugin or Grafana sends. Grafana's query body nests 5 levels (targets[].datasource,
 * range.raw, scopedVars.x); 64 is more than ten times that. Values: a query at every other limit (50 targets,
 * 500 sources each) holds about 25,000; 200,000 is eight times that.
 */
export const JSON_BODY_LIMITS = { depth: 64, values: 200_000 } as const;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

/** Why the body's shape is refused (depth or values over the limits), null when it is within them. Strings are skipped. */
export function jsonShapeProblem(buf: Uint8Array, limits: { depth: number; values: number } = JSON_BODY_LIMITS): string | null {
  let depth = 0;
  // each array or object, and each comma (a further element or member): close to the count of values
  let values = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limits.depth) return `JSON nested deeper than ${limits.depth} levels (limit JSON_BODY_LIMITS.depth)`;
      if (++values > limits.values) return `more than ${limits.values} JSON values (limit JSON_BODY_LIMITS.values)`;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    } else if (c === COMMA && ++values > limits.values) {
      return `more than ${limits.values} JSON values (limit JSON_BODY_LIMITS.values)`;
    }
  }
  return null;
}

/**
 * express.json's `verify`: runs on the raw body before it is parsed. Invalid UTF-8 is refused (body-parser would
 * silently turn it into U+FFFD), and so is a shape over JSON_BODY_LIMITS: 400 naming `body`.
 */
export function verifyJsonBody(_req: IncomingMessage, _res: ServerResponse, buf: Buffer): void {
  if (!isUtf8(buf)) {
    throw Object.assign(new Error('request body is not valid UTF-8'), { status: 400, type: 'encoding.invalid' });
  }
  const problem = jsonShapeProblem(buf);
  if (problem !== null) throw new HttpError(400, `body: ${problem}`, 'body');
}
