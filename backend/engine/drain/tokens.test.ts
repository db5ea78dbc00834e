import { readFileSync } from 'fs';
import * as path from 'path';
import { groupingAccuracy } from './grouping-accuracy';
import { GENERATED_DIR } from '../../testdata/paths';
import { mineLines } from './mine-lines';
import { SeededRandom } from '../random';
import { joinTokens, splitTemplate } from './tokens';

describe('miner tokens', () => {
  it('splits at spaces, keeps bracket groups whole and makes a field delimiter a token of its own', () => {
    expect(splitTemplate('a [b c] d')).toEqual(['a', '[b c]', 'd']);
    expect(splitTemplate('<TS>|Step_LSC|<NUM>|onStandStepChanged <NUM>')).toEqual(['<TS>', '|', 'Step_LSC', '|', '<NUM>', '|', 'onStandStepChanged', '<NUM>']);
    expect(splitTemplate('[x|y] z')).toEqual(['[x|y]', 'z']);
    expect(splitTemplate('')).toEqual([]);
  });

  it('mines a JSON line on its message (as Loki does), and splits one without a message into its members', () => {
    expect(splitTemplate('{"time":<NUM>,"host":"echo","msg":"cache miss","key":"item:<NUM>"}')).toEqual(['{…"msg":"', 'cache', 'miss', '"…}']);
    // Loki's order of keys: "log" before "msg"; a key is a member's, not words inside a string
    expect(splitTemplate('{"msg":"a","log":"b c"}')).toEqual(['{…"log":"', 'b', 'c', '"…}']);
    expect(splitTemplate('{"note":"say \\"msg\\":\\"x\\"","message":"m"}')).toEqual(['{…"message":"', 'm', '"…}']);
    // Serilog's compact JSON: the message template `@mt`, holes and all
    expect(splitTemplate('{"@t":"<TS>","@mt":"Order {OrderId} failed","OrderId":<NUM>}')).toEqual(['{…"@mt":"', 'Order', '{OrderId}', 'failed', '"…}']);
    // a nested object's message is a detail of the event (pino's err object), the line's message is the top level's
    expect(splitTemplate('{"level":<NUM>,"err":{"type":"Error","message":"out of memory"},"msg":"process exiting"}')).toEqual(['{…"msg":"', 'process', 'exiting', '"…}']);
    expect(joinTokens(splitTemplate('{"a":<NUM>,"b":"x y"}'))).toBe('{"a":<NUM>,"b":"x y"}');
    expect(splitTemplate('{"a":<NUM>,"b":"x y"}')).toHaveLength(4); // `{"a":<NUM>` `,` `"b":"x` `y"}`
    expect(splitTemplate('plain text , here')).toEqual(['plain', 'text', ',', 'here']);
  });

  // session 11: JSON's optional whitespace (Python's json.dumps, Elasticsearch), and JSON after a header (a CRI
  // container line as kubelet writes it, a syslog header before an application's JSON)
  it('mines JSON with spaces around its colons, and JSON after a header, on the message', () => {
    expect(splitTemplate('{"@timestamp": "<TS>", "level": "ERROR", "thread_name": "main", "message": "cart created"}')).toEqual(['{…"message":"', 'cart', 'created', '"…}']);
    expect(splitTemplate('<TS> <ID> app[<NUM>]: {"level":"error","host":"web-a","msg":"request failed"}')).toEqual(['<TS>', '<ID>', 'app[<NUM>]:', '{…"msg":"', 'request', 'failed', '"…}']);
    expect(joinTokens(splitTemplate('<TS> <ID> app[<NUM>]: {"host":"web-a","msg":"request <*>"}'))).toBe('<TS> <ID> app[<NUM>]: {…"msg":"request <*>"…}');
    // a CRI container line is mined as the program's own line (its runtime's time, stream and tag are no part of it)
    expect(splitTemplate('<TS> stdout F {"level":"error","host":"web-a","msg":"request failed"}')).toEqual(['{…"msg":"', 'request', 'failed', '"…}']);
    expect(splitTemplate('<TS> stderr P E<NUM> <NUM>:<NUM>:<NUM> <NUM> x.go:<NUM>] "sync failed"')).toEqual(['E<NUM>', '<NUM>:<NUM>:<NUM>', '<NUM>', 'x.go:<NUM>]', '"sync', 'failed"']);
    expect(splitTemplate('<TS> stdin F x')).toEqual(['<TS>', 'stdin', 'F', 'x']);
    // without a message member, or not ending the line, it is words as before
    expect(splitTemplate('<TS> INFO done {"a": <NUM>}')).toEqual(['<TS>', 'INFO', 'done', '{"a":', '<NUM>}']);
    expect(splitTemplate('x {"msg":"a"} y')).toEqual(['x', '{"msg":"a"}', 'y']);
  });

  // The generated samples as kubelet stores them (/var/log/pods: `<time> stdout|stderr F <line>`): mined on the
  // members, glued pairs of them made templates by value (GA 0.731 and 0.572 before), as without the prefix before
  // session 5; klog's header after the prefix was a line's first words.
  it.each(['drone-json', 'node-pino', 'kubernetes-klog'])('groups %s behind a CRI prefix as it groups it bare', (name) => {
    const read = (file: string): string[] => readFileSync(path.join(GENERATED_DIR, file), 'utf8').split('\n').filter((l) => l.length > 0);
    const lines = read(`${name}.log`);
    const truth = read(`${name}.events.txt`);
    const start = Date.UTC(2024, 4, 1);
    const cri = lines.map((l, i) => `${new Date(start + i * 997).toISOString()} ${i % 3 === 0 ? 'stderr' : 'stdout'} F ${l}`);
    expect(groupingAccuracy(mineLines(cri).templates, truth)).toBe(groupingAccuracy(mineLines(lines).templates, truth));
    expect(mineLines(cri).templates).toEqual(mineLines(lines).templates);
  });

  it('joins back to the same text, so a stored template splits into the tokens the miner compares', () => {
    for (const text of [
      'a [b c] d',
      '<TS>|Step_LSC|<NUM>|onStandStepChanged <NUM>',
      'x||y z',
      '|lead and trail|',
      '{…"msg":"cache <*>"…}',
      '{…"msg":""…}',
      '{"a":<NUM>,<*>,"c":"x <*>"}',
      'plain text , here',
      '<TS> <ID> app[<NUM>]: {…"msg":"request <*>"…}',
    ]) {
      expect(joinTokens(splitTemplate(text))).toBe(text);
      expect(splitTemplate(joinTokens(splitTemplate(text)))).toEqual(splitTemplate(text));
    }
  });

  // A generated JSON log (pino-style): host, user and method vary beyond the closed-set limit; the events are the
  // messages. Split at spaces, every field before the message was one token with it: a template per host.
  it('groups the events of a compact JSON log by message, whichever host, user or method wrote them', () => {
    const rng = new SeededRandom(11);
    const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)];
    const hosts = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
    const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE'];
    const events: (() => Record<string, unknown>)[] = [
      () => ({ level: 30, msg: 'request completed', method: pick(methods), url: '/api/items', status: 200, user: pick(users) }),
      () => ({ level: 40, msg: 'cache miss', key: `item:${rng.nextInt(1000)}`, user: pick(users) }),
      () => ({ level: 50, msg: 'db query slow', ms: rng.nextInt(5000), method: pick(methods) }),
    ];
    const lines: string[] = [];
    const truth: string[] = [];
    for (let i = 0; i < 900; i++) {
      const e = rng.nextInt(events.length);
      lines.push(JSON.stringify({ time: 1_700_000_000_000 + i * 1000, pid: 1000 + rng.nextInt(50), hostname: pick(hosts), ...events[e]() }));
      truth.push(`E${e}`);
    }
    const { templates } = mineLines(lines);
    expect(groupingAccuracy(templates, truth)).toBeGreaterThanOrEqual(0.99);
    expect(new Set(templates)).toEqual(new Set(['{…"msg":"request completed"…}', '{…"msg":"cache miss"…}', '{…"msg":"db query slow"…}']));
  });

  // A generated pipe-delimited log (time|component|pid|message): events are the message shapes, whichever
  // component writes them. Glued into one token per line head, every (component, first word) pair was its own
  // template and a varying component could never become a wildcard.
  it('groups the events of a pipe-delimited log by message, not by the glued line head', () => {
    const components = ['Step_LSC', 'Step_SPUtils', 'Step_StandReportReceiver', 'Step_ExtSDM', 'Step_FlushableStepDataCache', 'Step_NotificationUtil'];
    // Messages of a few words: with one word only, the component weighs as much as the message (see
    // similarity.ts) and the line stays apart; that is the similarity rule, not this one.
    const events: ((n: number) => string)[] = [
      (n) => `step changed to ${n} from sensor`,
      (n) => `set today total detail steps ${n} ${n % 97} ${n % 13}`,
      (n) => `flush sensor data, total steps ${n} in ${n % 60} ms`,
      (n) => `REPORT : ${n} ${n % 7} ${n % 1000} ${n % 3}`,
    ];
    const lines: string[] = [];
    const truth: string[] = [];
    for (let i = 0; i < 400; i++) {
      const e = Math.floor(i / components.length) % events.length;
      const component = components[i % components.length];
      lines.push(`20171223-22:${String(10 + (i % 50)).padStart(2, '0')}:29:${100 + i}|${component}|${30002312 + (i % 3)}|${events[e](1000 + i * 37)}`);
      truth.push(`E${e}`);
    }
    const { templates } = mineLines(lines);
    expect(groupingAccuracy(templates, truth)).toBeGreaterThanOrEqual(0.99);
  });
  // Drain compares only lines of equal token count: a list of hosts of varying length split one event into a
  // template per length (Thunderbird's `gmetad: Warning: we failed to resolve data source name an14 … an27`).
  it('takes a run of identical type placeholders as one token, never a run of wildcards', () => {
    expect(splitTemplate('failed to resolve data source name <ID> <ID> <ID>')).toEqual(['failed', 'to', 'resolve', 'data', 'source', 'name', '<ID>']);
    expect(splitTemplate('<NUM> <NUM> <NUM> INFO dfs.DataNode: ok <NUM> <IP>')).toEqual(['<NUM>', 'INFO', 'dfs.DataNode:', 'ok', '<NUM>', '<IP>']);
    expect(splitTemplate('a <*> <*> b')).toEqual(['a', '<*>', '<*>', 'b']);
    const hosts = (n: number): string => Array.from({ length: n }, (_, k) => `an${k + 14}`).join(' ');
    const lines = [3, 14, 7, 1, 12].map((n) => `gmetad: Warning: we failed to resolve data source name ${hosts(n)}`);
    expect(new Set(mineLines(lines).templates).size).toBe(1);
  });
});
