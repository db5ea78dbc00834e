/**
 * Parses the label string of a Loki push stream, `{job="api", source="web"}`, as Loki does: a PromQL
 * selector with only `=` matchers, values as Go string literals (double quotes with escapes, single
 * quotes, or backticks for raw strings). Hand-written because it sits on the protobuf push hot path and
 * no maintained npm parser for this exact grammar exists; it is small and fully tested.
 */

export class LabelParseError extends Error {
  constructor(
    message: string,
    readonly position: number
  ) {
    super(message);
    this.name = 'LabelParseError';
  }
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

export function parseLabelString(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = skipSpace(text, 0);
  if (text[i] !== '{') {
    throw new LabelParseError(`expected '{' at position ${i}`, i);
  }
  i = skipSpace(text, i + 1);
  if (text[i] === '}') {
    return ensureEnd(text, i + 1, labels);
  }
  for (;;) {
    const nameStart = i;
    if (i >= text.length || !NAME_START.test(text[i])) {
      throw new LabelParseError(`expected a label name at position ${i}`, i);
    }
    i++;
    while (i < text.length && NAME_CHAR.test(text[i])) {
      i++;
    }
    const name = text.slice(nameStart, i);
    i = skipSpace(text, i);
    if (text[i] !== '=' || text[i + 1] === '~') {
      throw new LabelParseError(`expected '=' after label ${name} (only equality matchers are allowed)`, i);
    }
    i = skipSpace(text, i + 1);
    const [value, next] = readStringLiteral(text, i);
    if (Object.prototype.hasOwnProperty.call(labels, name)) {
      throw new LabelParseError(`duplicate label name ${name}`, nameStart);
    }
    labels[name] = value;
    i = skipSpace(text, next);
    if (text[i] === ',') {
      i = skipSpace(text, i + 1);
      if (text[i] === '}') {
        return ensureEnd(text, i + 1, labels); // a trailing comma is allowed, as in PromQL
      }
      continue;
    }
    if (text[i] === '}') {
      return ensureEnd(text, i + 1, labels);
    }
    throw new LabelParseError(`expected ',' or '}' at position ${i}`, i);
  }
}

function ensureEnd(text: string, i: number, labels: Record<string, string>): Record<string, string> {
  const end = skipSpace(text, i);
  if (end !== text.length) {
    throw new LabelParseError(`unexpected text after '}' at position ${end}`, end);
  }
  return labels;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) {
    i++;
  }
  return i;
}

/** Reads a Go string literal starting at `start`; returns the value and the index after the closing quote. */
function readStringLiteral(text: string, start: number): [string, number] {
  const quote = text[start];
  if (quote === '`') {
    const end = text.indexOf('`', start + 1);
    if (end < 0) {
      throw new LabelParseError(`unterminated raw string starting at position ${start}`, start);
    }
    return [text.slice(start + 1, end), end + 1];
  }
  if (quote !== '"' && quote !== "'") {
    throw new LabelParseError(`expected a quoted label value at position ${start}`, start);
  }
  let out = '';
  let runStart = start + 1;
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === quote) {
      return [out + text.slice(runStart, i), i + 1];
    }
    if (c === '\n') {
      break;
    }
    if (c !== '\\') {
      i++;
      continue;
    }
    out += text.slice(runStart, i);
    const [decoded, next] = readEscape(text, i, quote);
    out += decoded;
    i = next;
    runStart = i;
  }
  throw new LabelParseError(`unterminated label value starting at position ${start}`, start);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

function readEscape(text: string, backslash: number, quote: string): [string, number] {
  const c = text[backslash + 1];
  if (c === undefined) {
    throw new LabelParseError(`unterminated escape at position ${backslash}`, backslash);
  }
  if (c === quote) {
    return [c, backslash + 2];
  }
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) {
    return [simple, backslash + 2];
  }
  const hexDigits = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  if (hexDigits > 0) {
    const digits = text.slice(backslash + 2, backslash + 2 + hexDigits);
    if (!new RegExp(`^[0-9A-Fa-f]{${hexDigits}}$`).test(digits)) {
      throw new LabelParseError(`invalid \\${c} escape at position ${backslash}`, backslash);
    }
    const code = parseInt(digits, 16);
    if (c === 'x') {
      // Go's \xNN is a single byte; Loki values are UTF-8, so only ASCII bytes map to one character.
      if (code > 0x7f) {
        throw new LabelParseError(`non-ASCII \\x escape at position ${backslash}`, backslash);
      }
      return [String.fromCharCode(code), backslash + 4];
    }
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new LabelParseError(`invalid code point in escape at position ${backslash}`, backslash);
    }
    return [String.fromCodePoint(code), backslash + 2 + hexDigits];
  }
  if (c >= '0' && c <= '7') {
    const digits = text.slice(backslash + 1, backslash + 4);
    if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 0x7f) {
      throw new LabelParseError(`invalid octal escape at position ${backslash}`, backslash);
    }
    return [String.fromCharCode(parseInt(digits, 8)), backslash + 4];
  }
  throw new LabelParseError(`unknown escape \\${c} at position ${backslash}`, backslash);
}
