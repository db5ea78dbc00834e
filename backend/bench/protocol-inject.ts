// Cross-system injection for the evaluation protocol (protocol.ts): a failure message from another system is
// dressed in a real line of the host log (the host line keeps its header, the foreign message replaces its
// message part), so a detector cannot tell an injected line by its format, only by what it says.
//
// The header/message split is one generic rule for every log, no per-system configuration:
//  - JSON lines: the value of the member the miner reads as the message (`log`, `message`, `msg`, …) is
//    replaced; a log none of whose lines has a message part cannot be injected (NotInjectable), and the
//    protocol reports it as such rather than stopping;
//  - logfmt lines: the value of the `msg=` key is replaced (quoted);
//  - fields glued by `|` (`time|component|pid|message`): the message follows the last `|` of the line's head;
//  - other lines: the header is the first run of "terminator" tokens among the first 10 (a token ending in ':'
//    or ']', a bracketed group, a level word, a lone '-'), extended over following terminators, bracketed
//    groups and dotted component names (org.apache.x.Y); the message is the rest. That is where syslog's
//    `host proc[pid]:`, Java's `LEVEL [thread] class:`, Apache's `[date] [level]`, klog's `file.go:12]` and
//    Zookeeper's `- LEVEL [thread] -` end.

import { tokenize } from '../engine';
import { LineScanner } from '../engine/tokenizer';
import { MESSAGE_KEYS } from '../engine/drain/tokens';
import { LEVEL_KEY_NAMES, LEVEL_NAMES, NO_LEVEL, WORD_TO_RANK } from '../engine/levels';
import { SeededRandom } from '../engine/random';

export interface FailureMessage {
  system: string;
  /** Level rank (engine/levels.ts) the message had in its own log. */
  level: number;
  message: string;
}

/** Parses failures.tsv (header `system level message`, tab-separated). */
export function parseFailures(tsv: string): FailureMessage[] {
  const out: FailureMessage[] = [];
  for (const row of tsv.split('\n').slice(1)) {
    if (row.trim() === '') continue;
    const [system, level, ...rest] = row.split('\t');
    const rank = WORD_TO_RANK.get(level.toLowerCase());
    if (rank === undefined || rest.length === 0) throw new Error(`failures.tsv: bad row "${row}"`);
    out.push({ system, level: rank, message: rest.join('\t') });
  }
  return out;
}

const HEADER_SCAN_TOKENS = 10;
const DOTTED_COMPONENT = /^[A-Za-z_$][\w$-]*(\.[\w$-]+){2,}:?$/;
/** A lone separator between header fields: `-`, `--`, `---`, `:`, `|`, and Redis's level characters `* # .`. */
const SEPARATOR = /^[^\w\s"'([{<]{1,3}$/;

interface Token {
  text: string;
  start: number;
  end: number;
  /** Followed by a tab or by two or more spaces: a padded column (`Info                  CBS`, zap's tabs). */
  padded: boolean;
}

/** Whitespace tokens with their offsets; a '[' … ']' group spanning several tokens is one token. */
function tokens(line: string, limit: number): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while (out.length < limit && (m = re.exec(line)) !== null) {
    let text = m[0];
    let end = m.index + text.length;
    if (text.startsWith('[') && !text.endsWith(']')) {
      const close = line.indexOf(']', end);
      if (close >= 0) {
        end = close + 1;
        text = line.slice(m.index, end);
        re.lastIndex = end;
      }
    }
    out.push({ text, start: m.index, end, padded: /^(\t|\s{2})/.test(line.slice(end, end + 2)) });
  }
  return out;
}

const scanner = new LineScanner();

/** Offsets [start, end) of the token the engine's level reader read the level from, or null. */
function levelSpan(line: string): [number, number] | null {
  const s = scanner.scan(line);
  return s.levelToken < 0 ? null : [s.starts[s.levelToken], s.ends[s.levelToken]];
}

function isGroup(t: string): boolean {
  return (t.startsWith('[') && t.endsWith(']')) || (t.startsWith('<') && t.endsWith('>'));
}

/**
 * Offset where the message part of a plain-text line starts, or -1 when no header is found. The header is the
 * first run of header fields that ends in a terminator:
 *  - it starts at the first terminator among the first 10 tokens (a token ending in ':' or ']', a bracketed
 *    group, a lone separator, the token the engine read the level from), everything before it included;
 *  - it extends over bracketed and `<…>` groups, dotted component names, separators, numbers (a pid, when a
 *    terminator follows), a `word -` pair, the level token, and one `word:` (a program or logger name) or padded
 *    column; a second `word:` is the message's (`LOG:  duration: 12 ms`, `MRAppMaster: Kind: …`), and after a
 *    separator that follows the level (`INFO [t] - Notification: …`) a `word:` is too;
 *  - fields glued by `|` (`time|LEVEL|logger|message`) or by `:` after the level (Python's `LEVEL:name:message`):
 *    the message follows the last glue of that token.
 */
export function messageStart(line: string): number {
  const toks = tokens(line, HEADER_SCAN_TOKENS + 6);
  const lv = levelSpan(line);
  const isLevel = (t: Token): boolean => lv !== null && lv[0] >= t.start && lv[1] <= t.end;
  // fields glued by `|` in one of the first two tokens, or by `:` after the level at the line's start
  for (const t of toks.slice(0, 2)) {
    const parts = t.text.split('|');
    if (parts.length > 2 && !t.text.endsWith('|')) return t.start + t.text.lastIndexOf('|') + 1;
  }
  if (toks.length > 0 && isLevel(toks[0]) && lv![0] === 0 && line[lv![1]] === ':' && !toks[0].text.endsWith(':')) {
    return toks[0].start + toks[0].text.lastIndexOf(':') + 1;
  }
  const wholeLevel = (t: Token): boolean => isLevel(t) && /^\W*$/.test(line.slice(t.start, lv![0]) + line.slice(lv![1], t.end).replace(/^:$/, ''));
  const isTerminator = (t: Token): boolean =>
    t.text.endsWith(':') || t.text.endsWith(']') || SEPARATOR.test(t.text) || isGroup(t.text) || wholeLevel(t);
  const first = toks.findIndex((t, i) => i < HEADER_SCAN_TOKENS && isTerminator(t));
  if (first < 0) return -1;
  let sawLevel = toks.slice(0, first + 1).some(isLevel);
  // a level field of its own (`INFO`, `[error]`), not one inside a longer token (klog's `I0507`, `<34>1`)
  let sawLevelField = toks.slice(0, first + 1).some(wholeLevel);
  let named = false; // a `word:` (program, logger), a padded column or klog's `file.go:12]` ended the fields
  let closed = false; // a separator after the level field: no `word:` or `word -` follows in the header
  const colonWord = (t: string): boolean => t.endsWith(':') && !isGroup(t.slice(0, -1)) && !SEPARATOR.test(t);
  /** The `]` that closes a header opened before it (klog's `I0507 12:04:17.597069 1 file.go:12]`). */
  const closesHeader = (t: string): boolean => t.endsWith(']') && t.split(']').length > t.split('[').length;
  const head = toks[first];
  if ((colonWord(head.text) && !wholeLevel(head)) || closesHeader(head.text)) named = true;
  else if (SEPARATOR.test(head.text) && sawLevelField) closed = true;
  let last = first;
  let i = first + 1;
  while (i < toks.length) {
    const t = toks[i];
    if (isLevel(t) && !sawLevel) {
      sawLevel = true;
      sawLevelField = wholeLevel(t);
      last = i++;
      continue;
    }
    if (named) break; // after a program or logger name only the level may follow
    if (colonWord(t.text) && !closed) {
      named = true;
      last = i++;
      continue;
    }
    if (SEPARATOR.test(t.text)) {
      if (sawLevelField) closed = true;
      last = i++;
      continue;
    }
    if (isGroup(t.text) || t.text.endsWith(']') || DOTTED_COMPONENT.test(t.text)) {
      if (closesHeader(t.text)) named = true;
      last = i++;
      continue;
    }
    // a pid (`INFO 12345 ---`) or a bare name before a separator (`- myapp.api -`, RFC 5424's `- ID47 -`): kept
    // only when a terminator follows it
    const next = toks[i + 1];
    if (!closed && next !== undefined && SEPARATOR.test(next.text) && !/[:\]]$/.test(t.text)) {
      i++;
      continue;
    }
    // a padded column right after a padded header field (Windows CBS `Info                  CBS    …`, zap's tabs)
    if (toks[i - 1].padded && t.padded && !colonWord(t.text)) {
      named = true;
      last = i++;
      continue;
    }
    break;
  }
  if (last + 1 >= toks.length) return -1; // nothing left for a message
  let start = toks[last].end;
  while (start < line.length && /\s/.test(line[start])) start++;
  return start;
}

/** `word` spelled like `like` (upper, lower or capitalised). */
function sameCase(word: string, like: string): string {
  if (like === like.toUpperCase()) return word.toUpperCase();
  if (like[0] === like[0].toUpperCase()) return word[0].toUpperCase() + word.slice(1);
  return word;
}

/**
 * Spellings of the level token `t` in its own family, to be tried in order: level words in `t`'s case (the
 * canonical name first, three-letter codes first for a three-letter code), a letter (klog, logcat), a number of
 * `t`'s width (a syslog <PRI> of the same facility, nearest severity first; pino's tens; a syslog severity), a punctuation character
 * (Redis's `. - * #`).
 */
function spellings(t: string, level: number): string[] {
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    // the same facility's severities nearest the host's first (a fatal info line becomes crit, not emerg)
    const facility = Array.from({ length: 8 }, (_, s) => n - (n % 8) + s).sort((a, b) => Math.abs(a - n) - Math.abs(b - n));
    const all = [...facility, 10, 20, 30, 40, 50, 60, 0, 1, 2, 3, 4, 5, 6, 7];
    return [...new Set(all.map(String).filter((x) => x.length === t.length))];
  }
  if (/^[A-Za-z]$/.test(t)) return [sameCase(LEVEL_NAMES[level][0], t), ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('').map((c) => sameCase(c, t))];
  if (/^[A-Za-z]+$/.test(t)) {
    const words = [LEVEL_NAMES[level], ...[...WORD_TO_RANK.keys()].filter((w) => WORD_TO_RANK.get(w) === level)];
    if (t.length <= 3) words.sort((a, b) => Number(b.length === t.length) - Number(a.length === t.length));
    return [...new Set(words.map((w) => sameCase(w, t)))];
  }
  if (t.length === 1) return Array.from({ length: 94 }, (_, k) => String.fromCharCode(33 + k)).filter((c) => !/\w/.test(c));
  return [];
}

/**
 * `line` with the level at [from, to) respelled so that the engine's level reader reads `level` there (or the
 * highest level below it the family can spell, when higher than the host's own), in the host's spelling family.
 */
function respell(line: string, from: number, to: number, level: number): string {
  const own = tokenize(line).level;
  let best = line;
  let bestLevel = own;
  for (const s of spellings(line.slice(from, to), level)) {
    const candidate = line.slice(0, from) + s + line.slice(to);
    const read = tokenize(candidate).level;
    if (read === level) return candidate;
    if (read > bestLevel && read < level) {
      best = candidate;
      bestLevel = read;
    }
  }
  return best;
}

/**
 * `line` (a header followed by a placeholder message) with the level in its first `headerEnd` characters raised
 * to `level` (a rank) where the engine reads a lower one: the token the engine's level reader read it from, or,
 * when the reader names no token (Redis's level character), a lone punctuation field of the header.
 */
function raiseLevel(line: string, headerEnd: number, level: number): string {
  if (level < 0) return line;
  const own = tokenize(line).level;
  if (own === NO_LEVEL || own >= level) return line;
  const span = levelSpan(line);
  if (span !== null) return span[1] <= headerEnd ? respell(line, span[0], span[1], level) : line;
  for (const t of tokens(line.slice(0, headerEnd), HEADER_SCAN_TOKENS)) {
    if (t.text.length !== 1 || /\w/.test(t.text)) continue;
    const raised = respell(line, t.start, t.end, level);
    if (raised !== line) return raised;
  }
  return line;
}

const LOGFMT_MSG = /(^|\s)msg=("(?:[^"\\]|\\.)*"|\S*)/;
/** Stands for the message while the header's level is raised (so no word of the message is taken for it). */
const PLACEHOLDER = 'x';

/** A JSON object's text dressed: its message member replaced (a wrapped program line dressed in turn). */
function dressJson(text: string, message: string, level: number): string | null {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return null;
  // the member the miner reads as the message (Docker's `log`, `message`, `msg`, …)
  const key = MESSAGE_KEYS.find((k) => typeof obj[k] === 'string');
  if (key === undefined) return null;
  const old = obj[key] as string;
  // Docker json-file's `log` holds the program's whole line, as the engine reads it: its header is dressed
  const inner = key === 'log' ? dress(old.replace(/\n$/, ''), message, level) : null;
  obj[key] = inner === null ? message : inner + (old.endsWith('\n') ? '\n' : '');
  const lk = LEVEL_KEY_NAMES.find((k) => typeof obj[k] === 'string' || typeof obj[k] === 'number');
  if (lk !== undefined && level > tokenize(JSON.stringify({ [lk]: obj[lk] })).level) {
    // pino's numbers (40 warn, 50 error, 60 fatal), or a level word spelled as the host spells it
    obj[lk] = typeof obj[lk] === 'number' ? (level >= 6 ? 60 : level === 5 ? 50 : 40) : sameCase(LEVEL_NAMES[level], String(obj[lk]));
  }
  return JSON.stringify(obj);
}

/**
 * `host` with its message part replaced by `message`, and its level raised to `level` (a rank) when the
 * host's own level is lower: a failure in the host would be logged at its failure level. Null when no message
 * part is found.
 */
export function dress(host: string, message: string, level = NO_LEVEL): string | null {
  const trimmed = host.trim();
  if (trimmed.startsWith('{')) {
    const json = dressJson(trimmed, message, level);
    if (json !== null) return json;
    // not JSON after all: fall through to the text rules
  }
  // a JSON object ending the line after a header (a CRI prefix, a syslog header), as the miner reads it
  const at = trimmed.endsWith('}') ? host.indexOf(' {"') : -1;
  if (at >= 0) {
    const json = dressJson(host.slice(at + 1).trim(), message, level);
    if (json !== null) return host.slice(0, at + 1) + json;
  }
  const kv = LOGFMT_MSG.exec(host);
  if (kv !== null && (host.match(/(^|\s)[\w.]+=/g) ?? []).length >= 2) {
    const from = kv.index + kv[1].length;
    const rest = host.slice(from + kv[0].length - kv[1].length);
    const mark = `msg="${PLACEHOLDER}"`;
    const leveled = raiseLevel(host.slice(0, from) + mark + rest, host.length, level); // the level key, not the message
    const cut = leveled.indexOf(mark);
    return leveled.slice(0, cut) + 'msg=' + JSON.stringify(message) + leveled.slice(cut + mark.length);
  }
  const start = messageStart(host);
  if (start < 0) return null;
  const quoted = host[start] === '"' ? JSON.stringify(message) : message;
  // the level is raised on the header with a neutral message, so the engine reads the header's level only
  const raised = raiseLevel(host.slice(0, start) + PLACEHOLDER, start, level);
  return raised.slice(0, raised.length - PLACEHOLDER.length) + quoted;
}

export interface Injection {
  /** The test lines: the host's second half with the injected lines inserted. */
  lines: string[];
  /** injected[i]: line i is an injected failure. */
  injected: boolean[];
  /** Source system of each injected line, in order of appearance. */
  sources: string[];
}

/**
 * Header lines of `hostLines` to dress a failure of level `level` in: lines whose level (read by the engine's
 * tokenizer) is the most severe one the host shows that is not above the failure's own; in a log whose lines
 * mostly carry no level, lines without one. A real failure in the host would be logged at its error level,
 * so this is the header it would wear. A level-less line with a word in the header field where other lines carry
 * their level (PostgreSQL's `LOG:` beside `ERROR:`) counts as leveled: its log spells levels, some the engine
 * does not read.
 */
export function headerPool(hostLines: readonly string[], level: number): string[] {
  const dressable = hostLines.filter((l) => dress(l, 'x') !== null);
  const levels = dressable.map((l) => tokenize(l).level);
  const shapes = dressable.map(headerShape);
  // where leveled lines keep their level: a word in that field of a level-less line is a level too (LOG:)
  const slots = new Set(shapes.map((s, i) => (levels[i] !== NO_LEVEL && s !== null && s.slot >= 0 ? `${s.fields.length}:${s.slot}` : '')));
  const inSlot = (i: number): boolean => {
    const s = shapes[i];
    return s !== null && s.fields.some((f, k) => slots.has(`${s.fields.length}:${k}`) && /^[[(]?[A-Za-z]+[\]):]?$/.test(f));
  };
  const leveled = levels.filter((l, i) => l !== NO_LEVEL || inSlot(i)).length;
  if (leveled * 2 < dressable.length) return dressable.filter((_, i) => levels[i] === NO_LEVEL);
  const present = [...new Set(levels.filter((l) => l !== NO_LEVEL))];
  const notAbove = present.filter((l) => l <= level);
  const target = notAbove.length > 0 ? Math.max(...notAbove) : Math.min(...present);
  return dressable.filter((_, i) => levels[i] === target);
}

/** The header fields of a text line and the index of the field the engine read the level from (-1: none). */
function headerShape(line: string): { fields: string[]; slot: number } | null {
  if (line.trimStart().startsWith('{')) return null;
  const start = messageStart(line);
  if (start < 0) return null;
  const fields = tokens(line.slice(0, start), HEADER_SCAN_TOKENS + 6);
  const span = levelSpan(line);
  const slot = span === null ? -1 : fields.findIndex((f) => span[0] >= f.start && span[1] <= f.end);
  return { fields: fields.map((f) => f.text), slot };
}

/** A host log none of whose lines has a message part (e.g. JSON access records without a message member). */
export class NotInjectable extends Error {}

/**
 * Picks `count` failures (not from `hostSystem`), balanced over their source systems, dresses each in a
 * random header line of the host and inserts them at random positions of `testLines`. Same seed, same result.
 */
export function inject(
  testLines: readonly string[],
  hostLines: readonly string[],
  hostSystem: string,
  failures: readonly FailureMessage[],
  count: number,
  seed: number,
  /** false: keep the host header's own level (a failure logged at the host's everyday level). */
  raiseLevel = true,
): Injection {
  const rng = new SeededRandom(seed);
  const bySystem = new Map<string, FailureMessage[]>();
  const host = hostSystem.toLowerCase();
  for (const f of failures) if (f.system.toLowerCase() !== host) bySystem.set(f.system, [...(bySystem.get(f.system) ?? []), f]);
  const chosen: FailureMessage[] = [];
  const systems = [...bySystem.keys()].sort();
  while (chosen.length < count && systems.some((s) => bySystem.get(s)!.length > 0)) {
    for (const s of shuffle(systems, rng)) {
      const left = bySystem.get(s)!;
      if (left.length === 0 || chosen.length >= count) continue;
      chosen.push(left.splice(rng.nextInt(left.length), 1)[0]);
    }
  }
  const pools = new Map<number, string[]>();
  const dressed = chosen.map((f) => {
    let pool = pools.get(f.level);
    if (pool === undefined) pools.set(f.level, (pool = headerPool(hostLines, f.level)));
    if (pool.length === 0) throw new NotInjectable(`no line of ${hostSystem} has a message part to replace`);
    return { line: dress(pool[rng.nextInt(pool.length)], f.message, raiseLevel ? f.level : NO_LEVEL)!, system: f.system };
  });
  const at = dressed.map(() => rng.nextInt(testLines.length + 1)).sort((a, b) => a - b);
  const lines: string[] = [];
  const injected: boolean[] = [];
  const sources: string[] = [];
  let k = 0;
  for (let i = 0; i <= testLines.length; i++) {
    while (k < dressed.length && at[k] === i) {
      lines.push(dressed[k].line);
      injected.push(true);
      sources.push(dressed[k].system);
      k++;
    }
    if (i < testLines.length) {
      lines.push(testLines[i]);
      injected.push(false);
    }
  }
  return { lines, injected, sources };
}

function shuffle<T>(items: readonly T[], rng: SeededRandom): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
