/**
 * Syslog message parsing: RFC 5424 and RFC 3164 (BSD), one message (already de-framed) at a time.
 *
 * Hand-written on purpose: the npm parsers are either unmaintained since 2015 and untyped (glossy) or
 * heuristic with per-field regex allocations and CEF extras we do not need (nsyslog-parser). This one is a
 * single left-to-right scan that never throws: anything it cannot read becomes the message text, so a
 * malformed sender still gets its lines scored instead of dropped.
 */

export const SEVERITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export const FACILITY_NAMES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp',
  'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;

export interface SyslogMessage {
  format: 'rfc5424' | 'rfc3164';
  facility: string;
  severity: string;
  /** Sender's time in epoch ms, or null when the message has none (RFC 5424 NILVALUE) or it is unreadable. */
  timestampMs: number | null;
  host: string | null;
  app: string | null;
  procId: string | null;
  msgId: string | null;
  /** RFC 5424 STRUCTURED-DATA as sent (without the NILVALUE), or null. */
  structuredData: string | null;
  message: string;
}

/** RFC 3164 §4.3.3: a relay that receives a message without PRI assigns user.notice (13). */
const DEFAULT_PRI = 13;
const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};
/** RFC 3164 TAG is at most 32 alphanumerics; real senders exceed it (systemd units), so allow more. */
const MAX_TAG_LENGTH = 64;

/**
 * Parses one syslog message. `nowMs` is the receive time: RFC 3164 timestamps carry no year, so the year
 * is the one that puts the timestamp closest to (and not more than a day after) the receive time.
 */
export function parseSyslog(raw: string, nowMs: number = Date.now()): SyslogMessage {
  let text = raw;
  // Senders using non-transparent framing sometimes leave a CR or NUL before the LF.
  while (text.length > 0) {
    const last = text.charCodeAt(text.length - 1);
    if (last === 10 || last === 13 || last === 0) text = text.slice(0, -1);
    else break;
  }

  let pri = DEFAULT_PRI;
  let pos = 0;
  if (text.charCodeAt(0) === 60 /* < */) {
    const close = text.indexOf('>', 1);
    if (close > 1 && close <= 4) {
      const value = digitsValue(text, 1, close);
      if (value !== null && value <= 191) {
        pri = value;
        pos = close + 1;
      }
    }
  }
  const facility = FACILITY_NAMES[pri >> 3];
  const severity = SEVERITY_NAMES[pri & 7];

  // RFC 5424: VERSION (1-2 digits, not 0) right after PRI, then SP.
  if (pos > 0) {
    const c = text.charCodeAt(pos);
    if (c >= 49 && c <= 57) {
      const sp = text.charCodeAt(pos + 1) === 32 ? pos + 1 : text.charCodeAt(pos + 2) === 32 && isDigit(text.charCodeAt(pos + 1)) ? pos + 2 : -1;
      if (sp > 0) return parse5424(text, sp + 1, facility, severity);
    }
  }
  return parse3164(text, pos, facility, severity, nowMs);
}

function parse5424(text: string, start: number, facility: string, severity: string): SyslogMessage {
  const cursor = { pos: start };
  const timestamp = nextToken(text, cursor);
  const host = nextToken(text, cursor);
  const app = nextToken(text, cursor);
  const procId = nextToken(text, cursor);
  const msgId = nextToken(text, cursor);
  let structuredData: string | null = null;
  if (text.charCodeAt(cursor.pos) === 91 /* [ */) {
    const end = structuredDataEnd(text, cursor.pos);
    structuredData = text.slice(cursor.pos, end);
    cursor.pos = end;
  } else if (text.charCodeAt(cursor.pos) === 45 /* - */) {
    cursor.pos += 1;
  }
  if (text.charCodeAt(cursor.pos) === 32) cursor.pos += 1;
  let message = text.slice(cursor.pos);
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1); // RFC 5424 §6.4: UTF-8 BOM before MSG
  const ts = timestamp === null ? NaN : Date.parse(timestamp);
  return {
    format: 'rfc5424',
    facility,
    severity,
    timestampMs: Number.isFinite(ts) ? ts : null,
    host,
    app,
    procId,
    msgId,
    structuredData,
    message,
  };
}

/** Reads up to the next SP; returns null for the NILVALUE "-" (and for an empty field). */
function nextToken(text: string, cursor: { pos: number }): string | null {
  const sp = text.indexOf(' ', cursor.pos);
  const end = sp < 0 ? text.length : sp;
  const token = text.slice(cursor.pos, end);
  cursor.pos = sp < 0 ? text.length : sp + 1;
  return token === '-' || token === '' ? null : token;
}

/** End index (exclusive) of one or more SD-ELEMENTs starting at `start`, honouring \" \\ \] escapes in values. */
function structuredDataEnd(text: string, start: number): number {
  let pos = start;
  while (text.charCodeAt(pos) === 91 /* [ */) {
    let inValue = false;
    pos += 1;
    for (; pos < text.length; pos++) {
      const c = text.charCodeAt(pos);
      if (inValue) {
        if (c === 92 /* \ */) pos += 1;
        else if (c === 34 /* " */) inValue = false;
      } else if (c === 34) {
        inValue = true;
      } else if (c === 93 /* ] */) {
        break;
      }
    }
    pos += 1; // past ]
  }
  return Math.min(pos, text.length);
}

function parse3164(text: string, start: number, facility: string, severity: string, nowMs: number): SyslogMessage {
  let pos = start;
  let timestampMs: number | null = null;

  const bsd = readBsdTimestamp(text, pos, nowMs);
  if (bsd) {
    timestampMs = bsd.ms;
    pos = bsd.end;
  } else {
    // rsyslog's RSYSLOG_ForwardFormat and many appliances put an RFC 3339 timestamp where RFC 3164 has its own.
    const sp = text.indexOf(' ', pos);
    if (sp > pos + 18 && isDigit(text.charCodeAt(pos)) && text.charCodeAt(pos + 4) === 45 && text.charCodeAt(pos + 10) === 84) {
      const ts = Date.parse(text.slice(pos, sp));
      if (Number.isFinite(ts)) {
        timestampMs = ts;
        pos = sp + 1;
      }
    }
  }

  let host: string | null = null;
  let app: string | null = null;
  let procId: string | null = null;
  // HOSTNAME only follows a timestamp; the first word is the TAG instead when it ends with ':' or holds '['.
  if (timestampMs !== null) {
    const sp = text.indexOf(' ', pos);
    if (sp > pos) {
      const word = text.slice(pos, sp);
      if (!word.endsWith(':') && !word.includes('[')) {
        host = word;
        pos = sp + 1;
      }
    }
  }
  // RFC 3164 §4.1.3: a space may also end the TAG (rsyslog's forward format writes "app msg" for messages
  // that arrived as RFC 5424); only trusted after a timestamp, where a TAG is expected.
  const tag = readTag(text, pos, timestampMs !== null);
  if (tag) {
    app = tag.app;
    procId = tag.procId;
    pos = tag.end;
  }
  return {
    format: 'rfc3164',
    facility,
    severity,
    timestampMs,
    host,
    app,
    procId,
    msgId: null,
    structuredData: null,
    message: text.slice(pos),
  };
}

/** "Mmm dd hh:mm:ss " (day space-padded) → epoch ms in the server's local time zone, and the index after the SP. */
function readBsdTimestamp(text: string, pos: number, nowMs: number): { ms: number; end: number } | null {
  if (text.length < pos + 16 || text.charCodeAt(pos + 3) !== 32 || text.charCodeAt(pos + 15) !== 32) return null;
  const month = MONTHS[text.slice(pos, pos + 3)];
  if (month === undefined) return null;
  const day = text.charCodeAt(pos + 4) === 32 ? digitsValue(text, pos + 5, pos + 6) : digitsValue(text, pos + 4, pos + 6);
  const hour = digitsValue(text, pos + 7, pos + 9);
  const minute = digitsValue(text, pos + 10, pos + 12);
  const second = digitsValue(text, pos + 13, pos + 15);
  if (day === null || hour === null || minute === null || second === null) return null;
  if (text.charCodeAt(pos + 9) !== 58 || text.charCodeAt(pos + 12) !== 58) return null;
  const year = new Date(nowMs).getFullYear();
  let ms = new Date(year, month, day, hour, minute, second).getTime();
  // A December line received in early January belongs to last year.
  if (ms > nowMs + 86_400_000) ms = new Date(year - 1, month, day, hour, minute, second).getTime();
  return { ms, end: pos + 16 };
}

/** TAG as "app:", "app[pid]:" (then an optional SP), or "app " when spaceEnds. Null when the text has none. */
function readTag(text: string, pos: number, spaceEnds: boolean): { app: string; procId: string | null; end: number } | null {
  const limit = Math.min(text.length, pos + MAX_TAG_LENGTH + 1);
  for (let i = pos; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 58 /* : */) {
      if (i === pos) return null;
      return { app: text.slice(pos, i), procId: null, end: skipSpace(text, i + 1) };
    }
    if (c === 91 /* [ */) {
      const close = text.indexOf(']', i + 1);
      if (close < 0 || close - i > 32 || i === pos) return null;
      const end = text.charCodeAt(close + 1) === 58 ? close + 2 : close + 1;
      return { app: text.slice(pos, i), procId: text.slice(i + 1, close), end: skipSpace(text, end) };
    }
    if (c === 32) return spaceEnds && i > pos ? { app: text.slice(pos, i), procId: null, end: i + 1 } : null;
  }
  return null;
}

function skipSpace(text: string, pos: number): number {
  return text.charCodeAt(pos) === 32 ? pos + 1 : pos;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function digitsValue(text: string, start: number, end: number): number | null {
  if (end <= start) return null;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return null;
    value = value * 10 + (c - 48);
  }
  return value;
}
