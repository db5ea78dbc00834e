// Tokenizer: splits a log line into words, masks the variable parts by type and reads the log level.
//
// It is the hot path of scoring, so `LineScanner.scan` walks the line once by char code, records token
// boundaries in typed arrays and computes a 53-bit hash of the masked template WITHOUT building strings. The
// scorer looks that hash up in its cache and only calls `words()` / `template()` for templates it has not seen.
//
// Structured lines need no separate parser: keys of logfmt (`key=value`) and JSON (`"key":value`) are plain
// words, their values are masked by the same type rules, and quoted message text splits into words. The level
// is read from klog's first letter, a `level=`/`"level":` style key, a bracketed `[ERROR]`, or a bare
// upper-case level word near the start of the line.

import { NO_LEVEL, klogRank, levelRank } from './levels';

export const enum TokenKind {
  Word = 0,
  Num = 1,
  Hex = 2,
  Ip = 3,
  Uuid = 4,
  Ts = 5,
  Dur = 6,
  Path = 7,
  Id = 8,
}

/** Placeholder written into templates and word lists for each masked kind. */
export const MASKS: readonly string[] = ['', '<NUM>', '<HEX>', '<IP>', '<UUID>', '<TS>', '<DUR>', '<PATH>', '<ID>'];

const MAX_TOKENS = 256;
/** Tokens searched for a level (levels sit near the start; JSON keys may precede them). */
const LEVEL_SEARCH_TOKENS = 24;
export const DEFAULT_MAX_LINE_LENGTH = 4096;

// Character classes, indexed by char code (< 128). Everything >= 128 is a word character.
const C_WORD = 0;
const C_SPACE = 1;
const C_DELIM = 2;
const C_DOT = 3;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) CLASS[c] = c <= 32 || c === 127 ? C_SPACE : C_WORD;
for (const ch of '"\'`,;=(){}[]<>|:!?*') CLASS[ch.charCodeAt(0)] = C_DELIM;
CLASS[46] = C_DOT; // '.': inside tokens (1.5, http.go), a delimiter in runs ("instruction......0") and at the end

const LEVEL_KEYS = new Set(['level', 'lvl', 'severity', 'loglevel', 'log_level', 'levelname', 'log.level']);
const DURATION_UNITS = new Set(['ns', 'us', 'µs', 'ms', 's', 'm', 'h', 'd', 'min', 'sec', 'secs']);
const SIZE_UNITS = new Set(['b', 'k', 'kb', 'kib', 'mb', 'mib', 'g', 'gb', 'gib', 'tb', 'tib', 'x', '%']);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** Capitalised day and month abbreviations (Mon, Dec): parts of syslog-style timestamps. */
const CALENDAR_WORDS = new Set(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun', 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']);

function isCalendarWord(line: string, start: number): boolean {
  const c = line.charCodeAt(start);
  return c >= 65 && c <= 90 && CALENDAR_WORDS.has(line.slice(start, start + 3));
}

/** True when every character is an upper-case ASCII letter (bare level words: INFO, ERROR). */
function isUpperAscii(line: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** True when the token has an ASCII letter (a path) rather than only digits and separators (17/06/09). */
function hasLetterBetween(line: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (isLetter(line.charCodeAt(i))) return true;
  return false;
}

/**
 * Classifies a token that contains a digit (or looks like a path or a long hex run) by the shape of its text.
 * Only called for tokens that are not plain words, so it may look at the text a second time.
 */
function classifyVariable(line: string, start: number, end: number): TokenKind {
  let digits = 0;
  let dots = 0;
  let dashes = 0;
  let colons = 0;
  let hexLetters = 0;
  let otherLetters = 0;
  let other = 0;
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (c === 46) dots++;
    else if (c === 45) dashes++;
    else if (c === 58) colons++;
    else if (isHexLetter(c)) hexLetters++;
    else if (isLetter(c)) otherLetters++;
    else other++;
  }
  const len = end - start;
  let first = start;
  const c0 = line.charCodeAt(start);
  if ((c0 === 45 || c0 === 43) && len > 1) first++; // sign
  if (digits === 0) return TokenKind.Hex; // long run of hex letters only (ffffffff)
  if (hexLetters === 0 && otherLetters === 0 && other === 0) {
    if (dots === 3 && dashes === 0 && colons === 0 && len <= 15) return TokenKind.Ip;
    if (dashes + dots + colons === 0 || (dots <= 1 && dashes === (first > start ? 1 : 0) && colons === 0)) {
      return TokenKind.Num;
    }
    return TokenKind.Ts; // 2005.06.03, 2005-06-03-15.42.50.675872, 12:04:17
  }
  // 0x1f, deadbeef01, 32-char request ids
  const hexStart = line.charCodeAt(first) === 48 && (line.charCodeAt(first + 1) | 32) === 120 ? first + 2 : first;
  if (otherLetters === 0 && other === 0 && dots === 0 && colons === 0) {
    if (len === 36 && dashes === 4 && line.charCodeAt(start + 8) === 45 && line.charCodeAt(start + 23) === 45) {
      return TokenKind.Uuid;
    }
    if (dashes === 0 && (hexStart > first || len >= 6)) return TokenKind.Hex;
  } else if (hexStart > first && otherLetters === 1 && other === 0 && dots + dashes + colons === 0) {
    return TokenKind.Hex; // 0x... counts the x as a letter
  }
  // number with a unit suffix: 1.604732ms, 64K, 10s
  let j = first;
  while (j < end && (isDigit(line.charCodeAt(j)) || line.charCodeAt(j) === 46)) j++;
  if (j > first && j < end && end - j <= 4) {
    let lettersOnly = true;
    for (let k = j; k < end; k++) if (!isLetter(line.charCodeAt(k)) && line.charCodeAt(k) !== 181) lettersOnly = false;
    if (lettersOnly) {
      const unit = line.slice(j, end).toLowerCase();
      if (DURATION_UNITS.has(unit)) return TokenKind.Dur;
      if (SIZE_UNITS.has(unit)) return TokenKind.Num;
    }
  }
  if (otherLetters + hexLetters <= 2 && other === 0 && digits >= 4) {
    // timestamps with T/Z: 2024-05-02T12, 22.01212206Z
    let tsLike = true;
    for (let k = start; k < end; k++) {
      const c = line.charCodeAt(k);
      if (isLetter(c) && c !== 84 && c !== 90) tsLike = false;
    }
    if (tsLike && dots + dashes + colons > 0) return TokenKind.Ts;
  }
  return TokenKind.Id;
}

/**
 * Reusable scanner: one instance per thread; `scan` overwrites the previous result. Not re-entrant.
 */
export class LineScanner {
  readonly starts = new Int32Array(MAX_TOKENS);
  readonly ends = new Int32Array(MAX_TOKENS);
  readonly kinds = new Uint8Array(MAX_TOKENS);
  count = 0;
  /** Level rank found in the line (see levels.ts) or NO_LEVEL. */
  level = NO_LEVEL;
  /** Index of the token the level was read from (-1 when none): it is not also a failure word. */
  levelToken = -1;
  /** 53-bit hash of the template (exactly the string `template()` builds, so equal templates hash equal). */
  hash = 0;
  private line = '';
  private scanEnd = 0;

  constructor(private readonly maxLineLength = DEFAULT_MAX_LINE_LENGTH) {}

  scan(line: string): this {
    this.line = line;
    this.count = 0;
    this.level = NO_LEVEL;
    this.levelToken = -1;
    // Two independent 32-bit FNV-style hashes, kept in locals (this is the hottest loop of scoring). Word
    // tokens are hashed on their own first (t1, t2) and folded in only if the token stays a word.
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    const end = line.length < this.maxLineLength ? line.length : this.maxLineLength;
    this.scanEnd = end;
    let i = 0;
    let pendingSpace = false;
    let emittedAny = false;
    let levelKey = false; // the previous token was a level key (level=, "level":)

    // klog header: I0507 12:04:17.597069 ... The letter is the level; the date after it is masked.
    if (
      end > 6 &&
      klogRank(line.charCodeAt(0)) !== NO_LEVEL &&
      isDigit(line.charCodeAt(1)) && isDigit(line.charCodeAt(2)) && isDigit(line.charCodeAt(3)) &&
      isDigit(line.charCodeAt(4)) && CLASS[line.charCodeAt(5)] === C_SPACE
    ) {
      this.level = klogRank(line.charCodeAt(0));
      this.levelToken = 0;
      this.push(0, 1, TokenKind.Word);
      h1 = Math.imul(h1 ^ line.charCodeAt(0), 0x01000193);
      h2 = Math.imul(h2 ^ line.charCodeAt(0), 0x5bd1e995);
      this.push(1, 5, TokenKind.Num);
      h1 = Math.imul(h1 ^ (0x10000 + TokenKind.Num), 0x01000193);
      h2 = Math.imul(h2 ^ (0x10000 + TokenKind.Num), 0x5bd1e995);
      emittedAny = true;
      i = 5;
    }

    while (i < end) {
      const c = line.charCodeAt(i);
      const cls = c < 128 ? CLASS[c] : C_WORD;
      if (cls === C_SPACE) {
        pendingSpace = emittedAny;
        i++;
        continue;
      }
      const isRunDot = cls === C_DOT && (i + 1 >= end || line.charCodeAt(i + 1) === 46 || CLASS[line.charCodeAt(i + 1)] !== C_WORD);
      if (cls === C_DELIM || isRunDot || cls === C_DOT) {
        // delimiters (and a dot that starts a token, ".hidden") are part of the template
        if (pendingSpace) {
          h1 = Math.imul(h1 ^ 32, 0x01000193);
          h2 = Math.imul(h2 ^ 32, 0x5bd1e995);
          pendingSpace = false;
        }
        h1 = Math.imul(h1 ^ c, 0x01000193);
        h2 = Math.imul(h2 ^ c, 0x5bd1e995);
        emittedAny = true;
        i++;
        continue;
      }
      // a token: word characters, single inner dots and apostrophes between letters
      const start = i;
      let hasDigit = false;
      let hasSlash = false;
      let allHex = true;
      let onlyDigits = true;
      let t1 = 0x811c9dc5;
      let t2 = 0x050c5d1f;
      while (i < end) {
        const d = line.charCodeAt(i);
        const dc = d < 128 ? CLASS[d] : C_WORD;
        if (dc === C_WORD) {
          if (d >= 48 && d <= 57) hasDigit = true;
          else {
            onlyDigits = false;
            if (d === 47) hasSlash = true;
            else if (allHex && !isHexLetter(d)) allHex = false;
          }
        } else if (d === 39 && i + 1 < end && isLetter(line.charCodeAt(i - 1)) && isLetter(line.charCodeAt(i + 1))) {
          allHex = false; // can't, couldn't
        } else if (dc === C_DOT && i + 1 < end) {
          const n = line.charCodeAt(i + 1);
          if ((n < 128 ? CLASS[n] : C_WORD) !== C_WORD) break;
          onlyDigits = false;
        } else break;
        t1 = Math.imul(t1 ^ d, 0x01000193);
        t2 = Math.imul(t2 ^ d, 0x5bd1e995);
        i++;
      }
      const len = i - start;
      let kind: TokenKind;
      if (hasSlash && len > 1) kind = hasDigit && !hasLetterBetween(line, start, i) ? TokenKind.Ts : TokenKind.Path;
      else if (hasDigit) kind = onlyDigits ? TokenKind.Num : classifyVariable(line, start, i);
      else if (allHex && len >= 8) kind = TokenKind.Hex;
      else if (len === 3 && isCalendarWord(line, start)) kind = TokenKind.Ts;
      else kind = TokenKind.Word;
      if (this.count >= MAX_TOKENS) break;
      if (pendingSpace) {
        h1 = Math.imul(h1 ^ 32, 0x01000193);
        h2 = Math.imul(h2 ^ 32, 0x5bd1e995);
        pendingSpace = false;
      }
      emittedAny = true;
      const index = this.count;
      this.push(start, i, kind);
      if (kind === TokenKind.Word) {
        h1 = Math.imul(h1 ^ t1, 0x01000193);
        h2 = Math.imul(h2 ^ t2, 0x5bd1e995);
        if (this.level === NO_LEVEL && index < LEVEL_SEARCH_TOKENS) levelKey = this.readLevel(start, i, levelKey);
      } else {
        h1 = Math.imul(h1 ^ (0x10000 + kind), 0x01000193);
        h2 = Math.imul(h2 ^ (0x10000 + kind), 0x5bd1e995);
        levelKey = false;
      }
    }
    // 53 bits: 32 from h1, 21 from h2
    this.hash = (h1 >>> 0) * 0x200000 + ((h2 ^ (h2 >>> 13)) & 0x1fffff);
    return this;
  }

  private push(start: number, end: number, kind: TokenKind): void {
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.kinds[this.count] = kind;
    this.count++;
  }

  /** Looks for a level in a word token; returns whether this token is a level key (so the next is its value). */
  private readLevel(start: number, end: number, afterLevelKey: boolean): boolean {
    const len = end - start;
    if (len < 3 || len > 13) return false;
    const line = this.line;
    const before = start > 0 ? line.charCodeAt(start - 1) : 0;
    const after = end < this.scanEnd ? line.charCodeAt(end) : 0;
    const bracketed = before === 91 && after === 93;
    const c0 = line.charCodeAt(start) | 32;
    const upper = len >= 4 && len <= 8 && isUpperAscii(line, start, end);
    // cheap exits before any string is built: only level keys (level, lvl, log…, severity) and candidates
    if (!afterLevelKey && !bracketed && !upper && c0 !== 108 && c0 !== 115) return false;
    const word = line.slice(start, end);
    if (afterLevelKey || bracketed || upper) {
      const rank = levelRank(word);
      if (rank !== NO_LEVEL) {
        this.level = rank;
        this.levelToken = this.count - 1;
        return false;
      }
    }
    if (LEVEL_KEYS.has(word.toLowerCase())) {
      // level=info, "level":"info", level: info
      let k = end;
      while (k < this.scanEnd && (line.charCodeAt(k) === 34 || line.charCodeAt(k) === 39)) k++;
      const sep = line.charCodeAt(k);
      return sep === 61 || sep === 58;
    }
    return false;
  }

  /** Words of the scanned line for the models: kept words lower-cased, masked tokens as their placeholder. */
  words(): string[] {
    const out = new Array<string>(this.count);
    for (let t = 0; t < this.count; t++) {
      const kind = this.kinds[t];
      out[t] = kind === TokenKind.Word ? this.line.slice(this.starts[t], this.ends[t]).toLowerCase() : MASKS[kind];
    }
    return out;
  }

  /** The level token as it appears in words() (lower-cased), or null. */
  levelWord(): string | null {
    if (this.levelToken < 0) return null;
    return this.line.slice(this.starts[this.levelToken], this.ends[this.levelToken]).toLowerCase();
  }

  /** Masked template: the line with variable tokens replaced by placeholders and whitespace runs collapsed. */
  template(): string {
    const line = this.line;
    let out = '';
    let pos = 0;
    let pendingSpace = false;
    let emittedAny = false;
    const appendGap = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        const c = line.charCodeAt(i);
        if ((c < 128 ? CLASS[c] : C_WORD) === C_SPACE) {
          pendingSpace = emittedAny;
        } else {
          if (pendingSpace) out += ' ';
          pendingSpace = false;
          out += line[i];
          emittedAny = true;
        }
      }
    };
    for (let t = 0; t < this.count; t++) {
      const start = this.starts[t];
      const end = this.ends[t];
      appendGap(pos, start);
      if (pendingSpace) out += ' ';
      pendingSpace = false;
      const kind = this.kinds[t];
      out += kind === TokenKind.Word ? line.slice(start, end) : MASKS[kind];
      emittedAny = true;
      pos = end;
    }
    if (this.count < MAX_TOKENS) appendGap(pos, this.scanEnd);
    return out;
  }
}

const shared = new LineScanner();

/** Masked template of a line; no model needed (the near-duplicate key for feedback and grouping). */
export function templateOf(line: string): string {
  return shared.scan(line).template();
}

/** Words, template and level of one line (allocates; use LineScanner directly in hot loops). */
export function tokenize(line: string): { words: string[]; template: string; level: number } {
  const s = shared.scan(line);
  return { words: s.words(), template: s.template(), level: s.level };
}
