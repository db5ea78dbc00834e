import { SyslogFramer } from './syslog-framing';

describe('SyslogFramer (RFC 6587)', () => {
  function frame(chunks: Buffer[], max = 1024): { messages: string[]; oversize: number } {
    const messages: string[] = [];
    let oversize = 0;
    const framer = new SyslogFramer(max, { onMessage: (m) => messages.push(m), onOversize: () => oversize++ });
    for (const c of chunks) framer.push(c);
    framer.end();
    return { messages, oversize };
  }

  it('splits octet-counted frames, counting bytes not characters, across arbitrary chunk boundaries', () => {
    const msgs = ['<14>1 - h a - - - héllo wörld', '<14>1 - h a - - - line\nwith LF inside', '<14>1 - h a - - - x'];
    const stream = Buffer.from(msgs.map((m) => `${Buffer.byteLength(m)} ${m}`).join(''));
    for (const size of [1, 2, 3, 7, stream.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      expect(frame(chunks).messages).toEqual(msgs);
    }
  });

  it('splits LF-framed messages, mixed with octet-counted ones, and keeps a final message without LF', () => {
    const m1 = '<13>Oct 11 22:14:15 h a: one';
    const stream = Buffer.from(`${m1}\r\n12 <13>1 - - - \n<13>three`);
    expect(frame([stream.subarray(0, 5), stream.subarray(5)]).messages).toEqual([m1 + '\r', '<13>1 - - - ', '<13>three']);
  });

  it('skips and counts oversized frames of both kinds, then resynchronises', () => {
    const big = 'x'.repeat(100);
    const stream = Buffer.from(`104 <1>${big} ok\n<1>${big}\n<1>after`);
    const { messages, oversize } = frame([stream.subarray(0, 30), stream.subarray(30, 70), stream.subarray(70)], 50);
    expect(oversize).toBe(2);
    expect(messages).toEqual(['ok', '<1>after']);
  });

  it('reads a digit-led line without a length prefix as an LF-framed message', () => {
    expect(frame([Buffer.from('2026-11-25 plain line\n')]).messages).toEqual(['2026-11-25 plain line']);
  });

  it('holds at most one bounded frame: an endless line without LF is dropped, not buffered', () => {
    const messages: string[] = [];
    let oversize = 0;
    const framer = new SyslogFramer(64, { onMessage: (m) => messages.push(m), onOversize: () => oversize++ });
    for (let i = 0; i < 100; i++) {
      framer.push(Buffer.from('<1>' + 'y'.repeat(30)));
      expect(framer.bufferedBytes).toBeLessThanOrEqual(64 + 33);
    }
    framer.push(Buffer.from('\n<1>next\n'));
    expect(oversize).toBe(1);
    expect(messages).toEqual(['<1>next']);
  });
});
