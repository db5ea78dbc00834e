import { readFileSync } from 'fs';
import { join } from 'path';
import { dress, headerPool, inject, messageStart, parseFailures } from './protocol-inject';

const MSG = 'disk quota exceeded';

describe('dress: the host header, a foreign message', () => {
  it.each([
    ['[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/x', '[Sun Dec 04 04:47:44 2005] [error] disk quota exceeded'],
    ['081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block', '081109 203615 148 ERROR dfs.DataNode$PacketResponder: disk quota exceeded'],
    ['2015-10-18 18:01:47,978 INFO [RMCommunicator Allocator] org.apache.X: Created it', '2015-10-18 18:01:47,978 ERROR [RMCommunicator Allocator] org.apache.X: disk quota exceeded'],
    ['2015-10-18 18:06:14,013 ERROR [main] org.apache.X: ERROR IN CONTACTING RM.', '2015-10-18 18:06:14,013 ERROR [main] org.apache.X: disk quota exceeded'],
    ['Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; uid=0', 'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: disk quota exceeded'],
    ['2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:2181:X@774] - Notification time out: 3200', '2015-07-29 17:41:44,747 - ERROR  [QuorumPeer[myid=1]/0:0:2181:X@774] - disk quota exceeded'],
    ['n.log 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-1 - -] 10.1.1.1 "GET /v2"', 'n.log 2017-05-16 00:00:00.008 25746 ERROR nova.osapi_compute.wsgi.server [req-1 - -] disk quota exceeded'],
    ['I0507 12:02:27.923860       1 node.go:339] "no Pod rule found" pod="a/b"', 'E0507 12:02:27.923860       1 node.go:339] "disk quota exceeded"'],
    ['ts=2024-05-02T12:17:22Z caller=http.go:194 level=debug orgID=1 msg="POST /push (200)" x=1', 'ts=2024-05-02T12:17:22Z caller=http.go:194 level=error orgID=1 msg="disk quota exceeded" x=1'],
    ['{"level":"debug","msg":"request completed","status":200}', '{"level":"error","msg":"disk quota exceeded","status":200}'],
    ['{"level":30,"time":1714557600000,"msg":"request completed"}', '{"level":50,"time":1714557600000,"msg":"disk quota exceeded"}'],
    ['20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579', '20171223-22:15:29:606|Step_LSC|30002312|disk quota exceeded'],
    ['{"@t":"2026-05-01T10:00:00Z","@mt":"Slow {Op}","@l":"Warning","Op":"x"}', '{"@t":"2026-05-01T10:00:00Z","@mt":"disk quota exceeded","@l":"Error","Op":"x"}'],
    ['03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs', '03-17 16:13:38.811  1702  2395 E WindowManager: disk quota exceeded'],
    ['2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack', '2016-09-28 04:30:30, Error                  disk quota exceeded'],
  ])('%s', (host, want) => {
    expect(dress(host, MSG, 5)).toBe(want);
  });

  it('keeps a higher host level and leaves a log without levels alone', () => {
    expect(dress('2015-10-18 18:01:47,978 FATAL [main] org.apache.X: boom', MSG, 5)).toBe('2015-10-18 18:01:47,978 FATAL [main] org.apache.X: disk quota exceeded');
    expect(dress('Dec 10 06:55:46 LabSZ sshd[24200]: Connection closed', MSG, 5)).toBe('Dec 10 06:55:46 LabSZ sshd[24200]: disk quota exceeded');
  });

  it('finds no message part in a line without a header', () => {
    expect(messageStart('just some words here')).toBe(-1);
    expect(dress('just some words here', MSG)).toBeNull();
  });
});

describe('headerPool', () => {
  const host = ['t INFO a: x', 't INFO a: y', 't WARN b: z', 't FATAL c: w'];
  it('prefers the most severe host level not above the failure', () => {
    expect(headerPool(host, 5)).toEqual(['t WARN b: z']);
    expect(headerPool(host, 6)).toEqual(['t FATAL c: w']);
  });
  it('uses lines without a level in a log that mostly has none', () => {
    expect(headerPool(['Dec 1 h sshd[1]: a', 'Dec 1 h sshd[2]: b', 'Dec 1 h x[3]: ERROR c'], 5)).toEqual(['Dec 1 h sshd[1]: a', 'Dec 1 h sshd[2]: b']);
  });
});

describe('inject', () => {
  const failures = [
    { system: 'A', level: 5, message: 'a one' },
    { system: 'A', level: 5, message: 'a two' },
    { system: 'B', level: 5, message: 'b one' },
    { system: 'Host', level: 5, message: 'own failure' },
  ];
  const host = Array.from({ length: 50 }, (_, i) => `t${i} INFO comp: line ${i}`);

  it('inserts failures of other systems, balanced over sources, reproducibly', () => {
    const a = inject(host.slice(25), host, 'Host', failures, 2, 7);
    expect(a.lines.length).toBe(27);
    expect(a.injected.filter(Boolean).length).toBe(2);
    expect([...a.sources].sort()).toEqual(['A', 'B']);
    expect(a.lines.filter((_, i) => !a.injected[i])).toEqual(host.slice(25));
    expect(a.lines.some((l) => l.includes('own failure'))).toBe(false);
    expect(inject(host.slice(25), host, 'Host', failures, 2, 7)).toEqual(a);
    expect(inject(host.slice(25), host, 'Host', failures, 3, 8).injected.filter(Boolean).length).toBe(3);
  });

  it('knows its own system whatever the case of the name', () => {
    for (let seed = 1; seed <= 5; seed++) expect(inject(host.slice(25), host, 'host', failures, 3, seed).lines.some((l) => l.includes('own failure'))).toBe(false);
  });
});

it('failures.tsv parses: error or fatal messages, no empty ones', () => {
  const f = parseFailures(readFileSync(join(__dirname, '../testdata/injection/failures.tsv'), 'utf8'));
  expect(f.length).toBeGreaterThan(50);
  expect(f.every((x) => x.level >= 5 && x.message.length > 0)).toBe(true);
});
