import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { gaTable, measure, samplesIn } from './template-accuracy';

// A samples folder of systems the repository does not hold, written by the test: the command must measure
// whatever samples with ground truth it is given (the held-out systems are other Loghub ones).
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lad-ga-'));
  const log: string[] = [];
  const csv = ['LineId,Time,Component,Content,EventId,EventTemplate'];
  for (let i = 0; i < 60; i++) {
    const open = i % 2 === 0;
    const app = ['chrome.exe', 'Dropbox.exe', 'git.exe'][i % 3];
    const content = open ? `${app} - proxy.example.org:${5000 + i} open through proxy proxy.example.org:5070 HTTPS` : `${app} - www.site${i}.com:443 close, ${i} bytes sent, ${i * 2} bytes received, lifetime 00:0${i % 10}`;
    log.push(`[10.30 16:49:${String(i).padStart(2, '0')}] ${content}`);
    csv.push(`${i + 1},16:49:${i},${app},"${content}",${open ? 'E1' : 'E2'},"${open ? '<*> - <*> open through proxy <*> HTTPS' : '<*> - <*> close, <*> bytes sent, <*> bytes received, lifetime <*>'}"`);
  }
  writeFileSync(join(dir, 'Proxy_2k.log'), log.join('\n') + '\n');
  writeFileSync(join(dir, 'Proxy_2k.log_structured.csv'), csv.join('\n') + '\n');
  writeFileSync(join(dir, 'NoTruth_2k.log'), 'a line\n'); // no ground truth beside it: not a sample
  // a sample of another size, with Loghub's file names: measured, shown under its own name
  writeFileSync(join(dir, 'Proxy_full.log'), log.join('\n') + '\n');
  writeFileSync(join(dir, 'Proxy_full.log_structured.csv'), csv.join('\n') + '\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('measures every sample with ground truth in the folder, whatever its system', () => {
  expect(samplesIn(dir)).toEqual(['Proxy_2k', 'Proxy_full']);
  const rows = measure(dir, {});
  expect(rows).toEqual([
    { system: 'Proxy', ga: 1, templates: 2, events: 2 },
    { system: 'Proxy_full', ga: 1, templates: 2, events: 2 },
  ]);
  const table = gaTable(rows);
  expect(table).toContain('| Proxy | 1.000 | 2 / 2 | – |');
  expect(table).toContain('| Proxy_full | 1.000 | 2 / 2 | – |');
  expect(table).toContain('| **mean** (min) | **1.000** (1.000) | | – |');
});

it('shows Drain\'s published figure for a Loghub system and averages only those', () => {
  const table = gaTable([
    { system: 'Proxifier', ga: 0.5, templates: 9, events: 8 },
    { system: 'Other', ga: 1, templates: 1, events: 1 },
  ]);
  expect(table).toContain('| Proxifier | 0.500 | 9 / 8 | 0.526 |');
  expect(table).toContain('| **mean** (min) | **0.750** (0.500) | | 0.526 (0.526) |');
});

it('says what it needs when the folder holds no sample', () => {
  const empty = mkdtempSync(join(tmpdir(), 'lad-ga-empty-'));
  try {
    expect(() => measure(empty, {})).toThrow(/no <Name>.log/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

it('leaves out a sample whose ground truth is for another number of lines, and says why', () => {
  const odd = mkdtempSync(join(tmpdir(), 'lad-ga-odd-'));
  try {
    writeFileSync(join(odd, 'Good.log'), 'a started\nb started\nc stopped\n');
    writeFileSync(join(odd, 'Good.events.txt'), 'E1\nE1\nE2\n');
    writeFileSync(join(odd, 'Short.log'), 'x\ny\n');
    writeFileSync(join(odd, 'Short.events.txt'), 'E1\n');
    const skipped: string[] = [];
    expect(measure(odd, {}, skipped).map((r) => r.system)).toEqual(['Good']);
    expect(skipped).toEqual(['Short: 2 log lines, ground truth for 1']);
    expect(() => measure(join(odd, 'missing'), {})).toThrow(/no such folder/);
  } finally {
    rmSync(odd, { recursive: true, force: true });
  }
});
