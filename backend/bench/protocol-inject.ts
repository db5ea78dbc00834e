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

interface Token {
  text: string;
  end: number;
}

/** Whitespace tokens with their end offsets; a '[' … ']' group spanning several tokens is one token. */
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
    out.push({ text, end });
  }
  return out;
}

function isLevelWord(t: string): boolean {
  return WORD_TO_RANK.has(t.replace(/^\[|\]$/g, '').toLowerCase());
}

function isTerminator(t: string): boolean {
  return t.endsWith(':') || t.endsWith(']') || t === '-' || isLevelWord(t);
}

/** Offset where the message part of a plain-text line starts, or -1 when no header is found. */
export function messageStart(line: string): number {
  // fields glued by `|` (`time|component|pid|message …`, as the miner splits them): the message follows the last
  const head = /^\S*/.exec(line)![0];
  if (head.split('|').length > 2 && !head.endsWith('|')) return head.lastIndexOf('|') + 1;
  const toks = tokens(line, HEADER_SCAN_TOKENS + 4);
  const first = toks.findIndex((t, i) => i < HEADER_SCAN_TOKENS && isTerminator(t.text));
  if (first < 0) return -1;
  let last = first;
  let sawLevel = isLevelWord(toks[first].text);
  while (last + 1 < toks.length) {
    const t = toks[last + 1].text;
    if (!(isTerminator(t) || t.startsWith('[') || DOTTED_COMPONENT.test(t))) break;
    if (isLevelWord(t)) {
      if (sawLevel) break; // a second level word starts the message ("ERROR IN CONTACTING RM")
      sawLevel = true;
    }
    last++;
  }
  if (last + 1 >= toks.length) return -1; // nothing left for a message
  let start = toks[last].end;
  while (start < line.length && /\s/.test(line[start])) start++;
  return start;
}

const LOGFMT_MSG = /(^|\s)msg=("(?:[^"\\]|\\.)*"|\S*)/;
const LOGFMT_LEVEL = /(^|\s)(level|lvl|severity)=("?)(\w+)\3/;
const KLOG = /^[IWEF](\d{4} )/;
/** logcat threadtime: date, time, pid, tid, then the priority letter. */
const LOGCAT = /^(\S+\s+\S+\s+\d+\s+\d+\s+)[VDIWEFA](?= )/;

/** `word` spelled like `like` (upper, lower or capitalised). */
function sameCase(word: string, like: string): string {
  if (like === like.toUpperCase()) return word.toUpperCase();
  if (like[0] === like[0].toUpperCase()) return word[0].toUpperCase() + word.slice(1);
  return word;
}

/** The level in `header` raised to `level` where the header spells one (key, klog or logcat letter, level word). */
function raiseLevel(header: string, level: number): string {
  if (level < 0 || tokenize(header).level >= level) return header;
  const name = LEVEL_NAMES[level];
  if (KLOG.test(header)) return (level >= 6 ? 'F' : level === 5 ? 'E' : 'W') + header.slice(1);
  if (LOGCAT.test(header)) return header.replace(LOGCAT, (_m, pre: string) => pre + (level >= 6 ? 'F' : level === 5 ? 'E' : 'W'));
  if (LOGFMT_LEVEL.test(header)) {
    return header.replace(LOGFMT_LEVEL, (_m, pre: string, key: string, q: string, v: string) => `${pre}${key}=${q}${sameCase(name, v)}${q}`);
  }
  let done = false;
  return header.replace(/\S+/g, (t) => {
    const bare = t.replace(/^\[|\]$/g, '');
    if (done || !WORD_TO_RANK.has(bare.toLowerCase())) return t;
    done = true;
    return t.replace(bare, sameCase(name, bare));
  });
}

/**
 * `host` with its message part replaced by `message`, and its level raised to `level` (a rank) when the
 * host's own level is lower: a failure in the host would be logged at its failure level. Null when no message
 * part is found.
 */
export function dress(host: string, message: string, level = NO_LEVEL): string | null {
  const trimmed = host.trim();
  if (trimmed.startsWith('{')) {
    try {
      const obj = JSON.parse(trimmed) as Record<string, unknown>;
      // the member the miner reads as the message (Docker's `log`, `message`, `msg`, …)
      const key = MESSAGE_KEYS.find((k) => typeof obj[k] === 'string');
      if (key === undefined) return null;
      obj[key] = message;
      const lk = LEVEL_KEY_NAMES.find((k) => typeof obj[k] === 'string' || typeof obj[k] === 'number');
      if (lk !== undefined && level > tokenize(JSON.stringify({ [lk]: obj[lk] })).level) {
        // pino's numbers (40 warn, 50 error, 60 fatal), or a level word spelled as the host spells it
        obj[lk] = typeof obj[lk] === 'number' ? (level >= 6 ? 60 : level === 5 ? 50 : 40) : sameCase(LEVEL_NAMES[level], String(obj[lk]));
      }
      return JSON.stringify(obj);
    } catch {
      // not JSON after all: fall through to the text rules
    }
  }
  const kv = LOGFMT_MSG.exec(host);
  if (kv !== null && (host.match(/(^|\s)[\w.]+=/g) ?? []).length >= 2) {
    const at = kv.index + kv[1].length;
    const rest = host.slice(at + kv[0].length - kv[1].length);
    const leveled = raiseLevel(host.slice(0, at) + 'msg=""' + rest, level); // the level key, not the message
    const cut = leveled.indexOf('msg=""');
    return leveled.slice(0, cut) + 'msg=' + JSON.stringify(message) + leveled.slice(cut + 6);
  }
  const start = messageStart(host);
  if (start < 0) return null;
  const quoted = host[start] === '"' ? JSON.stringify(message) : message;
  return raiseLevel(host.slice(0, start), level) + quoted;
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
 * so this is the header it would wear.
 */
export function headerPool(hostLines: readonly string[], level: number): string[] {
  const dressable = hostLines.filter((l) => dress(l, 'x') !== null);
  const levels = dressable.map((l) => tokenize(l).level);
  const leveled = levels.filter((l) => l !== NO_LEVEL).length;
  if (leveled * 2 < dressable.length) return dressable.filter((_, i) => levels[i] === NO_LEVEL);
  const present = [...new Set(levels.filter((l) => l !== NO_LEVEL))];
  const notAbove = present.filter((l) => l <= level);
  const target = notAbove.length > 0 ? Math.max(...notAbove) : Math.min(...present);
  return dressable.filter((_, i) => levels[i] === target);
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
