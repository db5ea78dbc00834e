import { TimestampParser } from './timestamps';

// Year-less formats are placed near this reference: 2026-11-27.
const REF = Date.UTC(2026, 10, 27, 12, 0, 0);
const parser = new TimestampParser(() => REF);
const at = (line: string): number => parser.parse(line);
const iso = (line: string): string => new Date(at(line)).toISOString();

describe('timestamps', () => {
  it('reads ISO 8601 / RFC 3339, bare or after ts= / time= / a JSON key, with zones and fractions', () => {
    expect(iso('2024-05-02T12:17:22.012122Z caller=x')).toBe('2024-05-02T12:17:22.012Z');
    expect(iso('ts=2024-05-02T12:17:22.01212206Z caller=http.go:194 level=debug')).toBe('2024-05-02T12:17:22.012Z');
    expect(iso('level=info time=2024-05-02T14:17:22+02:00 msg=hi')).toBe('2024-05-02T12:17:22.000Z');
    expect(iso('{"level":"debug","msg":"calculate unfinished jobs","time":"2024-04-16T14:48:52Z"}')).toBe('2024-04-16T14:48:52.000Z');
    expect(iso('2024-05-02T12:17:22-0130 x')).toBe('2024-05-02T13:47:22.000Z');
  });

  it('reads yyyy-mm-dd hh:mm:ss with . or , fractions, and yyyy/mm/dd, yy/mm/dd', () => {
    expect(iso('2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop')).toBe('2015-10-18T18:01:47.978Z');
    // a date inside a file name (after a dot, not at a word start) is not the line's time
    expect(iso('nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO')).toBe('2017-05-16T00:00:00.008Z');
    expect(iso('2015-07-29 17:41:44 - INFO')).toBe('2015-07-29T17:41:44.000Z');
    expect(iso('2024/05/02 12:17:22 [error] 1#1: open()')).toBe('2024-05-02T12:17:22.000Z');
    expect(iso('17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend')).toBe('2017-06-09T20:10:40.000Z');
    expect(iso('R02-M1-N0 2005-06-03-15.42.50.675872 RAS KERNEL INFO')).toBe('2005-06-03T15:42:50.675Z');
  });

  it('reads RFC 5424 and RFC 3164 syslog; a year-less date takes the current year unless a month ahead', () => {
    expect(iso('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 - msg')).toBe('2003-10-11T22:14:15.003Z');
    expect(iso('Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure')).toBe('2026-06-14T15:16:01.000Z');
    expect(iso('Nov  9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed')).toBe('2026-11-09T12:01:01.000Z');
    // December read in late November: within a month ahead, this year; January of next year would be far ahead
    expect(iso('Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user')).toBe('2026-12-10T06:55:46.000Z');
    expect(new TimestampParser(() => Date.UTC(2027, 0, 3)).parse('Dec 31 23:59:59 host cron[1]: x')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59));
  });

  it('reads klog, NCSA/Apache access and error formats', () => {
    expect(iso('I0507 12:04:17.597069       1 node.go:339] "no Pod antiaffinity rule found"')).toBe('2026-05-07T12:04:17.597Z');
    expect(iso('E1127 01:02:03.000001 1 x.go:1] failed')).toBe('2026-11-27T01:02:03.000Z');
    expect(iso('127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326')).toBe('2000-10-10T20:55:36.000Z');
    expect(iso('[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok')).toBe('2005-12-04T04:47:44.000Z');
    // Android logcat threadtime, year-less at the start of the line
    expect(iso('03-17 16:13:38.811  1702  2395 D WindowManager: handle')).toBe('2026-03-17T16:13:38.811Z');
  });

  it('reads day month year: Redis, Tomcat OneLineFormatter, RFC 2822; and RFC 3164 right after its <PRI>', () => {
    expect(iso('1:M 01 May 2024 12:00:00.123 * Ready to accept connections tcp')).toBe('2024-05-01T12:00:00.123Z');
    expect(iso('4711:C 1 May 2024 12:01:00.512 - Accepted 10.0.0.5:51234')).toBe('2024-05-01T12:01:00.512Z');
    expect(iso('01-May-2024 12:00:01.789 SEVERE [http-nio-8080-exec-4] org.apache.catalina.core.StandardWrapperValve.invoke')).toBe('2024-05-01T12:00:01.789Z');
    expect(iso('Date: Wed, 01 May 2024 14:00:00 +0200 from mx1')).toBe('2024-05-01T12:00:00.000Z');
    expect(iso('<34>Oct 11 22:14:15 mymachine su: \'su root\' failed')).toBe('2026-10-11T22:14:15.000Z');
    // a day and a month name without a four-digit year and a clock are not a date
    expect(at('took 12 May be retried')).toBeNaN();
    expect(at('3-Mar-99 shipped')).toBeNaN();
  });

  it('reads epoch seconds or milliseconds in the leading field, and HDFS yymmdd hhmmss', () => {
    expect(iso('1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO')).toBe('2005-06-03T22:42:50.000Z');
    expect(iso('1117838570123 something')).toBe('2005-06-03T22:42:50.123Z');
    expect(iso('1117838570.5 something')).toBe('2005-06-03T22:42:50.500Z');
    expect(iso('081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1')).toBe('2008-11-09T20:36:15.000Z');
    // or as the value of a time key (pino's epoch milliseconds, GELF's seconds with a fraction, logfmt)
    expect(iso('{"level":30,"time":1777629600201,"pid":23,"msg":"request completed"}')).toBe('2026-05-01T10:00:00.201Z');
    expect(iso('{"version":"1.1","timestamp":1385053862.3072,"short_message":"x"}')).toBe('2013-11-21T17:11:02.307Z');
    expect(iso('level=info ts=1714557600 msg=x')).toBe('2024-05-01T10:00:00.000Z');
  });

  it('returns NaN for a line without a timestamp, and for look-alikes', () => {
    for (const line of [
      'connection refused',
      '',
      'user 1117838570 logged in', // epoch only as the leading field
      'took 12:04:17 to finish', // a time without a date
      'version 2024-13-45T99:00:00Z', // impossible fields
      'Jun 14 but not a time',
      '123456 abcdef',
      '10-20 items processed', // mm-dd without a time
      '{"count":1777629600201,"msg":"x"}', // a number under another key
      '{"runtime":1777629600201}',
    ]) {
      expect(at(line)).toBeNaN();
    }
  });

  it('keeps out-of-order timestamps as they are (ordering is the rate model\'s job)', () => {
    const times = ['2024-01-01T00:00:05Z a', '2024-01-01T00:00:01Z b', '2024-01-01T00:00:09Z c'].map(at);
    expect(times).toEqual([Date.UTC(2024, 0, 1, 0, 0, 5), Date.UTC(2024, 0, 1, 0, 0, 1), Date.UTC(2024, 0, 1, 0, 0, 9)]);
  });

  it('says where the timestamp it read is', () => {
    const p = new TimestampParser(() => REF);
    for (const [line, stamp] of [
      ['ts=2024-05-02T12:17:22.01212206Z caller=x', '2024-05-02T12:17:22.01212206Z'],
      ['1117838570 2005.06.03 R02', '1117838570'],
      ['[10/Oct/2000:13:55:36 -0700] "GET', '10/Oct/2000:13:55:36 -0700'],
      ['Jun 14 15:16:01 combo sshd', 'Jun 14 15:16:01'],
      // klog's letter is the severity: a re-stamp must not turn a W line into an I line
      ['W0507 12:04:17.597069       1 x.go:1] "y"', '0507 12:04:17.597069'],
    ]) {
      p.parse(line);
      expect(line.slice(p.matchStart, p.matchEnd)).toBe(stamp);
    }
  });

  it('parses bytes in place the same as strings', () => {
    const text = 'x\n2015-10-18 18:01:47,978 INFO a\nJun 14 15:16:01 combo b\n';
    const bytes = Buffer.from(text);
    const wide = new Uint16Array(bytes);
    const p = new TimestampParser(() => REF);
    expect(p.parseCodes(wide, 2, 32)).toBe(at('2015-10-18 18:01:47,978 INFO a'));
    expect(p.parseCodes(bytes, 33, 55)).toBe(at('Jun 14 15:16:01 combo b'));
  });
});
