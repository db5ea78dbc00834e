// The miner's tokens: a masked template split at spaces, with bracket groups kept whole, and fields glued by a
// delimiter (`ts|component|pid|message`, or the members of a compact JSON object) split apart with the
// delimiter as a token of its own.

import { WILDCARD } from './config';

const OPEN = '[(';
const CLOSE = '])';
/** A group longer than this many words is left as words (an unclosed bracket must not swallow the line). */
const MAX_GROUP_WORDS = 16;

/**
 * A bracketed or parenthesised group is one token: `[req-1 - - - - -]`, `[-]` and `[AsyncDispatcher event handler]`
 * are the same
 * header field with different numbers of words, and Drain only compares lines of equal token counts.
 */
export function groupBrackets(parts: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const open = OPEN.indexOf(p.charAt(0));
    if (open < 0 || closes(p, CLOSE.charAt(open))) {
      out.push(p);
      continue;
    }
    let j = i + 1;
    while (j < parts.length && j - i < MAX_GROUP_WORDS && !closes(parts[j], CLOSE.charAt(open))) j++;
    if (j < parts.length && j - i < MAX_GROUP_WORDS) {
      out.push(parts.slice(i, j + 1).join(' '));
      i = j;
    } else out.push(p);
  }
  return out;
}

function closes(part: string, close: string): boolean {
  return part.endsWith(close) || part.endsWith(close + ':') || part.endsWith(close + ',');
}

/**
 * A field delimiter some formats write without spaces around it (`20171223-22:15:29:606|Step_LSC|30002312|…`).
 * Split at spaces only, such a line is one token holding the time, the component and the first word of the
 * message, so two events of one component, or one event of two components, share nothing position by
 * position. The delimiter becomes a token of its own: it never varies, so a wildcard never swallows it, and
 * similarity.ts does not count it as evidence. None of the development samples contains it.
 */
const FIELD_DELIMITER = '|';

function splitFields(parts: string[]): string[] {
  let any = false;
  for (const p of parts) if (p.includes(FIELD_DELIMITER)) any = true;
  if (!any) return parts;
  const out: string[] = [];
  for (const p of parts) {
    // a bracket group is one token whatever it holds
    if (!p.includes(FIELD_DELIMITER) || OPEN.includes(p.charAt(0))) {
      out.push(p);
      continue;
    }
    const fields = p.split(FIELD_DELIMITER);
    for (let i = 0; i < fields.length; i++) {
      if (i > 0) out.push(FIELD_DELIMITER);
      if (fields[i] !== '') out.push(fields[i]);
    }
  }
  return out;
}

/**
 * The comma between two members of a compact JSON object (`{"time":<NUM>,"host":"echo","msg":"cache miss"}`).
 * Such a line has spaces only inside its strings, so split at spaces it is one token holding every field
 * before the message and one holding the rest: each host (or user, or method) made a template of its own,
 * and a false positive silenced one host's variant. A comma followed by a quote starts a member; so does one
 * next to a wildcard (a member a template has turned into `<*>`), which keeps the text round-tripping. The
 * token is a control character that no masked line holds as a token of its own; the text shows a comma.
 */
const MEMBER_DELIMITER = '\u001f';

function isMemberComma(p: string, i: number): boolean {
  return p.startsWith('"', i + 1) || p.startsWith(WILDCARD, i + 1) || (i >= WILDCARD.length && p.startsWith(WILDCARD, i - WILDCARD.length));
}

function splitMembers(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    // a bracket group (a JSON array too) is one token whatever it holds
    if (OPEN.includes(p.charAt(0)) || p.indexOf(',') < 0) {
      out.push(p);
      continue;
    }
    let start = 0;
    for (let i = p.indexOf(','); i >= 0; i = p.indexOf(',', i + 1)) {
      if (!isMemberComma(p, i)) continue;
      if (i > start) out.push(p.slice(start, i));
      out.push(MEMBER_DELIMITER);
      start = i + 1;
    }
    if (start < p.length) out.push(p.slice(start));
  }
  return out;
}

/**
 * Keys whose string value is a JSON line's message, in the order Loki's pattern miner looks for them
 * (pkg/pattern/drain/line_tokenizer.go, jsonTokenizer).
 */
// then Serilog's compact JSON (CLEF): `@mt`, the message template with its {Property} holes, else `@m`, rendered
export const MESSAGE_KEYS: readonly string[] = ['log', 'message', 'msg', 'msg_', '_msg', 'content', '@mt', '@m'];
/** Stands for the members around the message in a JSON line's template text: `{…"msg":"cache miss"…}`. */
const ELIDED = '…';
const MESSAGE_CLOSE = `"${ELIDED}}`;

/**
 * A JSON line is mined on its message, as Loki's pattern miner does: the event is what the message says, and
 * the other members (time, host, caller, ids) are the line's circumstances. Mined on all of them, a host or
 * user name without digits made a template per value, and a false positive silenced one host's variant.
 * Returns the opening marker (`{…"msg":"`, the key as found) and the message text, or null.
 */
function jsonMessage(text: string): { open: string; message: string } | null {
  if (text.charCodeAt(0) !== 123 /* { */) return null;
  // One pass over the object: the string members of the top level only. A nested object's `message` (pino's
  // `"err":{"message":"…"}`) is a detail of the event, not the line's message.
  const found = new Map<string, { start: number; end: number }>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */ || c === 91 /* [ */) depth++;
    else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    else if (c === 34 /* " */) {
      const end = stringEnd(text, i + 1);
      if (end < 0) return null;
      // a key of the top level whose value is a string: "key":"value", or with JSON's optional whitespace around
      // the colon, as Python's json.dumps (`"key": "value"`) and Elasticsearch (`"log.level": "INFO"`) write it
      const colon = skipSpaces(text, end + 1);
      const quote = text.charCodeAt(colon) === 58 /* : */ ? skipSpaces(text, colon + 1) : -1;
      if (depth === 1 && quote > 0 && text.charCodeAt(quote) === 34) {
        const key = text.slice(i + 1, end);
        const valueEnd = stringEnd(text, quote + 1);
        if (valueEnd < 0) return null;
        if (!found.has(key)) found.set(key, { start: quote + 1, end: valueEnd });
        i = valueEnd;
      } else i = end;
    }
  }
  for (const key of MESSAGE_KEYS) {
    const at = found.get(key);
    if (at !== undefined) return { open: `{${ELIDED}"${key}":"`, message: text.slice(at.start, at.end) };
  }
  return null;
}

function skipSpaces(text: string, from: number): number {
  let i = from;
  while (text.charCodeAt(i) === 32) i++;
  return i;
}

/** Index of the quote that closes the string starting at `from` (after its opening quote), or -1. */
function stringEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 34 /* " */) return i;
  }
  return -1;
}

/** The opening and closing markers of a JSON line's tokens: structure, like the delimiters. */
function isMessageMarker(token: string): boolean {
  return token === MESSAGE_CLOSE || (token.startsWith(`{${ELIDED}"`) && token.endsWith('":"'));
}

/** A delimiter token: structure, never compared as evidence, written without spaces around it. */
export function isDelimiter(token: string): boolean {
  return token === FIELD_DELIMITER || token === MEMBER_DELIMITER || isMessageMarker(token);
}

/**
 * A run of identical type placeholders (`<ID> <ID> <ID>`: a list of hosts, ids or numbers) is one token, so a
 * line listing three hosts and one listing fourteen are the same event (Drain compares only lines of equal
 * token count). Never a run of wildcards: a template's `<*>` positions are its own.
 */
function collapseRuns(parts: string[]): string[] {
  let out: string[] | null = null;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const repeat = i > 0 && p === parts[i - 1] && p !== WILDCARD && p.length > 2 && p.charCodeAt(0) === 60 && p.charCodeAt(p.length - 1) === 62;
    if (repeat && out === null) out = parts.slice(0, i);
    else if (!repeat && out !== null) out.push(p);
  }
  return out ?? parts;
}

function splitWords(text: string): string[] {
  return splitMembers(splitFields(collapseRuns(groupBrackets(text.split(' ')))));
}

/**
 * Where a JSON object that ends the line starts after a header (` {"` or, in a mined template, ` {…"`): a
 * container runtime's CRI prefix (`<time> stdout F {"level":…}`), a syslog header before an application's JSON.
 */
function headedJsonStart(text: string): number {
  if (text.charCodeAt(text.length - 1) !== 125 /* } */) return -1;
  const k = text.indexOf(' {');
  if (k < 0) return -1;
  const c = text.charCodeAt(k + 2);
  return c === 34 /* " */ || text.startsWith(ELIDED, k + 2) ? k + 1 : -1;
}

/**
 * Where the program's own line starts in a masked CRI container line (`<TS> stderr F …`: the runtime's
 * time, stream and tag, as kubelet and containerd write /var/log/pods), else 0. The runtime adds the prefix to every
 * line; mined with it, its two constant words counted as evidence and joined a container's short messages.
 */
function criPrefixEnd(text: string): number {
  if (!text.startsWith('<TS>')) return 0;
  const k = text.indexOf(' ');
  if (k < 0 || !(text.startsWith('stdout ', k + 1) || text.startsWith('stderr ', k + 1))) return 0;
  const tag = text.charAt(k + 8);
  return (tag === 'F' || tag === 'P') && text.charAt(k + 9) === ' ' ? k + 10 : 0;
}

/** The tokens of a template text (a mined template, or a masked line): the inverse of joinTokens. */
export function splitTemplate(line: string): string[] {
  // a container line is mined as the program's own line, as a CRI parsing stage (Promtail's, Alloy's) gives it
  const text = line.slice(criPrefixEnd(line));
  if (text.length === 0) return [];
  // a JSON line is mined on its message; so is one after a header, the header's words kept before it
  const at = text.charCodeAt(0) === 123 /* { */ ? 0 : headedJsonStart(text);
  const json = at < 0 ? null : jsonMessage(at === 0 ? text : text.slice(at));
  if (json === null) return splitWords(text);
  const message = [json.open, ...(json.message.length === 0 ? [] : splitWords(json.message)), MESSAGE_CLOSE];
  return at === 0 ? message : [...splitWords(text.slice(0, at - 1)), ...message];
}

/**
 * A template's text from its tokens: spaces between tokens, none around a delimiter, but one before a JSON
 * message's opening marker after a header (so the text splits again where it was split).
 */
export function joinTokens(tokens: readonly string[]): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const shown = t === MEMBER_DELIMITER ? ',' : t;
    const glued = i === 0 || (isDelimiter(t) && !(isMessageMarker(t) && t !== MESSAGE_CLOSE)) || isDelimiter(tokens[i - 1]);
    out = glued ? out + shown : `${out} ${shown}`;
  }
  return out;
}
