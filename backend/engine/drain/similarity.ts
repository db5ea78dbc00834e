// How alike a line is to a template, position by position (both have the same number of tokens).
//
// Positions where both sides are placeholders (masked <NUM>, <TS>… or a wildcard) say nothing about which
// event a line is: every line of a syslog-style log starts with the same masked date and time. Counting them
// as equal makes all lines of one length look alike, so only positions with a literal word on at least one
// side are compared. For the same reason an equal word that other templates also hold at that position (`RAS`,
// `KERNEL`, `INFO`: a field of the log's format) is not evidence either: otherwise a template whose own words
// have all become wildcards keeps matching every line of its length on its header alone, and absorbs them
// (BGL's `RAS KERNEL <*> <*> <*> <*>`). Two different such words are no evidence either (below).

import { WILDCARD } from './config';
import { isDelimiter } from './tokens';

/** True for a masked placeholder or the wildcard: `<NUM>`, `<IP>`, `<*>` … */
export function isPlaceholder(token: string): boolean {
  return token.length >= 3 && token.charCodeAt(0) === 60 /* < */ && token.charCodeAt(token.length - 1) === 62 /* > */;
}

/**
 * A boolean or a null (`true`, `False`, `null`, `nil`, `(null)`, `<null>`) from `from` to the end of `word`, a
 * trailing `,` or `;` allowed (`allDrawn= false,`): a state or the absence of a value, never the name of an event, so
 * a word position or a named field holding one is a parameter. No string is built: the miner asks for every
 * mismatch it meets.
 */
export function isValueLiteral(word: string, from = 0): boolean {
  const n = word.length - from;
  if (n < 3 || n > 7) return false; // nil … <null>,
  const last = word.charCodeAt(word.length - 1);
  const end = last === 44 /* , */ || last === 59 /* ; */ ? word.length - 1 : word.length;
  for (const spelled of VALUE_LITERALS) {
    if (end - from !== spelled.length) continue;
    let i = 0;
    // lower-casing by | 32 maps only the letter's own capital onto it (and leaves ( ) < > as they are)
    while (i < spelled.length && (word.charCodeAt(from + i) | 32) === spelled.charCodeAt(i)) i++;
    if (i === spelled.length) return true;
  }
  return false;
}
const VALUE_LITERALS = ['true', 'false', 'null', 'nil', '(null)', '<null>'];

/** True for a token that holds a placeholder anywhere: `<IP>,`, `LOCAL(<NUM>)`, `uid=<NUM>` … */
export function hasPlaceholder(token: string): boolean {
  const open = token.indexOf('<');
  return open >= 0 && token.indexOf('>', open + 2) > 0;
}

/**
 * Two `key=value` words with the same key, one of whose values is evidently a variable: it holds a masked
 * placeholder or a dot (a host, file or class name). `user=root` and `user=guest` stay different words.
 */
function sameKeyVariable(a: string, b: string): boolean {
  const eq = a.indexOf('=');
  if (eq <= 0 || eq === a.length - 1 || b.length <= eq + 1 || b.charCodeAt(eq) !== 61) return false;
  for (let i = 0; i < eq; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return isVariableValue(a, eq + 1) || isVariableValue(b, eq + 1);
}

/** The value from `from` on holds a dot after its first character, or a placeholder (no string is built). */
function isVariableValue(word: string, from: number): boolean {
  if (word.indexOf('.', from) > from || isValueLiteral(word, from)) return true;
  const open = word.indexOf('<', from);
  return open >= 0 && word.indexOf('>', open + 2) > 0;
}

export interface Similarity {
  /** Share of informative positions that are equal (1 when there are none). */
  score: number;
  /** Wildcards of the template: fewer wins a tie (the more specific template). */
  wildcards: number;
}

/** Bits of `lineFlags[i]`: the line's word at i is shared (isShared), and it is a boolean or a null. */
export const LINE_SHARED = 1;
export const LINE_VALUE_LITERAL = 2;

/** The flags of one line word (see LINE_SHARED, LINE_VALUE_LITERAL). */
export function lineFlagsOf(position: number, word: string, isShared: (position: number, word: string) => boolean): number {
  return (isShared(position, word) ? LINE_SHARED : 0) | (isValueLiteral(word) ? LINE_VALUE_LITERAL : 0);
}

/**
 * `lineFlags[i]`, when given, is `lineFlagsOf(i, tokens[i], isShared)`, computed once per line by the caller: a line
 * is compared with every template of its leaf, and most of its words (in a high-cardinality log, all of them) are
 * held by no other template and are no boolean, so the template side is then never looked up.
 */
export function similarity(
  template: readonly string[],
  tokens: readonly string[],
  out: Similarity,
  isShared: (position: number, word: string) => boolean = () => false,
  lineFlags?: ArrayLike<number>,
  need = 0,
): Similarity {
  let informative = 0;
  let equal = 0;
  let wildcards = 0;
  const n = tokens.length;
  // Only a position whose words are the same can add to `equal`: counting them first (plain string equality,
  // cheap) bounds what the positions still to come can add, so a template that shares no word with the line
  // (every template, for a line of free text) is left at its first informative position instead of half-way.
  let sameLeft = 0;
  for (let i = 0; i < n; i++) if (template[i] === tokens[i]) sameLeft++;
  for (let i = 0; i < n; i++) {
    const t = template[i];
    const w = tokens[i];
    if (t === w) sameLeft--;
    if (t === WILDCARD) {
      wildcards++;
      // A wildcard stands for a varying word: the line's word fits it, but it is evidence of nothing.
      continue;
    }
    // A delimiter on both sides is structure, not evidence (tokens.ts).
    if (t === w && isDelimiter(t)) continue;
    const tp = isPlaceholder(t);
    const wp = isPlaceholder(w);
    if (tp && wp) {
      if (t === w) continue;
      informative++;
      if (cannotReach(equal, informative, sameLeft, need)) return abandon(out);
      continue;
    }
    const flags = lineFlags === undefined ? lineFlagsOf(i, w, isShared) : lineFlags[i];
    const wShared = (flags & LINE_SHARED) !== 0;
    if (t === w && wShared) continue;
    // Two values of a header field (both held by other templates there: `chrome.exe` / `git.exe`) are no
    // evidence against either. Otherwise, once an event's own words are shared (the same event written at
    // another length holds them too), only such fields would be compared, every new value would start a
    // template, and each new template would make more words shared: a loop that mined ~70 templates from
    // one proxy log's 4 events (miner.test.ts).
    if (t !== w && wShared && isShared(i, t)) continue;
    // the same named field holding a variable (rhost=<IP>, rhost=zummit.com): a parameter, like a wildcard
    if (t !== w && sameKeyVariable(t, w)) continue;
    // two booleans or nulls: a state the event reports, not which event it is
    if (t !== w && (flags & LINE_VALUE_LITERAL) !== 0 && isValueLiteral(t)) continue;
    informative++;
    if (t === w) equal++;
    else if (cannotReach(equal, informative, sameLeft, need)) return abandon(out);
  }
  out.score = informative === 0 ? 1 : equal / informative;
  out.wildcards = wildcards;
  return out;
}

/**
 * Even if every position still to come whose words are the same counted as equal, the score would stay below `need`:
 * the caller (the miner's search of a leaf) has no use for it, so the comparison stops there. Without this, a
 * line that matches nothing (every line of a high-cardinality log) is compared in full with each template of
 * its leaf.
 */
function cannotReach(equal: number, informative: number, sameLeft: number, need: number): boolean {
  // At best every one of the `sameLeft` positions still to come whose words are equal adds to both counts, and
  // no other position adds to `equal`. The same division as the final score, so a template that would tie
  // `need` exactly is never left.
  return (equal + sameLeft) / (informative + sameLeft) < need;
}

function abandon(out: Similarity): Similarity {
  out.score = -1;
  out.wildcards = Infinity;
  return out;
}
