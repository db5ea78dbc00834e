// The `lad` command-line contract, tested by spawning the real compiled CLI (backend/bin/lad.js, which runs
// backend/dist/cli/main.js: `npm run build` or `npx tsc -p backend/tsconfig.json` builds it).

import { execFileSync, spawn, type ChildProcessByStdio } from 'child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import type { Readable, Writable } from 'stream';
import { templateOf } from '../engine';

const BIN = path.resolve(__dirname, '../bin/lad.js');
const COMPILED = path.resolve(__dirname, '../dist/cli/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Resolves when the child has exited, with its exit code and all it wrote. */
function outcome(child: ChildProcessByStdio<Writable | null, Readable, Readable>): Promise<Run> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function lad(args: string[], stdin?: string): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const done = outcome(child);
  child.stdin.end(stdin ?? '');
  return done;
}

function routine(n: number, offset = 0): string[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return [
      `2024-05-02 12:00:${String(i % 60).padStart(2, '0')} INFO http GET /api/items/${i} 200 ${i % 40}ms`,
      `2024-05-02 12:00:${String(i % 60).padStart(2, '0')} INFO cache hit ratio ${(i % 100) / 100}`,
      `2024-05-02 12:00:${String(i % 60).padStart(2, '0')} WARN slow query on table orders took ${i % 900}ms`,
    ][i % 3];
  });
}
const BAD = '2024-05-02 12:00:01 FATAL storage controller terminated: journal corrupted on /dev/sdb';

describe('lad CLI contract (spawns the compiled CLI)', () => {
  let dir: string;
  let trainFile: string;
  let modelDir: string;

  beforeAll(async () => {
    if (!existsSync(COMPILED)) throw new Error(`${COMPILED} is missing: build the backend first (npx tsc -p backend/tsconfig.json)`);
    dir = mkdtempSync(path.join(tmpdir(), 'lad-cli-'));
    trainFile = path.join(dir, 'train.log');
    writeFileSync(trainFile, routine(1500).join('\n') + '\n');
    modelDir = path.join(dir, 'model');
    const r = await lad(['train', '--input', trainFile, '--model', modelDir, '--som-size', '6', '--seed', '3']);
    expect(r.stderr).toMatch(/trained on 1500 lines/);
    expect(r.code).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('score --format jsonl: one object per input line, in order, with the contract fields', async () => {
    const lines = [...routine(5, 2000), BAD, '', ...routine(3, 3000)];
    const input = path.join(dir, 'score.log');
    writeFileSync(input, lines.join('\n') + '\n');
    const r = await lad(['score', '--model', modelDir, '--input', input, '--format', 'jsonl']);
    expect(r.code).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out.map((o) => o.line)).toEqual(lines.map((_, i) => i + 1));
    for (const o of out) {
      expect(typeof o.score).toBe('number');
      expect(typeof o.anomaly).toBe('boolean');
      expect(typeof o.template).toBe('string');
      expect(typeof o.reason).toBe('string');
    }
    expect(out[5]).toMatchObject({ anomaly: true, level: 'fatal' });
    expect(out[5].template).toBe('<TS> <NUM>:<NUM>:<NUM> FATAL storage controller terminated: journal corrupted on <PATH>');
    expect(out.filter((o) => o.anomaly).length).toBe(1);
  });

  it('score reads stdin by default and --format text prints anomalies for people', async () => {
    const r = await lad(['score', '--model', modelDir, '--format', 'text'], [...routine(10, 5000), BAD].join('\n'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('line 11');
    expect(r.stdout).toContain(BAD);
    expect(r.stdout).toMatch(/why: .*terminated|why: .*corrupted/);
    expect(r.stdout).toMatch(/1 anomalies in 11 lines/);
  });

  it('a burst of one anomalous template is one incident: jsonl marks repeats, text prints the first line once', async () => {
    const other = '2024-05-02 12:00:02 FATAL fan tray 3 removed while powered';
    const lines = [...routine(4, 6000), BAD, BAD, ...routine(2, 6100), other, BAD];
    const r = await lad(['score', '--model', modelDir, '--format', 'jsonl'], lines.join('\n'));
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const flagged = out.filter((o) => o.anomaly === true).map((o) => [o.line, o.incident, o.repeat]);
    expect(flagged).toEqual([
      [5, 5, false],
      [6, 5, true],
      [9, 9, false],
      [10, 5, true],
    ]);
    // normal lines keep exactly the contract fields
    expect(Object.keys(out[0]).sort()).toEqual(['anomaly', 'level', 'line', 'reason', 'score', 'template']);
    // a repeat is still scored like its first line
    expect(out[5].score).toBe(out[4].score);

    const text = await lad(['score', '--model', modelDir, '--format', 'text'], lines.join('\n'));
    expect(text.stdout.split(BAD).length - 1).toBe(1);
    expect(text.stdout).toMatch(/line 5: 2 more, last at line 10/);
    expect(text.stdout).toMatch(/4 anomalies in 10 lines, 2 incidents/);

    const off = await lad(['score', '--model', modelDir, '--format', 'text', '--incident-gap', '0'], lines.join('\n'));
    expect(off.stdout.split(BAD).length - 1).toBe(3);
    expect(off.stdout).toMatch(/4 anomalies in 10 lines, 4 incidents/);
  });

  // `lad score … | head`: the reader closes the pipe early; lad must end quietly (exit 0, no EPIPE stack trace).
  function pipeline(command: string): Promise<Run> {
    // PIPESTATUS[0] is lad's own exit status (the pipeline's status would be head's).
    return outcome(spawn('bash', ['-c', `${command}; echo "lad-status=\${PIPESTATUS[@]}" >&2`], { stdio: ['ignore', 'pipe', 'pipe'] }));
  }
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

  it('score piped into a reader that closes early (| head) ends quietly with exit 0', async () => {
    const big = path.join(dir, 'big.log');
    // ~25k lines: several MB of JSONL, far more than a pipe buffer and the CLI's 1 MB output chunks
    writeFileSync(big, [...routine(25_000, 10_000), BAD].join('\n') + '\n');
    for (const format of ['jsonl', 'text']) {
      const r = await pipeline(`${q(process.execPath)} ${q(BIN)} score --model ${q(modelDir)} --input ${q(big)} --format ${format} | head -n 1`);
      expect(r.stderr).toBe('lad-status=0 0\n');
      expect(r.stdout.split('\n').length).toBe(2);
      if (format === 'jsonl') expect(JSON.parse(r.stdout)).toMatchObject({ line: 1, anomaly: false });
    }
  }, 60_000);

  it('score stops reading an endless stdin once the reader has gone (the pipeline ends)', async () => {
    // `yes` never ends: the pipeline finishes only if lad stops reading when head closes its end.
    const line = routine(1, 42)[0];
    const r = await pipeline(`yes ${q(line)} | ${q(process.execPath)} ${q(BIN)} score --model ${q(modelDir)} | head -n 3`);
    expect(r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { line: number }).line)).toEqual([1, 2, 3]);
    // yes dies of SIGPIPE (141) when lad exits; lad itself exits 0 and prints nothing on stderr
    expect(r.stderr).toMatch(/^lad-status=\d+ 0 0\n$/);
  }, 60_000);

  it('eval piped into head ends quietly too', async () => {
    const r = await pipeline(`${q(process.execPath)} ${q(BIN)} eval --input ${q(trainFile)} --labels none --no-neural -q | head -c 10`);
    expect(r.stdout.length).toBe(10);
    expect(r.stderr).toBe('lad-status=0 0\n');
  }, 60_000);

  it('score over several 1 MB chunks with ASCII, non-ASCII, invalid UTF-8 and CRLF lines: every line, in order, as templateOf says', async () => {
    const odd = ['café au lait 12 fois', '日本語のログ 42', 'bad byte \uFFFD here', 'crlf line 7\r', '', 'naïve µs 10µs'];
    const parts: Buffer[] = [];
    const expected: string[] = [];
    const base = routine(40_000, 20_000); // about 3 MB: lines cross the 1 MB read boundaries
    base.forEach((l, i) => {
      parts.push(Buffer.from(l + '\n'));
      expected.push(templateOf(l));
      if (i % 997 === 0) {
        const o = odd[(i / 997) % odd.length];
        // the invalid byte is written raw (0xff), and decodes to U+FFFD like the string the template comes from
        parts.push(o.includes('\uFFFD') ? Buffer.concat([Buffer.from('bad byte '), Buffer.from([0xff]), Buffer.from(' here\n')]) : Buffer.from(o + '\n'));
        expected.push(templateOf(o.endsWith('\r') ? o.slice(0, -1) : o));
      }
    });
    const input = path.join(dir, 'mixed.log');
    writeFileSync(input, Buffer.concat(parts));
    const r = await lad(['score', '--model', modelDir, '--input', input]);
    expect(r.code).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { line: number; template: string });
    expect(out.length).toBe(expected.length);
    expect(out.map((o) => o.template)).toEqual(expected);
    expect(out.every((o, i) => o.line === i + 1)).toBe(true);
  }, 60_000);

  it('a write error that is not a closed pipe (disk full: /dev/full) is reported once, with exit 1', async () => {
    for (const args of [`score --model ${q(modelDir)} --input ${q(trainFile)}`, `eval --input ${q(trainFile)} --labels none --no-neural -q`]) {
      const r = await pipeline(`${q(process.execPath)} ${q(BIN)} ${args} > /dev/full`);
      expect(r.stderr.match(/^lad: cannot write.*no space left on device/gim)?.length).toBe(1);
      expect(r.stderr).toMatch(/lad-status=1\n$/);
    }
  }, 60_000);

  it('accepts CRLF line endings (the CR is not part of the line)', async () => {
    const r = await lad(['score', '--model', modelDir, '--format', 'jsonl'], routine(3, 4000).join('\r\n') + '\r\n');
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { line: number; template: string });
    expect(out.map((o) => o.line)).toEqual([1, 2, 3]);
    for (const o of out) expect(o.template.endsWith('\r')).toBe(false);
  });

  it('train reads stdin with --input - and several --input files', async () => {
    const second = path.join(dir, 'train2.log');
    writeFileSync(second, routine(100, 9000).join('\n'));
    const r = await lad(['train', '--input', '-', '--input', second, '--model', path.join(dir, 'm2'), '--no-neural', '-q'], routine(200).join('\n'));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/trained on 300 lines/);
  });

  it('eval prints precision, recall, F1, ROC-AUC and best F1 per detector', async () => {
    const labelled = [...routine(600).map((l) => `- ${l}`), ...routine(300, 700).map((l) => `- ${l}`), `CRASH ${BAD}`, `- ${routine(1, 1200)[0]}`];
    const file = path.join(dir, 'labelled.log');
    writeFileSync(file, labelled.join('\n'));
    const text = await lad(['eval', '--input', file, '--labels', 'first-field', '--train-fraction', '0.6', '--no-neural', '-q']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/precision\s+recall\s+F1\s+ROC-AUC\s+best-F1\s+alerts\s+alerts%\s+true-alerts/);
    const json = await lad(['eval', '--input', file, '--train-fraction', '0.6', '--no-neural', '-q', '--format', 'json']);
    const report = JSON.parse(json.stdout) as { trainLines: number; testLines: number; testAnomalies: number; detectors: Record<string, { f1: number; rocAuc: number; recall: number; alerts: number; trueAlerts: number }> };
    expect(report.trainLines).toBe(541);
    expect(report.testLines).toBe(361);
    expect(report.testAnomalies).toBe(1);
    expect(report.detectors.combined.recall).toBe(1);
    expect(report.detectors.combined.rocAuc).toBeGreaterThan(0.99);
    expect(report.detectors.combined).toMatchObject({ alerts: 1, trueAlerts: 1 });
    // the trivial bar beside it: the one FATAL line of the test part is the one alert
    expect(text.stdout).toMatch(/the bar, a line flagged iff its level is fatal: 1 flagged, precision 1\.000, recall 1\.000, F1 1\.000/);
    expect((JSON.parse(json.stdout) as { fatalLevelRule: { flagged: number; f1: number } }).fatalLevelRule).toMatchObject({ flagged: 1, f1: 1 });
  });

  it('templates: mined templates, most frequent first, with counts summing to the lines and an example each', async () => {
    const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'];
    const input = [
      ...routine(300),
      ...users.map((u, i) => `2024-05-02 12:01:0${i} INFO session opened for user ${u} by sshd`),
    ];
    const file = path.join(dir, 'templates.log');
    writeFileSync(file, input.join('\n') + '\n');
    const r = await lad(['templates', '--input', file, '--format', 'jsonl', '-q']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { template: string; count: number; example: string });
    expect(rows.reduce((s, x) => s + x.count, 0)).toBe(input.length);
    expect(rows.map((x) => x.count)).toEqual([...rows.map((x) => x.count)].sort((a, b) => b - a));
    // seven user names: one template with a wildcard, not seven
    const session = rows.filter((x) => x.template.includes('session opened for user'));
    expect(session).toHaveLength(1);
    expect(session[0]).toMatchObject({ count: 7, template: '<TS> <NUM>:<NUM>:<NUM> INFO session opened for user <*> by sshd' });
    expect(input).toContain(session[0].example);

    const fromStdin = await lad(['templates', '--input', '-', '--limit', '2'], input.join('\n'));
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout.split('\n').filter((l) => l.includes('e.g. '))).toHaveLength(2);
    expect(fromStdin.stderr).toMatch(/307 lines, \d+ templates/);

    const missing = await lad(['templates', '--input', path.join(dir, 'nope.log')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/input file not found/);
  });

  it('templates reads a named pipe once (a second read would wait for a writer forever)', async () => {
    const fifo = path.join(dir, 'templates.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = createWriteStream(fifo);
    writer.end(routine(30).join('\n') + '\n');
    const child = spawn(process.execPath, [BIN, 'templates', '--input', fifo, '--format', 'jsonl', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const r = await outcome(child);
    clearTimeout(timer);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { count: number });
    expect(rows.reduce((n, row) => n + row.count, 0)).toBe(30);
  }, 20_000);

  it('--help for each command', async () => {
    for (const cmd of ['train', 'score', 'eval', 'templates']) {
      const r = await lad([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: lad ${cmd}`);
      expect(r.stdout).toContain('--input');
    }
  });

  it('clear errors and a non-zero exit: missing file, unreadable model, bad option', async () => {
    const missing = await lad(['train', '--input', path.join(dir, 'nope.log'), '--model', path.join(dir, 'x')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/input file not found: .*nope\.log/);

    const noModel = await lad(['score', '--model', path.join(dir, 'no-model'), '--input', trainFile]);
    expect(noModel.code).not.toBe(0);
    expect(noModel.stderr).toMatch(/cannot load model from .*no-model/);

    const badFormat = await lad(['score', '--model', modelDir, '--format', 'xml']);
    expect(badFormat.code).not.toBe(0);
    expect(badFormat.stderr).toMatch(/xml/);

    const badK = await lad(['train', '--input', trainFile, '--model', path.join(dir, 'y'), '--threshold-k', 'lots']);
    expect(badK.code).not.toBe(0);
    expect(badK.stderr).toMatch(/--threshold-k must be a number/);

    const badOutput = await lad(['score', '--model', modelDir, '--input', trainFile, '--output', path.join(dir, 'no-dir', 'out.jsonl')]);
    expect(badOutput.code).not.toBe(0);
    expect(badOutput.stderr).toMatch(/cannot write output .*out\.jsonl/);

    const empty = path.join(dir, 'empty.log');
    writeFileSync(empty, '');
    const emptyTrain = await lad(['train', '--input', empty, '--model', path.join(dir, 'e')]);
    expect(emptyTrain.code).not.toBe(0);
    expect(emptyTrain.stderr).toMatch(/zero lines/);

    const noInput = await lad(['train', '--model', path.join(dir, 'z')]);
    expect(noInput.code).not.toBe(0);
    expect(noInput.stderr).toMatch(/--input/);
  });

  it('score --output naming the input file is refused and the input kept (opening the output would empty it)', async () => {
    const input = path.join(dir, 'same.log');
    const text = routine(20, 5000).join('\n') + '\n';
    writeFileSync(input, text);
    const r = await lad(['score', '--model', modelDir, '--input', input, '--output', input]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--output .*same\.log is the input file/);
    expect(readFileSync(input, 'utf8')).toBe(text);
  });

  it('train never replaces a file or a directory that holds no model (saveModel deletes what was there)', async () => {
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    const log = path.join(logs, 'app.log');
    writeFileSync(log, routine(300).join('\n') + '\n');
    writeFileSync(path.join(logs, 'notes.txt'), 'keep me');
    const intoLogs = await lad(['train', '--input', log, '--model', logs, '--no-neural', '-q']);
    expect(intoLogs.code).not.toBe(0);
    expect(intoLogs.stderr).toMatch(/--model .*logs is a directory with 2 entries and no model \(model\.json\)/);
    expect(readdirSync(logs).sort()).toEqual(['app.log', 'notes.txt']);

    const ontoLog = await lad(['train', '--input', log, '--model', log, '--no-neural', '-q']);
    expect(ontoLog.code).not.toBe(0);
    expect(ontoLog.stderr).toMatch(/--model .*app\.log is a file, not a model directory/);
    expect(readFileSync(log, 'utf8')).toBe(routine(300).join('\n') + '\n');

    // an empty directory and an existing model are replaced as before
    const empty = path.join(dir, 'empty-model');
    mkdirSync(empty);
    for (let i = 0; i < 2; i++) {
      const r = await lad(['train', '--input', log, '--model', empty, '--no-neural', '-q']);
      expect(r.code).toBe(0);
      expect(readdirSync(empty)).toContain('model.json');
    }
  }, 30_000);
});
