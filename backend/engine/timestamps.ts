// Time from the line: the timestamp a log line carries, in epoch milliseconds, or NaN when it has none.
//
// It runs on the scoring path (every line of `lad score` and of the service), so it reads character codes
// in place: no regular expression, no substring, no Date object per line. The CLI hands it the byte range of
// a line in its chunk (widened to code units); strings are copied into a small scratch array first.
//
// Formats (each tried at the start of the line, and the free-standing ones at any word start within the
// first MAX_SCAN characters, e.g. after `ts=`, `time=`, `"time":"`, `[`):
//   ISO 8601 / RFC 3339   2024-05-02T12:17:22.012Z, 2024-05-02 12:17:22,978, …+02:00, (RFC 5424 syslog)
//   BGL                   2005-06-03-15.42.50.675872
//   slashed dates         2024/05/02 12:17:22, 17/06/09 20:10:40 (yy/mm/dd, Spark)
//   NCSA / Apache         10/Oct/2000:13:55:36 -0700, Sun Dec 04 04:47:44 2005
//   day month year        01 May 2024 12:00:00.123 (Redis), 01-May-2024 12:00:00.123 (Tomcat's OneLineFormatter),
//                         Wed, 01 May 2024 12:00:00 +0000 (RFC 2822 / RFC 1123, HTTP and mail dates)
//   RFC 3164 syslog       Jun 14 15:16:01 (year-less), also right after its <PRI> (`<34>Oct 11 22:14:15`)
//   klog                  I0507 12:04:17.597069 (year-less; at the start of the line)
//   Android logcat        03-17 16:13:38.811 (year-less; at the start of the line)
//   compact               081109 203615 (yymmdd hhmmss, HDFS; at the start of the line)
//   epoch                 1117838570 or 1117838570123 (s or ms; the first field of the line, or the value of a
//                         time key: pino's "time":1714557600000, ts=1714557600)
// A time without a zone is read as UTC: only differences between a log's own lines matter for rates.
// A year-less time takes the reference year (the current one), or the year before when that would put it
// more than a month in the future (a December line read in January).

/** Characters of a line searched for a timestamp (a JSON line may keep its `time` key far from the start). */
export const MAX_SCAN = 512;
/** Characters of a string line copied first (the time of most formats ends within them). */
const HEAD = 64;

const DAY_MS = 86_400_000;
const YEARLESS_FUTURE_MS = 31 * DAY_MS;

/** True when codes[start, end) spell `word` (lower-case ASCII) in any case. */
function isWordAt(s: ArrayLike<number>, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let j = 0; j < word.length; j++) if ((s[start + j] | 32) !== word.charCodeAt(j)) return false;
  return true;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), no Date object. */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return NaN;
  return daysFromCivil(y, mo, d) * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000 + ms;
}

/** The UTC year of an epoch time (for year-less formats). */
function yearOf(ms: number): number {
  return new Date(ms).getUTCFullYear();
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLetter = (c: number): boolean => (c | 32) >= 97 && (c | 32) <= 122;

/** Month number of three letters (any case), 0 if not a month name. */
function monthOf(a: number, b: number, c: number): number {
  const k = ((a | 32) << 16) | ((b | 32) << 8) | (c | 32);
  switch (k) {
    case 0x6a616e: return 1; // jan
    case 0x666562: return 2; // feb
    case 0x6d6172: return 3; // mar
    case 0x617072: return 4; // apr
    case 0x6d6179: return 5; // may
    case 0x6a756e: return 6; // jun
    case 0x6a756c: return 7; // jul
    case 0x617567: return 8; // aug
    case 0x736570: return 9; // sep
    case 0x6f6374: return 10; // oct
    case 0x6e6f76: return 11; // nov
    case 0x646563: return 12; // dec
    default: return 0;
  }
}

function isWeekday(a: number, b: number, c: number): boolean {
  const k = ((a | 32) << 16) | ((b | 32) << 8) | (c | 32);
  return k === 0x6d6f6e || k === 0x747565 || k === 0x776564 || k === 0x746875 || k === 0x667269 || k === 0x736174 || k === 0x73756e;
}

/**
 * A parser over one line held in `s[0, n)`. The fields are scratch state of the parse in progress, so the
 * hot path allocates nothing; one instance per caller.
 */
export class TimestampParser {
  private s: ArrayLike<number> = new Uint16Array(0);
  private n = 0;
  /** Position after the last field read. */
  private p = 0;
  private readonly scratch = new Uint16Array(MAX_SCAN);
  /** Where the last timestamp found was: [matchStart, matchEnd) of the parsed input (for tools that re-stamp). */
  matchStart = -1;
  /** Characters at the start of the last format read that are not its time (klog's severity letter). */
  private skip = 0;
  matchEnd = -1;

  /** @param reference the "now" that year-less formats are placed near (epoch ms). */
  constructor(public reference: () => number = Date.now) {}

  /** Timestamp of a string line (epoch ms), NaN when it has none. */
  parse(line: string): number {
    // most lines carry their time near the start: copy a short head first, the rest only when it has none
    const head = Math.min(line.length, HEAD);
    for (let i = 0; i < head; i++) this.scratch[i] = line.charCodeAt(i);
    const t = this.parseCodes(this.scratch, 0, head);
    if (!Number.isNaN(t) || line.length <= HEAD) return t;
    const n = Math.min(line.length, MAX_SCAN);
    for (let i = head; i < n; i++) this.scratch[i] = line.charCodeAt(i);
    return this.parseCodes(this.scratch, 0, n);
  }

  /** Timestamp of the line held as character codes in `codes[start, end)` (bytes or UTF-16 units). */
  parseCodes(codes: ArrayLike<number>, start: number, end: number): number {
    this.s = codes;
    this.n = Math.min(end, start + MAX_SCAN);
    const s = codes;
    // line-start formats first: the common case costs one attempt
    const t = this.at(start, true);
    if (!Number.isNaN(t)) return this.found(start, t);
    for (let i = start + 1; i < this.n - 7; i++) {
      const prev = s[i - 1];
      // a word start: after a space, `=`, a quote, `[`, a tab, `(`, or the `>` closing a syslog <PRI>
      if (prev === 32 || prev === 61 || prev === 34 || prev === 91 || prev === 9 || prev === 40 || prev === 39 || prev === 62) {
        const c = s[i];
        if (isDigit(c) || isLetter(c)) {
          const r = this.at(i, false);
          if (!Number.isNaN(r)) return this.found(i, r);
        }
      }
      // epoch seconds or milliseconds as the value of a time key: pino's "time":1714557600000, ts=1714557600
      if ((prev === 58 || prev === 61) && isDigit(s[i]) && this.afterTimeKey(i - 1)) {
        let k = i;
        while (k < this.n && isDigit(s[k])) k++;
        const r = this.epoch(i, k);
        if (!Number.isNaN(r)) return this.found(i, r);
      }
    }
    return NaN;
  }

  private found(start: number, t: number): number {
    this.matchStart = start + this.skip;
    this.matchEnd = this.p;
    this.skip = 0;
    return t;
  }

  /** Reads `len` digits at p (advancing), -1 if any is not a digit. */
  private digits(len: number): number {
    const s = this.s;
    if (this.p + len > this.n) return -1;
    let v = 0;
    for (let i = 0; i < len; i++) {
      const c = s[this.p + i];
      if (c < 48 || c > 57) return -1;
      v = v * 10 + c - 48;
    }
    this.p += len;
    return v;
  }

  /** Reads 1 or 2 digits (a day of month written ` 4` or `04` or `4`). */
  private day(): number {
    if (this.s[this.p] === 32) this.p++;
    const a = this.digits(1);
    if (a < 0) return -1;
    const b = this.p < this.n && isDigit(this.s[this.p]) ? this.digits(1) : -1;
    return b < 0 ? a : a * 10 + b;
  }

  private expect(c: number): boolean {
    if (this.p < this.n && this.s[this.p] === c) {
      this.p++;
      return true;
    }
    return false;
  }

  /** `hh<sep>mm<sep>ss` → seconds of the day, -1 if not there. */
  private clock(sep: number): number {
    const h = this.digits(2);
    if (h < 0 || !this.expect(sep)) return -1;
    const m = this.digits(2);
    if (m < 0 || !this.expect(sep)) return -1;
    const sec = this.digits(2);
    if (sec < 0 || h > 23 || m > 59 || sec > 60) return -1;
    return (h * 60 + m) * 60 + sec;
  }

  /** Optional `.fff…` or `,fff…`: milliseconds (further digits ignored). */
  private fraction(): number {
    const s = this.s;
    if (this.p + 1 >= this.n || (s[this.p] !== 46 && s[this.p] !== 44) || !isDigit(s[this.p + 1])) return 0;
    this.p++;
    let ms = 0;
    let k = 0;
    while (this.p < this.n && isDigit(s[this.p])) {
      if (k < 3) ms = ms * 10 + s[this.p] - 48;
      k++;
      this.p++;
    }
    for (; k < 3; k++) ms *= 10;
    return ms;
  }

  /** Optional zone: `Z`, `±hh:mm`, `±hhmm`, `±hh` (after an optional space) → offset in ms to subtract. */
  private zone(): number {
    const s = this.s;
    let p = this.p;
    if (p < this.n && s[p] === 32) p++;
    if (p >= this.n) return 0;
    const c = s[p];
    if (c === 90 || c === 122) {
      this.p = p + 1;
      return 0;
    }
    if (c !== 43 && c !== 45) return 0;
    const save = this.p;
    this.p = p + 1;
    const h = this.digits(2);
    if (h < 0) {
      this.p = save;
      return 0;
    }
    this.expect(58);
    const m = this.digits(2);
    const off = (h * 60 + (m < 0 ? 0 : m)) * 60_000;
    return c === 43 ? off : -off;
  }

  /** Places a year-less date near the reference time. */
  private yearless(mo: number, d: number, secs: number, ms: number): number {
    const ref = this.reference();
    const y = yearOf(ref);
    const t = utcMs(y, mo, d, 0, 0, 0, 0) + secs * 1000 + ms;
    return t > ref + YEARLESS_FUTURE_MS ? utcMs(y - 1, mo, d, 0, 0, 0, 0) + secs * 1000 + ms : t;
  }

  /** A timestamp starting at `i`; `lineStart` allows the formats only trusted as a line's first field. */
  private at(i: number, lineStart: boolean): number {
    const s = this.s;
    const c = s[i];
    if (isDigit(c)) return this.numeric(i, lineStart);
    if (!isLetter(c)) return NaN;
    // klog: Lmmdd hh:mm:ss.ffffff
    if (lineStart && (c === 73 || c === 87 || c === 69 || c === 70) && isDigit(s[i + 1])) {
      this.p = i + 1;
      const mo = this.digits(2);
      const d = this.digits(2);
      if (mo < 1 || d < 1 || !this.expect(32)) return NaN;
      const secs = this.clock(58);
      if (secs < 0) return NaN;
      // the letter is the line's severity, not part of its time: the match starts after it
      this.skip = 1;
      return this.yearless(mo, d, secs, this.fraction());
    }
    if (i + 3 > this.n) return NaN;
    // [Dow ]Mon dd hh:mm:ss[.fff][ yyyy]
    let p = i;
    // RFC 2822: `Wed, 01 May 2024 12:00:00 +0000` (the weekday, a comma, then day month year)
    if (isWeekday(s[p], s[p + 1], s[p + 2]) && s[p + 3] === 44 && s[p + 4] === 32 && isDigit(s[p + 5])) {
      return this.dayMonthYear(p + 5);
    }
    if (isWeekday(s[p], s[p + 1], s[p + 2]) && s[p + 3] === 32) p += 4;
    const mo = monthOf(s[p], s[p + 1], s[p + 2]);
    if (mo === 0 || s[p + 3] !== 32) return NaN;
    this.p = p + 4;
    const d = this.day();
    if (d < 1 || !this.expect(32)) return NaN;
    const secs = this.clock(58);
    if (secs < 0) return NaN;
    const ms = this.fraction();
    const save = this.p;
    if (this.expect(32)) {
      const y = this.digits(4);
      if (y >= 1970) return utcMs(y, mo, d, 0, 0, 0, 0) + secs * 1000 + ms;
      this.p = save;
    }
    return this.yearless(mo, d, secs, ms);
  }

  private numeric(i: number, lineStart: boolean): number {
    const s = this.s;
    // length of the leading digit run
    let k = i;
    while (k < this.n && isDigit(s[k])) k++;
    const run = k - i;
    const next = k < this.n ? s[k] : 32;
    this.p = i;
    if (run === 4 && (next === 45 || next === 47)) {
      // yyyy-mm-dd… or yyyy/mm/dd…
      const y = this.digits(4);
      this.p++;
      const mo = this.digits(2);
      if (mo < 0 || !this.expect(next)) return NaN;
      const d = this.digits(2);
      if (d < 0) return NaN;
      const sep = this.p < this.n ? s[this.p] : 0;
      if (sep !== 84 && sep !== 116 && sep !== 32 && sep !== 45 && sep !== 95) return NaN;
      this.p++;
      // BGL writes 2005-06-03-15.42.50.675872
      const secs = this.clock(sep === 45 && s[this.p + 2] === 46 ? 46 : 58);
      if (secs < 0) return NaN;
      const ms = this.fraction();
      const off = this.zone();
      return utcMs(y, mo, d, 0, 0, 0, 0) + secs * 1000 + ms - off;
    }
    if (run === 2 && next === 47) {
      this.p = i + 3;
      if (isLetter(s[this.p])) {
        // NCSA: dd/Mon/yyyy:hh:mm:ss ±hhmm
        const d = (s[i] - 48) * 10 + s[i + 1] - 48;
        const mo = monthOf(s[this.p], s[this.p + 1], s[this.p + 2]);
        this.p += 3;
        if (mo === 0 || !this.expect(47)) return NaN;
        const y = this.digits(4);
        if (y < 0 || !this.expect(58)) return NaN;
        return this.clockOn(y, mo, d);
      }
      // yy/mm/dd hh:mm:ss (Spark)
      this.p = i;
      const y = this.digits(2);
      this.p++;
      const mo = this.digits(2);
      if (mo < 0 || !this.expect(47)) return NaN;
      const d = this.digits(2);
      if (d < 0 || !this.expect(32)) return NaN;
      const secs = this.clock(58);
      if (secs < 0) return NaN;
      return utcMs(2000 + y, mo, d, 0, 0, 0, 0) + secs * 1000 + this.fraction();
    }
    // dd Mon yyyy hh:mm:ss or dd-Mon-yyyy hh:mm:ss: a month name and a four-digit year make it a date anywhere
    if (run <= 2 && (next === 32 || next === 45) && k + 1 < this.n && isLetter(s[k + 1])) return this.dayMonthYear(i);
    if (!lineStart) return NaN;
    if (run === 2 && next === 45) {
      // mm-dd hh:mm:ss.fff (Android logcat; year-less)
      const mo = this.digits(2);
      this.p++;
      const d = this.digits(2);
      if (d < 1 || !this.expect(32)) return NaN;
      const secs = this.clock(58);
      if (secs < 0) return NaN;
      return this.yearless(mo, d, secs, this.fraction());
    }
    if (run === 6 && next === 32) {
      // yymmdd hhmmss (HDFS)
      const y = this.digits(2);
      const mo = this.digits(2);
      const d = this.digits(2);
      this.p++;
      const h = this.digits(2);
      const mi = this.digits(2);
      const sec = this.digits(2);
      if (sec < 0 || (this.p < this.n && s[this.p] !== 32)) return NaN;
      return utcMs(2000 + y, mo, d, h, mi, sec, 0);
    }
    // epoch seconds or milliseconds in the first field
    return this.epoch(i, k);
  }

  /**
   * `d[d] Mon yyyy hh:mm:ss[.fff][ zone]` with a space or a dash after the day and the month (the same one both
   * times): Redis (`01 May 2024 12:00:00.123`), Tomcat's OneLineFormatter (`01-May-2024 12:00:00.123`), RFC 2822.
   */
  private dayMonthYear(i: number): number {
    const s = this.s;
    this.p = i;
    const d = this.day();
    const sep = this.p < this.n ? s[this.p] : 0;
    if (d < 1 || (sep !== 32 && sep !== 45) || this.p + 5 > this.n) return NaN;
    const mo = monthOf(s[this.p + 1], s[this.p + 2], s[this.p + 3]);
    this.p += 4;
    if (mo === 0 || !this.expect(sep)) return NaN;
    const y = this.digits(4);
    if (y < 1970 || !this.expect(32)) return NaN;
    return this.clockOn(y, mo, d);
  }

  /** `hh:mm:ss[.fff][ zone]` at p on the given date, NaN if no clock is there. */
  private clockOn(y: number, mo: number, d: number): number {
    const secs = this.clock(58);
    if (secs < 0) return NaN;
    const ms = this.fraction();
    return utcMs(y, mo, d, 0, 0, 0, 0) + secs * 1000 + ms - this.zone();
  }

  /** The digit run [i, k) as epoch seconds (2001-09-09 … 2286, 10 digits) or milliseconds (13), else NaN. */
  private epoch(i: number, k: number): number {
    const s = this.s;
    const run = k - i;
    const next = k < this.n ? s[k] : 32;
    if ((run !== 10 && run !== 13) || !(next === 32 || next === 46 || next === 44 || next === 9 || next === 125 || k === this.n)) return NaN;
    let v = 0;
    for (let j = i; j < k; j++) v = v * 10 + s[j] - 48;
    this.p = k;
    return run === 10 ? v * 1000 + this.fraction() : v;
  }

  /** True when the `:` or `=` at `sep` ends a time key: `"time":`, `"ts":`, `"timestamp":`, `time=`, `ts=`. */
  private afterTimeKey(sep: number): boolean {
    const s = this.s;
    let end = sep;
    if (s[sep] === 58) {
      if (sep < 1 || s[sep - 1] !== 34) return false;
      end = sep - 1;
    }
    let start = end;
    while (start > 0 && isLetter(s[start - 1]) && end - start < 9) start--;
    if (start > 0 && isLetter(s[start - 1])) return false;
    return isWordAt(s, start, end, 'ts') || isWordAt(s, start, end, 'time') || isWordAt(s, start, end, 'timestamp');
  }
}

/** A line's own time is trusted as its event time at most this long before it was read (a live log)… */
export const LIVE_PAST_MS = DAY_MS;
/** …and at most this long after (clocks of writer and reader a little apart). */
export const LIVE_FUTURE_MS = 5 * 60_000;

/**
 * The time to stamp a line read at `readMs` with: its own timestamp when it has one that a live log would
 * carry, else the read time. A backlog of old lines (a historic file read from its start) keeps the read
 * time, so its results stay within the results store's retention and in today's dashboards.
 */
export function liveTime(parser: TimestampParser, line: string, readMs: number): number {
  const t = parser.parse(line);
  return t >= readMs - LIVE_PAST_MS && t <= readMs + LIVE_FUTURE_MS ? t : readMs;
}
