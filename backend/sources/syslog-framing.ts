/**
 * De-framing of a syslog TCP byte stream (RFC 6587): octet counting ("MSG-LEN SP MSG", RFC 5425/6587 §3.4.1)
 * and non-transparent framing (messages ended by LF, §3.4.2). The method is detected per frame, as rsyslog
 * does: a syslog message starts with '<', so a frame starting with a digit is octet-counted. Both can mix on
 * one connection. Every frame is bounded by `maxMessageBytes`: an oversized frame is skipped (and counted),
 * so one bad sender cannot grow memory without limit.
 */

const LF = 10;
const CR = 13;
const NUL = 0;
const SP = 32;
/** Digits of MSG-LEN we accept before deciding the frame is garbage (10 digits ≥ 1 GB, far past any bound). */
const MAX_LENGTH_DIGITS = 10;

const INCOMPLETE = -1;
const NOT_COUNTED = -2;

export interface FramerCallbacks {
  onMessage(message: string): void;
  /** A frame longer than maxMessageBytes (or a malformed length) was skipped. */
  onOversize(): void;
}

export class SyslogFramer {
  private pending: Buffer | null = null;
  /** Bytes of an oversized octet-counted frame still to skip. */
  private skipBytes = 0;
  /** Inside an oversized LF-framed message: discard up to the next LF. */
  private skipToNewline = false;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly callbacks: FramerCallbacks
  ) {}

  /** Feeds one chunk; calls onMessage for each complete frame in it, keeps the incomplete tail. */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let pos = 0;
    const len = buf.length;
    while (pos < len) {
      if (this.skipBytes > 0) {
        const n = Math.min(this.skipBytes, len - pos);
        this.skipBytes -= n;
        pos += n;
        continue;
      }
      if (this.skipToNewline) {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0) return;
        this.skipToNewline = false;
        pos = nl + 1;
        continue;
      }
      const c = buf[pos];
      if (c === LF || c === CR || c === NUL || c === SP) {
        pos += 1; // stray separators between frames
        continue;
      }
      const counted = c >= 48 && c <= 57 ? this.readOctetCounted(buf, pos) : NOT_COUNTED;
      if (counted === INCOMPLETE) break; // keep the tail
      if (counted !== NOT_COUNTED) {
        pos = counted;
      } else {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0) {
          if (len - pos > this.maxMessageBytes) {
            this.callbacks.onOversize();
            this.skipToNewline = true;
            return;
          }
          break;
        }
        if (nl - pos > this.maxMessageBytes) this.callbacks.onOversize();
        else this.callbacks.onMessage(buf.toString('utf8', pos, nl));
        pos = nl + 1;
      }
    }
    if (pos < len) this.pending = buf.subarray(pos);
  }

  /** At end of stream: a trailing LF-framed message without its LF still counts (rsyslog does the same). */
  end(): void {
    const rest = this.pending;
    this.pending = null;
    if (!rest || this.skipBytes > 0 || this.skipToNewline) return;
    let start = 0;
    while (start < rest.length && (rest[start] === LF || rest[start] === CR || rest[start] === NUL || rest[start] === SP)) start++;
    if (start >= rest.length) return;
    if (rest[start] >= 48 && rest[start] <= 57) {
      this.callbacks.onOversize(); // a truncated octet-counted frame: the peer closed mid-message
      return;
    }
    this.callbacks.onMessage(rest.toString('utf8', start));
  }

  /** Bytes held for an incomplete frame (bounded by maxMessageBytes + the length prefix). */
  get bufferedBytes(): number {
    return this.pending ? this.pending.length : 0;
  }

  /** Returns the index after the frame, INCOMPLETE when more bytes are needed, NOT_COUNTED when no length prefix. */
  private readOctetCounted(buf: Buffer, start: number): number {
    let value = 0;
    let pos = start;
    for (; pos < buf.length; pos++) {
      const c = buf[pos];
      if (c === SP) break;
      if (c < 48 || c > 57 || pos - start >= MAX_LENGTH_DIGITS) {
        // Not a length after all (e.g. a PRI-less line starting with a date): read it as LF-framed.
        return NOT_COUNTED;
      }
      value = value * 10 + (c - 48);
    }
    if (pos >= buf.length) return INCOMPLETE;
    const bodyStart = pos + 1;
    if (value > this.maxMessageBytes) {
      this.callbacks.onOversize();
      this.skipBytes = value;
      return bodyStart;
    }
    if (buf.length - bodyStart < value) return INCOMPLETE;
    this.callbacks.onMessage(buf.toString('utf8', bodyStart, bodyStart + value));
    return bodyStart + value;
  }
}
