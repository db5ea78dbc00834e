import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { resolveConfig } from '../engine';
import { markdown, readLogs, runProtocol, targets } from './protocol';

// A tiny samples directory written by the test (tests never read ../shared): one labelled log with alerts and
// two healthy logs, one with levels and one without.
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lad-protocol-'));
  mkdirSync(join(dir, 'loghub'));
  mkdirSync(join(dir, 'modern'));
  const labelled: string[] = [];
  const leveled: string[] = [];
  const plain: string[] = [];
  for (let i = 0; i < 240; i++) {
    const alert = i % 40 === 39;
    // a FATAL line labelled normal, as BGL has: the fatal-level rule flags it, so that rule's precision is 1/2
    const normalFatal = i % 40 === 19;
    labelled.push(
      alert ? `KERNDTLB 11${i} node-${i % 7} RAS KERNEL FATAL data TLB error interrupt`
      : normalFatal ? `- 11${i} node-${i % 7} RAS APP FATAL ciod: Error loading /bin/x: Permission denied`
      : `- 11${i} node-${i % 7} RAS KERNEL INFO generating core.${i}`,
    );
    leveled.push(`2015-10-18 18:01:${String(i % 60).padStart(2, '0')},978 INFO [main] org.apache.app.Master: task ${i % 5} done in ${i} ms`);
    plain.push(`Jun 14 15:16:${String(i % 60).padStart(2, '0')} combo sshd[${1000 + i}]: session opened for user u${i % 3}`);
  }
  writeFileSync(join(dir, 'loghub', 'Toy_2k.log'), labelled.join('\n') + '\n');
  writeFileSync(join(dir, 'loghub', 'App_2k.log'), leveled.join('\n') + '\n');
  writeFileSync(join(dir, 'modern', 'plain.log'), plain.join('\n') + '\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads labels from the first field only where most lines start with "-"', () => {
  const logs = readLogs(dir);
  expect(logs.map((l) => [l.name, l.system, l.labels === null])).toEqual([
    ['App_2k', 'App', true],
    ['Toy_2k', 'Toy', false],
    ['plain', 'plain', true],
  ]);
  expect(logs[1].lines[0].startsWith('11')).toBe(true); // label stripped
});

it('runs the three arms and reports them', async () => {
  const failures = [
    { system: 'Toy', level: 6, message: 'kernel panic: corrupted page table, machine halted' },
    { system: 'Other', level: 5, message: 'disk quota exceeded, write aborted' },
  ];
  const r = await runProtocol({ dataDir: dir, config: resolveConfig({ neural: { enabled: false } }), seeds: 2, injectPerSeed: 2, failures });
  expect(r.labelled.map((a) => `${a.fraction}${a.reversed ? 'r' : ''}`)).toEqual(['0.3', '0.5', '0.7', '0.3r', '0.5r', '0.7r']);
  // reversed: trained on the last fraction, scored on the lines before it
  expect(r.labelled[5].testLines).toBe(r.labelled[2].testLines);
  expect(r.labelled[5].trainLines).toBe(r.labelled[2].trainLines);
  expect(r.injection.map((a) => a.log)).toEqual(['App_2k', 'plain']);
  for (const a of r.injection) {
    expect(a.recall).toHaveLength(2);
    expect(a.injected).toBe(2);
  }
  expect(r.healthy.map((h) => h.log)).toEqual(['App_2k', 'Toy_2k (normal lines)', 'plain']);
  const md = markdown(r);
  expect(md).toContain('| Toy_2k | 0.5 |');
  expect(md).toContain('| Toy_2k | 0.7 reversed |');
  expect(md).toContain('| **all hosts** |');
  // the 0.5 split scores lines 120-239: alerts 159, 199, 239 and normal FATAL lines 139, 179, 219
  expect(r.labelled[1].fatalRuleF1).toBeCloseTo(2 / 3, 6);
  expect(md).toContain('| fatal-level rule F1 |');
  expect(targets(r).map((t) => t.name)).toContain('every labelled split (forward and reversed) F1 ≥ the fatal-level rule');
  expect(targets(r)).toHaveLength(6);
});

it('reads a flat folder of logs too, and says so when there are none', () => {
  const flat = mkdtempSync(join(tmpdir(), 'lad-protocol-flat-'));
  try {
    expect(() => readLogs(flat)).toThrow(/no \.log files/);
    writeFileSync(join(flat, 'Other_2k.log'), 'Jun 14 15:16:01 combo sshd[1]: session opened\n');
    writeFileSync(join(flat, 'BGL_part2.log'), '- 1 INFO a\n');
    // a slice of a known system is that system, so its own failures are not injected into it
    expect(readLogs(flat).map((l) => [l.name, l.system])).toEqual([['BGL_part2', 'BGL'], ['Other_2k', 'Other']]);
    expect(() => readLogs(join(flat, 'missing'))).toThrow(/no such samples folder/);
  } finally {
    rmSync(flat, { recursive: true, force: true });
  }
});

// A folder of logs we have never seen may hold a log no arm can use: it is reported, and the others measured.
it('reports a log it cannot measure and goes on: too short, or no line with a message part to replace', async () => {
  const odd = mkdtempSync(join(tmpdir(), 'lad-protocol-odd-'));
  try {
    writeFileSync(join(odd, 'short.log'), 'Jun 14 15:16:01 combo sshd[1]: session opened\n');
    // JSON access records (Envoy-style) have no message member: nothing to dress a failure in
    const records = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({ method: 'GET', path: `/api/items/${i % 7}`, protocol: 'HTTP/1.1', response_code: 200, duration: i }),
    );
    writeFileSync(join(odd, 'access.log'), records.join('\n') + '\n');
    // Docker's json-file lines carry the message in `log`: dressed there
    const docker = Array.from({ length: 60 }, (_, i) => JSON.stringify({ log: `GET /health ${i % 3} ok`, stream: 'stdout', time: `2024-05-01T10:00:${String(i % 60).padStart(2, '0')}Z` }));
    writeFileSync(join(odd, 'docker.log'), docker.join('\n') + '\n');
    const failures = [{ system: 'Other', level: 5, message: 'disk quota exceeded, write aborted' }];
    const r = await runProtocol({ dataDir: odd, config: resolveConfig({ neural: { enabled: false } }), seeds: 1, injectPerSeed: 2, failures });
    expect(r.skipped).toEqual([
      { log: 'access', arm: 'injection', reason: 'no line of access has a message part to replace' },
      { log: 'short', arm: 'healthy', reason: '1 non-empty lines, fewer than 10' },
    ]);
    expect(r.injection.map((a) => a.log)).toEqual(['docker']);
    expect(r.healthy.map((h) => h.log)).toEqual(['access', 'docker']);
    const md = markdown(r);
    expect(md).toContain('- access ((b) injection): no line of access has a message part to replace');
    expect(md).toContain('- not measured: every labelled split F1 ≥ 0.70 — no labelled log in the folder');
  } finally {
    rmSync(odd, { recursive: true, force: true });
  }
});
