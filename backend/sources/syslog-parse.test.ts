import { parseSyslog } from './syslog-parse';

describe('parseSyslog RFC 5424', () => {
  it('parses the RFC 5424 §6.5 example 1 (no structured data, BOM-less message)', () => {
    const m = parseSyslog('<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \'su root\' failed for lonvick on /dev/pts/8');
    expect(m).toEqual({
      format: 'rfc5424',
      facility: 'auth',
      severity: 'crit',
      timestampMs: Date.UTC(2003, 9, 11, 22, 14, 15, 3),
      host: 'mymachine.example.com',
      app: 'su',
      procId: null,
      msgId: 'ID47',
      structuredData: null,
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  it('parses example 2: microseconds and a numeric offset', () => {
    const m = parseSyslog('<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It\'s time to make the do-nuts.');
    expect(m.facility).toBe('local4');
    expect(m.severity).toBe('notice');
    expect(m.timestampMs).toBe(Date.UTC(2003, 7, 24, 12, 14, 15, 0));
    expect(m.host).toBe('192.0.2.1');
    expect(m.app).toBe('myproc');
    expect(m.procId).toBe('8710');
    expect(m.message).toBe("%% It's time to make the do-nuts.");
  });

  it('parses structured data with escaped quote and bracket, and strips the UTF-8 BOM', () => {
    const m = parseSyslog(
      '<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App\\"lic\\]ation"][examplePriority@32473 class="high"] \uFEFFAn application event'
    );
    expect(m.structuredData).toBe('[exampleSDID@32473 iut="3" eventSource="App\\"lic\\]ation"][examplePriority@32473 class="high"]');
    expect(m.message).toBe('An application event');
    expect(m.app).toBe('evntslog');
  });

  it('leaves an unreadable timestamp null (the source then stamps the receive time) and keeps the rest', () => {
    const m = parseSyslog('<14>1 2003-13-45T99:00:00Z host app - - - still parsed');
    expect(m.timestampMs).toBeNull();
    expect([m.host, m.app, m.message]).toEqual(['host', 'app', 'still parsed']);
  });

  it('keeps NILVALUE fields null and an absent message empty', () => {
    const m = parseSyslog('<14>1 - - - - - -');
    expect(m.format).toBe('rfc5424');
    expect([m.timestampMs, m.host, m.app, m.procId, m.msgId, m.structuredData]).toEqual([null, null, null, null, null, null]);
    expect(m.message).toBe('');
    expect(m.severity).toBe('info');
    expect(m.facility).toBe('user');
  });
});

describe('parseSyslog RFC 3164', () => {
  const now = Date.UTC(2026, 10, 25, 12, 0, 0);

  it('parses the RFC 3164 §5.4 example with host and tag[pid]', () => {
    const m = parseSyslog('<34>Oct 11 22:14:15 mymachine su[230]: \'su root\' failed for lonvick on /dev/pts/8', now);
    expect(m.format).toBe('rfc3164');
    expect(m.severity).toBe('crit');
    expect(m.facility).toBe('auth');
    expect(m.timestampMs).toBe(new Date(2026, 9, 11, 22, 14, 15).getTime());
    expect(m.host).toBe('mymachine');
    expect(m.app).toBe('su');
    expect(m.procId).toBe('230');
    expect(m.message).toBe("'su root' failed for lonvick on /dev/pts/8");
  });

  it('reads a space-padded day and a tag without pid; a December line received in January is last year', () => {
    const jan = Date.UTC(2027, 0, 2, 0, 0, 0);
    const m = parseSyslog('<13>Dec  3 01:02:03 web01 cron: job done\r\n', jan);
    expect(m.timestampMs).toBe(new Date(2026, 11, 3, 1, 2, 3).getTime());
    expect(m.host).toBe('web01');
    expect(m.app).toBe('cron');
    expect(m.message).toBe('job done');
  });

  it('has no hostname when the first word after the timestamp is the tag', () => {
    const m = parseSyslog('<30>Nov 25 10:00:00 sshd[99]: Accepted publickey', now);
    expect(m.host).toBeNull();
    expect(m.app).toBe('sshd');
    expect(m.procId).toBe('99');
    expect(m.severity).toBe('info');
    expect(m.facility).toBe('daemon');
  });

  it('reads the RFC 3339 timestamp rsyslog forward format uses', () => {
    const m = parseSyslog('<11>2026-11-25T10:00:00.123456+00:00 db1 postgres[7]: FATAL: out of memory', now);
    expect(m.timestampMs).toBe(Date.UTC(2026, 10, 25, 10, 0, 0, 123));
    expect(m.host).toBe('db1');
    expect(m.app).toBe('postgres');
    expect(m.severity).toBe('err');
    expect(m.message).toBe('FATAL: out of memory');
  });

  it('accepts a TAG ended by a space after a timestamp and host (rsyslog forward format of an RFC 5424 message)', () => {
    const m = parseSyslog('<156>2026-11-25T15:22:49.387+00:00 vm api api request 0 done', now);
    expect([m.host, m.app, m.message]).toEqual(['vm', 'api', 'api request 0 done']);
    const plain = parseSyslog('<13>no header here', now);
    expect([plain.host, plain.app, plain.message]).toEqual([null, null, 'no header here']);
  });

  it('treats a line without PRI as user.notice and keeps the whole text as the message', () => {
    const m = parseSyslog('just a plain line', now);
    expect(m.severity).toBe('notice');
    expect(m.facility).toBe('user');
    expect(m.timestampMs).toBeNull();
    expect(m.app).toBeNull();
    expect(m.message).toBe('just a plain line');
  });

  it('rejects an out-of-range PRI as text instead of misreading it', () => {
    const m = parseSyslog('<999>hello', now);
    expect(m.severity).toBe('notice');
    expect(m.message).toBe('<999>hello');
  });
});
