// Tokenizer: splits a log line into words, masks the variable parts by type and reads the log level.
//
// It is the hot path of scoring, so `LineScanner.scan` walks the line once by char code, records token
// boundaries in typed arrays and computes a 53-bit hash of the masked template WITHOUT building strings. The
// scorer looks that hash up in its cache and only calls `words()` / `template()` for templates it has not seen.
//
// Structured lines need no separate parser: keys of logfmt (`key=value`) and JSON (`"key":value`) are plain
// words, their values are masked by the same type rules, and quoted message text splits into words. The level
// is read from klog's first letter, a `level=`/`"level":` style key, a bracketed `[ERROR]`, a bare
// upper-case level word near the start of the line, a capitalised one followed by a colon or a padded column
// (`Warning:`, `Info    `), logcat's letter after its pid and tid columns, or pino's `"level":50`; session 11:
// a syslog <PRI>, GELF's `"level":3`, Apache 2.4's `[module:level]`, MySQL's `[Note]`, Redis's level character,
// and klog's header inside a CRI container line or a Docker json-file `log`.

import { FIELD_LEVEL_WORDS, LEVEL_KEY_NAMES, NO_LEVEL, WORD_TO_RANK, klogRank, logcatRank, redisRank, syslogRank } from './levels';

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

// Character table, indexed by UTF-16 code unit (64 KB, so no range check in the hot loops). The high bits are
// the class (none = a word character; everything >= 128 is a word character); the low bits describe a word
// character for the token classifier.
const K_SPACE = 0x10;
const K_DELIM = 0x20;
const K_DOT = 0x40; // '.': inside tokens (1.5, http.go), a delimiter in runs ("instruction......0") and at the end
const K_NOT_WORD = K_SPACE | K_DELIM | K_DOT;
const P_DIGIT = 1;
const P_SLASH = 2;
const P_NOT_HEX = 4; // neither a digit, a hex letter nor '/'
const P_NOT_DIGIT = 8;
const P_NOT_ASCII = 0x80; // code >= 128: tells `scanAscii` that the bytes were not ASCII after all
const P_INNER_DOT = 0x100; // set by the scan loop, not in the table
const TABLE = new Uint8Array(65536);
for (let c = 0; c < 65536; c++) {
  if (c <= 32 || c === 127) TABLE[c] = K_SPACE;
  else if (c >= 48 && c <= 57) TABLE[c] = P_DIGIT;
  else if (c === 47) TABLE[c] = P_SLASH | P_NOT_DIGIT;
  // a backslash separates path parts as a slash does (C:\Windows\servicing\Packages, ACPI's \_SB_.PCI0)
  else if (c === 92) TABLE[c] = P_SLASH | P_NOT_HEX | P_NOT_DIGIT;
  else if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) TABLE[c] = P_NOT_DIGIT;
  else TABLE[c] = P_NOT_HEX | P_NOT_DIGIT | (c >= 128 ? P_NOT_ASCII : 0);
}
for (const ch of '"\'`,;=(){}[]<>|:!?*') TABLE[ch.charCodeAt(0)] = K_DELIM;
TABLE[46] = K_DOT;

/** True for a code that is whitespace or a control character (collapsed to one space in templates). */
function isSpace(c: number): boolean {
  return (TABLE[c] & K_SPACE) !== 0;
}

/**
 * A small set of lower-case ASCII words, looked up case-insensitively straight from code units (no string is
 * built): a hash of the lower-cased codes picks a candidate, which is then compared. Equals
 * `map.get(text.toLowerCase())` for these words (no non-ASCII character lower-cases to a string of them).
 */
class CodeWordMap {
  private readonly byKey = new Map<number, number>();
  private readonly words: string[] = [];
  private readonly values: number[] = [];

  constructor(entries: Iterable<[string, number]>) {
    for (const [word, value] of entries) {
      const codes = Uint16Array.from(word, (ch) => ch.charCodeAt(0));
      const key = CodeWordMap.keyOf(codes, 0, codes.length);
      if (this.byKey.has(key)) throw new Error(`level word hash collision: ${word}`);
      this.byKey.set(key, this.words.length);
      this.words.push(word);
      this.values.push(value);
    }
  }

  private static keyOf(codes: Uint16Array, start: number, end: number): number {
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) {
      const c = codes[i];
      h = Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
    }
    return h & 0x3fffffff; // a small integer key
  }

  /** The value of the word at codes[start, end) in any case, or -1. */
  get(codes: Uint16Array, start: number, end: number): number {
    const index = this.byKey.get(CodeWordMap.keyOf(codes, start, end));
    if (index === undefined) return -1;
    const word = this.words[index];
    if (word.length !== end - start) return -1;
    for (let i = start; i < end; i++) {
      const c = codes[i];
      if ((c >= 65 && c <= 90 ? c + 32 : c) !== word.charCodeAt(i - start)) return -1;
    }
    return this.values[index];
  }
}

const LEVEL_WORDS = new CodeWordMap(WORD_TO_RANK);
const FIELD_LEVELS = new CodeWordMap(FIELD_LEVEL_WORDS);
/** pino's and bunyan's numeric levels by their tens digit: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
const PINO_RANKS: readonly number[] = [NO_LEVEL, 0, 1, 2, 4, 5, 6];
const LEVEL_KEYS = new CodeWordMap(LEVEL_KEY_NAMES.map((k) => [k, 1]));
const DURATION_UNITS = ['ns', 'us', 'µs', 'ms', 's', 'm', 'h', 'd', 'min', 'sec', 'secs'];
const SIZE_UNITS = ['b', 'k', 'kb', 'kib', 'mb', 'mib', 'g', 'gb', 'gib', 'tb', 'tib', 'x', '%'];

/**
 * A unit suffix of at most 4 characters as one number, 8 bits a character, lower-cased the way
 * String.toLowerCase lower-cases the characters a unit may contain (ASCII letters and µ, U+00B5).
 */
function unitKeyOf(text: string): number {
  let key = 0;
  for (let i = 0; i < text.length; i++) key = key * 256 + (text.charCodeAt(i) & 0xff);
  return key * 8 + text.length;
}
const DURATION_KEYS = new Set(DURATION_UNITS.filter((u) => u.length <= 4).map(unitKeyOf));
const SIZE_KEYS = new Set(SIZE_UNITS.filter((u) => u.length <= 4 && !DURATION_UNITS.includes(u)).map(unitKeyOf));

/** Go's duration units (time.Duration's String): h, m, s, ms, us, µs, ns. */
const GO_DURATION_UNIT_KEYS = new Set(['h', 'm', 's', 'ms', 'us', 'µs', 'ns'].map(unitKeyOf));

/**
 * Go's compound durations (`1m30s`, `101m0s`, `1h2m3.5s`: how time.Duration prints a minute or more): two or more
 * number-unit groups, each unit one of Go's. A single group is the plain unit suffix below.
 */
function isCompoundDuration(codes: Uint16Array, start: number, end: number): boolean {
  let groups = 0;
  let i = start;
  while (i < end) {
    const numberStart = i;
    while (i < end && (isDigit(codes[i]) || codes[i] === 46)) i++;
    if (i === numberStart) return false;
    const unitStart = i;
    let key = 0;
    while (i < end && i - unitStart < 3 && (isLetter(codes[i]) || codes[i] === 181)) {
      key = key * 256 + (codes[i] === 181 ? 181 : codes[i] | 32);
      i++;
    }
    if (i === unitStart || !GO_DURATION_UNIT_KEYS.has(key * 8 + (i - unitStart))) return false;
    groups++;
  }
  return groups >= 2;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/**
 * Capitalised day and month abbreviations (Mon, Dec): parts of syslog-style timestamps. All are an upper-case
 * letter and two lower-case ones, so a 26×26×26 table answers without building a string.
 */
const CALENDAR = new Uint8Array(26 * 26 * 26);
for (const w of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun', 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']) {
  CALENDAR[((w.charCodeAt(0) - 65) * 26 + (w.charCodeAt(1) - 97)) * 26 + (w.charCodeAt(2) - 97)] = 1;
}

function isCalendarWord(codes: Uint16Array, start: number): boolean {
  const c0 = codes[start] - 65;
  const c1 = codes[start + 1] - 97;
  const c2 = codes[start + 2] - 97;
  return c0 >= 0 && c0 < 26 && c1 >= 0 && c1 < 26 && c2 >= 0 && c2 < 26 && CALENDAR[(c0 * 26 + c1) * 26 + c2] === 1;
}

/** True when every character is an upper-case ASCII letter (bare level words: INFO, ERROR). */
function isUpperAscii(codes: Uint16Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = codes[i];
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** True when the first character is an upper-case ASCII letter and the rest lower-case ones (Info, Warning). */
function isCapitalisedAscii(codes: Uint16Array, start: number, end: number): boolean {
  if (codes[start] < 65 || codes[start] > 90) return false;
  for (let i = start + 1; i < end; i++) {
    const c = codes[i];
    if (c < 97 || c > 122) return false;
  }
  return true;
}

/**
 * True when the token's only slash or backslash is a backslash at its end: the escape before a quote in a JSON
 * string (`\"hi\"` splits into `\` and `hi\`), not a path.
 */
function isEscapedQuote(codes: Uint16Array, start: number, end: number): boolean {
  if (codes[end - 1] !== 92) return false;
  for (let i = start; i < end - 1; i++) if (codes[i] === 92 || codes[i] === 47) return false;
  return true;
}

/** True when the token has an ASCII letter (a path) rather than only digits and separators (17/06/09). */
function hasLetterBetween(codes: Uint16Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (isLetter(codes[i])) return true;
  return false;
}

/**
 * Classifies a token that contains a digit (or looks like a path or a long hex run) by the shape of its text.
 * Only called for tokens that are not plain words, so it may look at the text a second time.
 */
function classifyVariable(codes: Uint16Array, start: number, end: number): TokenKind {
  let digits = 0;
  let dots = 0;
  let dashes = 0;
  let colons = 0;
  let hexLetters = 0;
  let otherLetters = 0;
  let other = 0;
  for (let i = start; i < end; i++) {
    const c = codes[i];
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
  const c0 = codes[start];
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
  const hexStart = codes[first] === 48 && (codes[first + 1] | 32) === 120 ? first + 2 : first;
  if (otherLetters === 0 && other === 0 && dots === 0 && colons === 0) {
    if (len === 36 && dashes === 4 && codes[start + 8] === 45 && codes[start + 23] === 45) {
      return TokenKind.Uuid;
    }
    if (dashes === 0 && (hexStart > first || len >= 6)) return TokenKind.Hex;
  } else if (hexStart > first && otherLetters === 1 && other === 0 && dots + dashes + colons === 0) {
    return TokenKind.Hex; // 0x... counts the x as a letter
  }
  if (isCompoundDuration(codes, first, end)) return TokenKind.Dur; // 1m30s, 1h2m3.5s
  // number with a unit suffix: 1.604732ms, 64K, 10s
  let j = first;
  while (j < end && (isDigit(codes[j]) || codes[j] === 46)) j++;
  if (j > first && j < end && end - j <= 4) {
    let key = 0;
    let lettersOnly = true;
    for (let k = j; k < end; k++) {
      const c = codes[k];
      if (isLetter(c)) key = key * 256 + (c | 32);
      else if (c === 181) key = key * 256 + c;
      else lettersOnly = false;
    }
    if (lettersOnly) {
      key = key * 8 + (end - j);
      if (DURATION_KEYS.has(key)) return TokenKind.Dur;
      if (SIZE_KEYS.has(key)) return TokenKind.Num;
    }
  }
  if (otherLetters + hexLetters <= 2 && other === 0 && digits >= 4) {
    // timestamps with T/Z: 2024-05-02T12, 22.01212206Z
    let tsLike = true;
    for (let k = start; k < end; k++) {
      const c = codes[k];
      if (isLetter(c) && c !== 84 && c !== 90) tsLike = false;
    }
    if (tsLike && dots + dashes + colons > 0) return TokenKind.Ts;
  }
  return TokenKind.Id;
}

/** codes[start, end) ends in a date, `T` and an hour (`2024-05-01T12`): the head of an ISO 8601 / RFC 3339 time. */
function endsWithIsoDateHour(codes: Uint16Array, start: number, end: number): boolean {
  return end - start >= 13 && codes[end - 3] === 84 /* T */ && isDigit(codes[end - 2]) && isDigit(codes[end - 1]) && isDigit(codes[end - 4]);
}

/**
 * Where the rest of an ISO 8601 time that starts at `from` (its `:` after the hour) ends: `:mm:ss`, a fraction of
 * any length (RFC3339Nano drops trailing zeros: `03Z`, `03.5Z`, `03.523456789Z` are one form), then `Z` or an
 * offset (`+02:00`, `-0700`). `from` when the text is not that, or runs on into a word.
 */
function isoTimeEnd(codes: Uint16Array, from: number, end: number): number {
  let i = from;
  if (!(codes[i] === 58 && twoDigits(codes, i + 1, end) && codes[i + 3] === 58 && twoDigits(codes, i + 4, end))) return from;
  i += 6;
  if (i + 1 < end && (codes[i] === 46 || codes[i] === 44) && isDigit(codes[i + 1])) {
    i++;
    while (i < end && isDigit(codes[i])) i++;
  }
  if (i < end && codes[i] === 90 /* Z */) i++;
  else if (i < end && (codes[i] === 43 || codes[i] === 45) && twoDigits(codes, i + 1, end)) {
    if (codes[i + 3] === 58 && twoDigits(codes, i + 4, end)) i += 6;
    else if (twoDigits(codes, i + 3, end)) i += 5;
  }
  return i < end && (TABLE[codes[i]] & K_NOT_WORD) === 0 ? from : i;
}

/** Two digits at codes[k] and codes[k + 1], both before `end`. */
function twoDigits(codes: Uint16Array, k: number, end: number): boolean {
  return k + 1 < end && isDigit(codes[k]) && isDigit(codes[k + 1]);
}

/** True when codes[start, end) is klog's `Lmmdd` (a severity letter, month and day) followed by a space and more. */
function isKlogHeader(codes: Uint16Array, start: number, end: number, lineEnd: number): boolean {
  return end - start === 5 && klogRank(codes[start]) !== NO_LEVEL && isDigit(codes[start + 1]) && isDigit(codes[start + 2]) &&
    isDigit(codes[start + 3]) && isDigit(codes[start + 4]) && end + 1 < lineEnd && isSpace(codes[end]);
}

/** The rank of a number after a level key: pino's and bunyan's 10…60, or a syslog severity 0…7 (GELF). */
function numericLevel(codes: Uint16Array, start: number, end: number): number {
  if (end - start === 2 && codes[start + 1] === 48) return PINO_RANKS[codes[start] - 48] ?? NO_LEVEL;
  return end - start === 1 ? syslogRank(codes[start] - 48) : NO_LEVEL;
}

/** The rank of a syslog line's `<PRI>` (RFC 5424 and 3164: at most 191, severity = PRI mod 8), else NO_LEVEL. */
function syslogPri(codes: Uint16Array, start: number, end: number): number {
  if (codes[start - 1] !== 60 || codes[end] !== 62 || end - start > 3) return NO_LEVEL;
  let pri = 0;
  for (let k = start; k < end; k++) pri = pri * 10 + codes[k] - 48;
  return pri <= 191 ? syslogRank(pri % 8) : NO_LEVEL;
}

const STDOUT = 'stdout ';
const STDERR = 'stderr ';

/** True when codes[at, …) spell `word` exactly. */
function spells(codes: Uint16Array, at: number, end: number, word: string): boolean {
  if (at + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (codes[at + k] !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * Where the program's own line starts: after a CRI container log prefix (`<RFC 3339 time> stdout|stderr F|P `,
 * as kubelet and containerd write /var/log/pods), after Docker json-file's `{"log":"`, else at the line's start.
 */
function messageStart(codes: Uint16Array, base: number, end: number): number {
  if (spells(codes, base, end, '{"log":"')) return base + 8;
  if (!isDigit(codes[base])) return base;
  let k = base;
  while (k < end && k - base < 40 && !isSpace(codes[k])) k++;
  k++;
  if ((spells(codes, k, end, STDOUT) || spells(codes, k, end, STDERR)) && (codes[k + 7] === 70 || codes[k + 7] === 80) &&
    k + 9 <= end && codes[k + 8] === 32) return k + 9;
  return base;
}

/**
 * Redis's level (server.c, serverLogRaw: `"%d:%c %s %c %s"`: pid, role X/C/S/M, `dd Mon yyyy hh:mm:ss.mmm`, the
 * level character, the message), else NO_LEVEL.
 */
function redisLevel(codes: Uint16Array, base: number, end: number): number {
  let k = base;
  while (k < end && k - base < 10 && isDigit(codes[k])) k++;
  if (k === base || codes[k] !== 58 || codes[k + 2] !== 32) return NO_LEVEL;
  const role = codes[k + 1];
  if (role !== 88 && role !== 67 && role !== 83 && role !== 77) return NO_LEVEL;
  const at = k + 3 + 25; // after the 24 characters of the time and a space
  if (at + 1 >= end || codes[at - 1] !== 32 || codes[at + 1] !== 32 || codes[k + 3 + 20] !== 46) return NO_LEVEL;
  return redisRank(codes[at]);
}

/** Scanner buffers start this large and grow (up to the line length limit) for longer lines. */
const INITIAL_CODES = 1024;

/**
 * Reusable scanner: one instance per thread; `scan` overwrites the previous result. Not re-entrant.
 *
 * The line is first copied into a Uint16Array of UTF-16 code units (from a string, or from pure-ASCII bytes
 * with `scanAscii`, where byte = code unit), and every loop reads that array: cheaper than charCodeAt on the
 * sliced strings a split produces, and the same code serves both inputs, so they give the same hash.
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
  /**
   * The 53-bit hash of the template (exactly the string `template()` builds, so equal templates hash equal)
   * as two small integers: its high 32 bits (signed) and its low 21 bits. Kept as integers because storing
   * a 53-bit number per line would allocate; `hash` puts them together.
   */
  hashHi = 0;
  hashLo = 0;
  get hash(): number {
    return (this.hashHi >>> 0) * 0x200000 + this.hashLo;
  }
  /**
   * Code units of the scanned line, at positions [base, scanEnd), then the next one (the line's next code
   * unit, or something that is neither a letter, '=' nor ':' at the end of the line). Token positions in
   * starts/ends are positions in this array.
   */
  private codes: Uint16Array;
  private base = 0;
  private scanEnd = 0;
  /** The scanner's own array, for lines given as strings or as bytes without a widened chunk. */
  private own = new Uint16Array(INITIAL_CODES);
  /** The scanned line, when it was given as a string (its index 0 is position `base` = 0). */
  private line: string | null = '';
  /** The bytes of the scanned line, when it was given as ASCII bytes: position i is byte i + byteOffset. */
  private bytes: Buffer | null = null;
  private byteOffset = 0;
  /** Some scanned code unit was >= 128. */
  private notAscii = false;

  constructor(private readonly maxLineLength = DEFAULT_MAX_LINE_LENGTH) {
    this.codes = this.own;
  }

  /** The own array, with room for `n` code units plus the one after them. */
  private room(n: number): Uint16Array {
    if (this.own.length < n + 1) this.own = new Uint16Array(n + 1);
    return this.own;
  }

  scan(line: string): this {
    const n = line.length < this.maxLineLength ? line.length : this.maxLineLength;
    const codes = this.room(n);
    for (let i = 0; i < n; i++) codes[i] = line.charCodeAt(i);
    // The character after the scanned part is looked at in a few places (as the original string reads did).
    codes[n] = n < line.length ? line.charCodeAt(n) : 0;
    this.line = line;
    this.bytes = null;
    this.codes = codes;
    this.base = 0;
    this.scanCodes(n);
    return this;
  }

  /**
   * Scans the UTF-8 line held in `bytes[start, end)` without decoding it, when its scanned part is pure ASCII
   * (each byte is then one UTF-16 code unit, and the result, hash included, equals `scan` of the decoded
   * string). Returns false when a byte is not ASCII: decode the line and use `scan` then.
   *
   * `wide`, if given, holds the whole of `bytes` widened to code units (wide[i] === bytes[i], e.g. by
   * `wide.set(bytes)` once per chunk), and is scanned in place: no per-line copy.
   */
  scanAscii(bytes: Buffer, start: number, end: number, wide?: Uint16Array): boolean {
    const len = end - start;
    const n = len < this.maxLineLength ? len : this.maxLineLength;
    this.line = null;
    this.bytes = bytes;
    if (wide !== undefined) {
      // wide[start + n] is the next byte, or the line break (or nothing) at the end of the line: never a
      // letter, '=' or ':', which is all the scan asks of it
      this.codes = wide;
      this.base = start;
      this.byteOffset = 0;
      this.scanCodes(start + n);
      return !this.notAscii;
    }
    const codes = this.room(n);
    let any = 0;
    for (let i = 0; i < n; i++) any |= codes[i] = bytes[start + i];
    if (any >= 128) return false;
    // (a non-ASCII byte right after a cut-off line is harmless: only compared with ASCII there)
    codes[n] = n < len ? bytes[start + n] : 0;
    this.codes = codes;
    this.base = 0;
    this.byteOffset = start;
    this.scanCodes(n);
    return true;
  }

  /** Text of the scanned line between two positions (only for new templates and level candidates). */
  private text(start: number, end: number): string {
    if (this.line !== null) return this.line.slice(start, end);
    return this.bytes!.toString('latin1', start + this.byteOffset, end + this.byteOffset);
  }

  /** Scans codes[base, end) of `this.codes`. */
  private scanCodes(end: number): void {
    const codes = this.codes;
    const base = this.base;
    this.count = 0;
    this.level = NO_LEVEL;
    this.levelToken = -1;
    this.scanEnd = end;
    // Two independent 32-bit FNV-style hashes, kept in locals (this is the hottest loop of scoring). A word
    // token's own hash (t1, t2) is folded in; a masked token contributes only its kind.
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    let i = base;
    let pendingSpace = false;
    let emittedAny = false;
    let levelKey = false; // the previous token was a level key (level=, "level":)
    let seen = 0; // the token properties of the whole line (for P_NOT_ASCII)

    // Where a klog header may start: the line's start, or the message of a container runtime's line (CRI,
    // Docker json-file), which wraps the program's own line.
    // Redis's and CRI's headers start with a digit, Docker's with a brace: other lines skip both calls.
    let klogAt = base;
    if (isDigit(codes[base]) || codes[base] === 123) {
      klogAt = messageStart(codes, base, end);
      // Redis writes its level as a character after its header; that character is also in the template.
      this.level = redisLevel(codes, base, end);
    }

    while (i < end) {
      const c = codes[i];
      const cls = TABLE[c];
      if ((cls & K_SPACE) !== 0) {
        pendingSpace = emittedAny;
        i++;
        continue;
      }
      if ((cls & (K_DELIM | K_DOT)) !== 0) {
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
      let props = 0;
      let dots = 0;
      while (i < end) {
        const d = codes[i];
        const t = TABLE[d];
        if ((t & K_NOT_WORD) === 0) props |= t;
        else if (d === 39 && i + 1 < end && isLetter(codes[i - 1]) && isLetter(codes[i + 1])) {
          props |= P_NOT_HEX | P_NOT_DIGIT; // can't, couldn't
        } else if (d === 46 && i + 1 < end && (TABLE[codes[i + 1]] & K_NOT_WORD) === 0) {
          props |= P_INNER_DOT; // inner dot: 1.5, http.go
          dots++;
        } else break;
        i++;
      }
      const len = i - start;
      seen |= props;
      // klog header: I0507 12:04:17.597069 ... The letter is the level (a word of its own); the date after it is
      // masked, as the next token.
      const klog = start === klogAt && isKlogHeader(codes, start, i, end);
      if (klog) {
        i = start + 1;
        this.level = klogRank(codes[start]);
        this.levelToken = this.count;
      }
      let kind: TokenKind;
      if (klog) kind = TokenKind.Word;
      else if ((props & P_SLASH) !== 0 && len > 1 && !isEscapedQuote(codes, start, i)) {
        kind = (props & P_DIGIT) !== 0 && !hasLetterBetween(codes, start, i) ? TokenKind.Ts : TokenKind.Path;
      } else if ((props & P_DIGIT) !== 0) {
        if ((props & P_NOT_DIGIT) !== 0) kind = classifyVariable(codes, start, i);
        // digits and inner dots only (what classifyVariable would say): 42, 1.5, 10.1.2.3, 2005.06.03
        else if (dots === 0) kind = TokenKind.Num;
        else kind = dots === 3 && len <= 15 ? TokenKind.Ip : dots === 1 ? TokenKind.Num : TokenKind.Ts;
        // an ISO 8601 date-time is one time, not `<TS>:<NUM>:<TS>` split at its colons
        if (kind === TokenKind.Ts && i < end && codes[i] === 58 /* : */ && endsWithIsoDateHour(codes, start, i)) i = isoTimeEnd(codes, i, end);
      }
      else if ((props & P_NOT_HEX) === 0 && len >= 8) kind = TokenKind.Hex;
      else if (len === 3 && isCalendarWord(codes, start)) kind = TokenKind.Ts;
      else kind = TokenKind.Word;
      if (this.count >= MAX_TOKENS) break;
      if (pendingSpace) {
        h1 = Math.imul(h1 ^ 32, 0x01000193);
        h2 = Math.imul(h2 ^ 32, 0x5bd1e995);
        pendingSpace = false;
      }
      emittedAny = true;
      const index = this.count;
      if (kind === TokenKind.Num && this.level === NO_LEVEL && (levelKey || (index === 0 && start === base + 1))) {
        // pino and bunyan write the level as a number ("level":30), GELF as a syslog severity ("level":3), and a
        // syslog line starts with its <PRI> (facility × 8 + severity); kept as a word, so the template (and the
        // score cache's key) tells an error line from an info one
        const rank = levelKey ? numericLevel(codes, start, i) : syslogPri(codes, start, i);
        if (rank !== NO_LEVEL) {
          kind = TokenKind.Word;
          this.level = rank;
          this.levelToken = index;
        }
      }
      this.push(start, i, kind);
      if (kind === TokenKind.Word) {
        // the word's own hash, computed only now that the token is known to stay a word
        let t1 = 0x811c9dc5;
        let t2 = 0x050c5d1f;
        for (let k = start; k < i; k++) {
          const d = codes[k];
          t1 = Math.imul(t1 ^ d, 0x01000193);
          t2 = Math.imul(t2 ^ d, 0x5bd1e995);
        }
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
    const lo = (h2 ^ (h2 >>> 13)) & 0x1fffff;
    this.hashHi = h1;
    this.hashLo = lo;
    this.notAscii = (seen & P_NOT_ASCII) !== 0;
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
    const codes = this.codes;
    const before = start > this.base ? codes[start - 1] : 0;
    const after = end < this.scanEnd ? codes[end] : 0;
    if (len === 1) {
      // logcat threadtime: `… 1702  2395 D WindowManager: …`, the letter between the tid column and the tag
      const index = this.count - 1;
      if (
        index > 1 &&
        this.kinds[index - 1] === TokenKind.Num &&
        this.kinds[index - 2] === TokenKind.Num &&
        isSpace(before) &&
        after === 32
      ) {
        const rank = logcatRank(codes[start]);
        if (rank !== NO_LEVEL) {
          this.level = rank;
          this.levelToken = index;
        }
      }
      return false;
    }
    // Serilog's compact JSON names its level `@l` ("@l":"Warning"; absent for Information)
    if (len === 2) return codes[start] === 64 && LEVEL_KEYS.get(codes, start, end) !== -1 && this.keySeparatorAfter(end);
    if (len < 3 || len > 13) return false;
    // `[error]`, and Apache 2.4's `[core:error]`, `[:error]` (its ErrorLogFormat's `[%-m:%l]`)
    const bracketed = after === 93 && (before === 91 || (before === 58 && this.bracketBefore(start - 1)));
    const c0 = codes[start] | 32;
    const upper = len >= 4 && len <= 8 && isUpperAscii(codes, start, end);
    // A capitalised level word is a header field when a colon or a padded column follows it (`Warning: …`,
    // Windows' `Info                  CBS`); followed by one space it is message text (`Error loading …`).
    // A line that starts with a level word and a colon, in any case: ASP.NET Core's console `info: …`, `fail: …`.
    const column =
      (len >= 4 &&
        (after === 58 || (after === 32 && end + 1 < this.scanEnd && codes[end + 1] === 32)) &&
        isCapitalisedAscii(codes, start, end)) ||
      (start === this.base && after === 58);
    // cheap exits: only level keys (level, lvl, log…, severity) and level candidates are looked up
    if (!afterLevelKey && !bracketed && !upper && !column && c0 !== 108 && c0 !== 115) return false;
    if (afterLevelKey || bracketed || upper || column) {
      let rank = LEVEL_WORDS.get(codes, start, end);
      if (rank === -1 && (bracketed || (upper && after === 58))) rank = FIELD_LEVELS.get(codes, start, end);
      if (rank !== -1) {
        this.level = rank;
        this.levelToken = this.count - 1;
        return false;
      }
    }
    return LEVEL_KEYS.get(codes, start, end) !== -1 && this.keySeparatorAfter(end);
  }

  /** True when the `:` at `colon` ends a bracket's first field (`[core:`, `[:`): a word at most 32 long after `[`. */
  private bracketBefore(colon: number): boolean {
    const codes = this.codes;
    for (let k = colon - 1; k >= this.base && colon - k <= 32; k--) {
      const c = codes[k];
      if (c === 91) return true;
      if (!isLetter(c) && !isDigit(c) && c !== 95) return false;
    }
    return false;
  }

  /** level=info, "level":"info", level: info: the key's closing quotes, then `=` or `:`. */
  private keySeparatorAfter(end: number): boolean {
    const codes = this.codes;
    let k = end;
    while (k < this.scanEnd && (codes[k] === 34 || codes[k] === 39)) k++;
    const sep = codes[k];
    return sep === 61 || sep === 58;
  }

  /** Words of the scanned line for the models: kept words lower-cased, masked tokens as their placeholder. */
  words(): string[] {
    const out = new Array<string>(this.count);
    for (let t = 0; t < this.count; t++) {
      const kind = this.kinds[t];
      out[t] = kind === TokenKind.Word ? this.text(this.starts[t], this.ends[t]).toLowerCase() : MASKS[kind];
    }
    return out;
  }

  /** The level token as it appears in words() (lower-cased), or null. */
  levelWord(): string | null {
    if (this.levelToken < 0) return null;
    return this.text(this.starts[this.levelToken], this.ends[this.levelToken]).toLowerCase();
  }

  /** Masked template: the line with variable tokens replaced by placeholders and whitespace runs collapsed. */
  template(): string {
    const codes = this.codes;
    let out = '';
    let pos = this.base;
    let pendingSpace = false;
    let emittedAny = false;
    const appendGap = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        const c = codes[i];
        if (isSpace(c)) {
          pendingSpace = emittedAny;
        } else {
          if (pendingSpace) out += ' ';
          pendingSpace = false;
          out += String.fromCharCode(c);
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
      out += kind === TokenKind.Word ? this.text(start, end) : MASKS[kind];
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
