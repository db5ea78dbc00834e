import { readFileSync } from 'fs';
import { join } from 'path';
import { tokenize } from '../engine';
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
    ['2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack', '2016-09-28 04:30:30, Error                  CBS    disk quota exceeded'],
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

// Session 11 (/work/coord/s11/inject-before.md): formats written from their documentation, and the samples' lines
// the header rule cut in the wrong place. The header ends at its last field (one `word:` program or logger name;
// a second one is the message's), and the level is respelled where the engine's level reader found it, in the
// host's family, so that reader reads the failure's level on the dressed line.
describe('dress: every format the engine reads', () => {
  const cases: [string, string][] = [
    ['2024-05-01 12:00:00.123 UTC [4242] LOG:  duration: 12.345 ms  statement: SELECT 1', '2024-05-01 12:00:00.123 UTC [4242] LOG:  disk quota exceeded'],
    ['2024-05-01 12:00:07.004 UTC [77] WARNING:  could not flush dirty data', '2024-05-01 12:00:07.004 UTC [77] ERROR:  disk quota exceeded'],
    ['2015-10-18 18:01:48,963 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Kind: YARN_AM_RM_TOKEN, Service: ', '2015-10-18 18:01:48,963 ERROR [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: disk quota exceeded'],
    ['Dec 10 06:55:46 LabSZ sshd[24200]: input_userauth_request: invalid user webmaster [preauth]', 'Dec 10 06:55:46 LabSZ sshd[24200]: disk quota exceeded'],
    ['2015-08-07 07:27:47,425 - INFO  [WorkerReceiver[myid=1]:FastLeaderElection@542] - Notification: 3 (n.leader)', '2015-08-07 07:27:47,425 - ERROR  [WorkerReceiver[myid=1]:FastLeaderElection@542] - disk quota exceeded'],
    ['I0507 12:02:49.544175       1 reflector.go:790] k8s.io/client-go/informers/factory.go:150: Watch close - *v1.PriorityClass', 'E0507 12:02:49.544175       1 reflector.go:790] disk quota exceeded'],
    ['03-17 16:13:38.077  2218  4135 W libc: Fatal signal 6 (SIGABRT)', '03-17 16:13:38.077  2218  4135 E libc: disk quota exceeded'],
    ['WARNING:root:Watch out! disk usage at 91%', 'ERROR:root:disk quota exceeded'],
    ['2024-05-01 12:00:00,123 - myapp.api - INFO - Started request GET /users/42', '2024-05-01 12:00:00,123 - myapp.api - ERROR - disk quota exceeded'],
    ['2024-05-01T12:00:00.123+02:00  INFO 12345 --- [myapp] [           main] o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat started on port 8080', '2024-05-01T12:00:00.123+02:00  ERROR 12345 --- [myapp] [           main] o.s.b.w.embedded.tomcat.TomcatWebServer  : disk quota exceeded'],
    ['2024-05-01 12:00:02.0001|INFO|Shop.Api.Program|Application started', '2024-05-01 12:00:02.0001|ERROR|Shop.Api.Program|disk quota exceeded'],
    ['2024-05-01T12:00:02.789Z\tINFO\tserver/http.go:88\thandled request\t{"method": "GET"}', '2024-05-01T12:00:02.789Z\tERROR\tserver/http.go:88\tdisk quota exceeded'],
    ['2024-05-01 14:00:02.323456+02:00 [info] <0.777.0> accepting AMQP connection <0.777.0> (10.0.0.3:55000 -> 10.0.0.2:5672)', '2024-05-01 14:00:02.323456+02:00 [error] <0.777.0> disk quota exceeded'],
    ['1:M 01 May 2024 12:00:00.123 * Ready to accept connections tcp', '1:M 01 May 2024 12:00:00.123 # disk quota exceeded'],
    ['<165>1 2024-05-01T12:00:00.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3"] An application event log entry', '<163>1 2024-05-01T12:00:00.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3"] disk quota exceeded'],
    ['<86>1 2024-05-01T12:00:03.000Z web-1 sshd - ID47 - Accepted password for bob', '<83>1 2024-05-01T12:00:03.000Z web-1 sshd - ID47 - disk quota exceeded'],
    ['[Wed May 01 12:00:02.323456 2024] [mpm_event:notice] [pid 1:tid 140001] AH00489: Apache/2.4.58 (Unix) configured', '[Wed May 01 12:00:02.323456 2024] [mpm_event:error] [pid 1:tid 140001] AH00489: disk quota exceeded'],
    ["2024-05-01T12:00:02.100000Z 15 [Note] [MY-010914] [Server] Aborted connection 15 to db: 'shop'", '2024-05-01T12:00:02.100000Z 15 [Error] [MY-010914] [Server] disk quota exceeded'],
    ['2024-05-01T12:00:02.000000001Z stderr F I0501 12:00:02.000000       1 leaderelection.go:250] "attempting to acquire leader lease"', '2024-05-01T12:00:02.000000001Z stderr F E0501 12:00:02.000000       1 leaderelection.go:250] "disk quota exceeded"'],
    ['2024-05-01T12:00:05.5Z stdout F {"level":"info","ts":1714564805.5,"msg":"listening","addr":":8080"}', '2024-05-01T12:00:05.5Z stdout F {"level":"error","ts":1714564805.5,"msg":"disk quota exceeded","addr":":8080"}'],
    ['{"log":"2024-05-01 12:00:00,123 - app - INFO - Started worker 4\\n","stream":"stderr","time":"2024-05-01T12:00:00.123456789Z"}', '{"log":"2024-05-01 12:00:00,123 - app - ERROR - disk quota exceeded\\n","stream":"stderr","time":"2024-05-01T12:00:00.123456789Z"}'],
    ['2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack', '2016-09-28 04:30:30, Error                  CBS    disk quota exceeded'],
  ];
  it.each(cases)('%s', (host, want) => {
    expect(dress(host, 'disk quota exceeded', 5)).toBe(want);
  });
  it('the engine reads the failure\'s level on every dressed line whose host line has one (Redis: its highest, #)', () => {
    for (const [host, want] of cases) {
      const before = tokenize(host).level;
      if (before >= 0) expect([host, tokenize(want).level]).toEqual([host, host.startsWith('1:M') ? 4 : 5]);
    }
  });
  it('a fatal failure: klog F, syslog PRI crit of the same facility, pino 60', () => {
    expect(dress('I0507 12:02:27.923860       1 node.go:339] "no Pod rule found"', 'boom', 6)).toBe('F0507 12:02:27.923860       1 node.go:339] "boom"');
    expect(dress('<165>1 2024-05-01T12:00:00.003Z host app 1 - - started', 'boom', 6)).toBe('<162>1 2024-05-01T12:00:00.003Z host app 1 - - boom');
    expect(dress('2024-05-01T12:00:05.5Z stdout F {"level":30,"msg":"listening"}', 'boom', 6)).toBe('2024-05-01T12:00:05.5Z stdout F {"level":60,"msg":"boom"}');
  });
});

describe('headerPool', () => {
  const host = ['t INFO a: x', 't INFO a: y', 't WARN b: z', 't FATAL c: w'];
  it('prefers the most severe host level not above the failure', () => {
    expect(headerPool(host, 5)).toEqual(['t WARN b: z']);
    expect(headerPool(host, 6)).toEqual(['t FATAL c: w']);
  });
  it('counts a word in the field where other lines carry their level as a level (PostgreSQL LOG:)', () => {
    const pg = ['t1 UTC [1] LOG:  checkpoint starting: time', 't2 UTC [2] LOG:  checkpoint complete', 't3 UTC [3] ERROR:  relation "a" does not exist'];
    expect(headerPool(pg, 5)).toEqual(['t3 UTC [3] ERROR:  relation "a" does not exist']);
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
