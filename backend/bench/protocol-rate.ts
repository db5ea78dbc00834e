/**
 * `npm run eval:rate [-- --data DIR --json FILE]`: the rate anomaly protocol of docs/engine.md ("Rate
 * anomalies"), with its parameters in backend/testdata/rate/protocol.json. For every healthy log (BGL's and
 * Thunderbird's labelled alert lines left out) and seed:
 *  (a) surge: train on the first half; pick (by seed) a template seen knownMin..knownMax times in it; insert
 *      `copies` of its training lines, each re-stamped with the timestamp text of the line at the insertion
 *      point (drawn by seed in [insertFrom, insertTo] of the scored half); score the half as a stream.
 *      Recall = inserted lines flagged as surge lines; other = the scored half's own lines flagged.
 *  (b) heartbeat: the log's lines re-stamped evenly over trainIntervals + scoredIntervals one-minute intervals
 *      (ISO stamps in place of their own), with a heartbeat line once per interval (second drawn by seed) that
 *      stops at scored interval stopAt for stopFor intervals. A clock ticks at each interval start (the
 *      service's timer). Delay = intervals from the stop to the drop report; other drops are counted.
 * Benchmarks read the shared samples; tests never do.
 */
import { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { TESTDATA_DIR } from '../testdata/paths';
import { DEFAULT_CONFIG, trainModel } from '../engine';
import type { EngineConfig } from '../engine';
import type { LadModel } from '../engine/model';
import { SeededRandom } from '../engine/random';
import { RateTracker } from '../engine/rate/tracker';
import { baselineOf, TemplateIds } from '../engine/rate/template-ids';
import { TimestampParser } from '../engine/timestamps';
import { MIN_LOG_LINES, readLogs } from './protocol';

const PROTOCOL = join(TESTDATA_DIR, 'rate', 'protocol.json');

export interface RateProtocol {
  seeds: number[];
  surge: { copies: number; knownMin: number; knownMax: number; insertFrom: number; insertTo: number };
  heartbeat: { line: string; trainIntervals: number; scoredIntervals: number; stopAt: number; stopFor: number; reportWithin: number };
}

export interface SurgeRun {
  seed: number;
  template: string;
  trainingCount: number;
  insertAt: number;
  recall: number;
  otherFlagged: number;
  otherLines: number;
}

export interface HeartbeatRun {
  seed: number;
  /** Intervals from the stop to the report; null when never reported. */
  delay: number | null;
  otherDrops: number;
}

export interface RateLogResult {
  log: string;
  lines: number;
  surge: SurgeRun[];
  heartbeat: HeartbeatRun[];
  /** Why the surge arm could not run (no template seen knownMin..knownMax times, no timestamps). */
  skipped?: string;
}

/** A log's healthy lines: all of them, or those labelled normal. */
function healthyLines(f: { lines: string[]; labels: boolean[] | null }): string[] {
  return f.labels === null ? f.lines : f.lines.filter((_, i) => !f.labels![i]);
}

/**
 * `line` with its timestamp text replaced by `stamp` (null when it has no timestamp). A stamp of another format
 * (`native` false: the heartbeat arm's ISO times) is set apart from a prefix glued to the old one (klog's
 * severity letter, `W0507 …` → `W 2024-01-01T…`), so the letter stays and the new time is still read.
 */
export function restamp(parser: TimestampParser, line: string, stamp: string, native = true): string | null {
  if (Number.isNaN(parser.parse(line))) return null;
  const glued = !native && parser.matchStart > 0 && !/\s/.test(line[parser.matchStart - 1]);
  return line.slice(0, parser.matchStart) + (glued ? ' ' : '') + stamp + line.slice(parser.matchEnd);
}

async function trained(lines: readonly string[], config: EngineConfig): Promise<LadModel> {
  return (await trainModel(lines, { config })) as LadModel;
}

/** Scores a stream, counting rate flags: the tracker's verdict per line (true = part of a surge). */
function scoreStream(model: LadModel, tracker: RateTracker, lines: readonly string[], parser: TimestampParser): Uint8Array {
  const flags = new Uint8Array(lines.length);
  lines.forEach((line, i) => {
    const id = model.score(line).cluster?.id;
    if (id !== undefined && tracker.observe(id, parser.parse(line)) > 0) flags[i] = 1;
  });
  return flags;
}

async function surgeArm(lines: string[], p: RateProtocol, seed: number, config: EngineConfig): Promise<SurgeRun | string> {
  const parser = new TimestampParser();
  const cut = Math.floor(lines.length / 2);
  const train = lines.slice(0, cut);
  const test = lines.slice(cut);
  const model = await trained(train, config);
  const ids = new TemplateIds(model);
  const byId = new Map<number, string[]>();
  for (const l of train) {
    const id = ids.of(l);
    const list = byId.get(id) ?? [];
    list.push(l);
    byId.set(id, list);
  }
  const candidates = [...byId.entries()].filter(([id, ls]) => id >= 0 && ls.length >= p.surge.knownMin && ls.length <= p.surge.knownMax).sort((a, b) => a[0] - b[0]);
  if (candidates.length === 0) return `no template seen ${p.surge.knownMin}-${p.surge.knownMax} times in the training half`;
  const rng = new SeededRandom(seed);
  const [chosenId, examples] = candidates[rng.nextInt(candidates.length)];
  let at = Math.floor(test.length * (p.surge.insertFrom + (p.surge.insertTo - p.surge.insertFrom) * rng.nextFloat()));
  // the insertion point is a line with a timestamp (the next one that has one)
  while (at < test.length && Number.isNaN(parser.parse(test[at]))) at++;
  if (at >= test.length) return 'no timestamp in the scored half';
  const stamp = test[at].slice(parser.matchStart, parser.matchEnd);
  const copies: string[] = [];
  for (let k = 0; k < p.surge.copies; k++) copies.push(restamp(parser, examples[k % examples.length], stamp) ?? examples[k % examples.length]);
  const stream = [...test.slice(0, at), ...copies, ...test.slice(at)];
  const tracker = new RateTracker(config.rate, baselineOf(model, train));
  const flags = scoreStream(model, tracker, stream, parser);
  let hit = 0;
  let other = 0;
  flags.forEach((f, i) => {
    if (i >= at && i < at + copies.length) hit += f;
    else other += f;
  });
  return { seed, template: model.miner.get(chosenId)?.text ?? String(chosenId), trainingCount: examples.length, insertAt: at, recall: hit / copies.length, otherFlagged: other, otherLines: test.length };
}

const iso = (ms: number): string => new Date(ms).toISOString();

async function heartbeatArm(lines: string[], p: RateProtocol, seed: number, config: EngineConfig): Promise<HeartbeatRun> {
  const h = p.heartbeat;
  const parser = new TimestampParser();
  const width = config.rate.intervalSeconds * 1000;
  const t0 = Date.UTC(2024, 0, 1);
  const rng = new SeededRandom(seed);
  const cut = Math.floor(lines.length / 2);
  /** Lines of one half spread evenly over its intervals, re-stamped, with the heartbeat, in time order. */
  const timeline = (part: string[], first: number, intervals: number, beat: (k: number) => boolean): { time: number; line: string }[] => {
    const out: { time: number; line: string }[] = [];
    part.forEach((l, i) => {
      const time = t0 + first * width + Math.floor(((i + 0.5) * intervals * width) / part.length);
      out.push({ time, line: restamp(parser, l, iso(time), false) ?? `${iso(time)} ${l}` });
    });
    for (let k = first; k < first + intervals; k++) {
      if (!beat(k)) continue;
      const time = t0 + k * width + rng.nextInt(width);
      out.push({ time, line: `${iso(time)} ${h.line}` });
    }
    return out.sort((a, b) => a.time - b.time);
  };
  const train = timeline(lines.slice(0, cut), 0, h.trainIntervals, () => true);
  const stop = h.trainIntervals + h.stopAt;
  const test = timeline(lines.slice(cut), h.trainIntervals, h.scoredIntervals, (k) => k < stop || k >= stop + h.stopFor);
  const model = await trained(train.map((x) => x.line), config);
  const tracker = new RateTracker(config.rate, baselineOf(model, train.map((x) => x.line)));
  const beatId = new TemplateIds(model).of(`${iso(t0)} ${h.line}`);
  let delay: number | null = null;
  let otherDrops = 0;
  let interval = h.trainIntervals;
  const check = (now: number): void => {
    for (const d of tracker.takeDrops()) {
      if (d.id === beatId && delay === null && now >= stop) delay = now - stop;
      else if (d.id !== beatId) otherDrops++;
    }
  };
  for (const { time, line } of test) {
    // the clock ticks at each interval start before the line (what the service's timer does)
    for (const k = Math.floor((time - t0) / width); interval < k; ) {
      interval++;
      tracker.advanceTo(t0 + interval * width);
      check(interval);
    }
    const id = model.score(line).cluster?.id;
    if (id !== undefined) tracker.observe(id, parser.parse(line));
    check(interval);
  }
  return { seed, delay, otherDrops };
}

export async function runRateProtocol(dataDir: string, p: RateProtocol, config: EngineConfig, log: (m: string) => void = () => undefined): Promise<RateLogResult[]> {
  const out: RateLogResult[] = [];
  for (const f of readLogs(dataDir)) {
    const lines = healthyLines(f);
    log(`${f.name}: ${lines.length} healthy lines`);
    const r: RateLogResult = { log: f.name, lines: lines.length, surge: [], heartbeat: [] };
    if (lines.length < MIN_LOG_LINES) {
      r.skipped = `${lines.length} healthy lines, fewer than ${MIN_LOG_LINES}`;
      out.push(r);
      continue;
    }
    for (const seed of p.seeds) {
      const s = await surgeArm(lines, p, seed, config);
      if (typeof s === 'string') r.skipped = s;
      else r.surge.push(s);
      r.heartbeat.push(await heartbeatArm(lines, p, seed, config));
    }
    out.push(r);
  }
  return out;
}

// ---- report ----

const f2 = (x: number): string => x.toFixed(2);
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const spread = (xs: readonly number[], f: (x: number) => string): string =>
  xs.length === 0 ? 'n/a' : `${f(xs.reduce((a, b) => a + b, 0) / xs.length)} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

export function markdown(results: readonly RateLogResult[], p: RateProtocol): string {
  const out: string[] = [];
  out.push(`Seeds ${p.seeds.join(', ')}; mean (min–max) over seeds. Surge: ${p.surge.copies} copies of a template seen ${p.surge.knownMin}–${p.surge.knownMax} times in training. Heartbeat: stops for ${p.heartbeat.stopFor} intervals, target: reported within ${p.heartbeat.reportWithin}.`, '');
  out.push('| log | burst recall | other lines flagged | heartbeat delay (intervals) | other drops |', '|---|---|---|---|---|');
  const all = { recall: [] as number[], other: [0, 0], delays: [] as number[], missed: 0, drops: 0 };
  for (const r of results) {
    const recall = r.surge.map((s) => s.recall);
    const other = r.surge.map((s) => s.otherFlagged / s.otherLines);
    const delays = r.heartbeat.map((h) => h.delay).filter((d): d is number => d !== null);
    const missed = r.heartbeat.length - delays.length;
    const drops = r.heartbeat.reduce((a, h) => a + h.otherDrops, 0);
    all.recall.push(...recall);
    for (const s of r.surge) {
      all.other[0] += s.otherFlagged;
      all.other[1] += s.otherLines;
    }
    all.delays.push(...delays);
    all.missed += missed;
    all.drops += drops;
    const surgeCells = r.surge.length === 0 ? `n/a (${r.skipped}) | n/a` : `${spread(recall, f2)} | ${spread(other, pct)}`;
    out.push(`| ${r.log} | ${surgeCells} | ${spread(delays, (x) => x.toFixed(1))}${missed > 0 ? `, ${missed} not reported` : ''} | ${drops} |`);
  }
  out.push(`| **all** | **${spread(all.recall, f2)}** | **${pct(all.other[0] / Math.max(1, all.other[1]))}** | **${spread(all.delays, (x) => x.toFixed(1))}**${all.missed > 0 ? `, ${all.missed} not reported` : ''} | ${all.drops} |`);
  const worstOther = Math.max(0, ...results.flatMap((r) => r.surge.map((s) => s.otherFlagged / s.otherLines)));
  const minRecall = Math.min(...all.recall);
  out.push('', 'Targets:', '');
  if (all.recall.length === 0) out.push('- not measured: burst recall ≥ 0.80 on every log and seed — no log with a surge run');
  else out.push(`- ${minRecall >= 0.8 ? 'met' : '**MISSED**'}: burst recall ≥ 0.80 on every log and seed — min ${f2(minRecall)}`);
  out.push(`- ${worstOther <= 0.03 ? 'met' : '**MISSED**'}: other lines flagged ≤ 3% on every log and seed — worst ${pct(worstOther)}`);
  const late = all.delays.filter((d) => d > p.heartbeat.reportWithin).length + all.missed;
  const runs = all.delays.length + all.missed;
  if (runs === 0) out.push('- not measured: heartbeat stop reported in time — no log with a heartbeat run');
  else out.push(`- ${late === 0 ? 'met' : '**MISSED**'}: heartbeat stop reported within ${p.heartbeat.reportWithin} intervals — ${late} of ${runs} runs late or not reported`);
  return out.join('\n') + '\n';
}

export function readProtocol(file = PROTOCOL): RateProtocol {
  return JSON.parse(readFileSync(file, 'utf8')) as RateProtocol;
}

interface CliOptions {
  data: string;
  json?: string;
  quiet?: boolean;
}

export async function main(argv: string[]): Promise<void> {
  const o = new Command('eval:rate')
    .description('rate anomaly protocol: surge recall, other lines flagged, heartbeat drop delay (markdown on stdout)')
    .option('--data <dir>', 'samples directory with loghub/ and modern/', '/work/shared/data')
    .option('--json <file>', 'also write the full result as JSON')
    .option('-q, --quiet', 'no progress on stderr')
    .parse(argv)
    .opts<CliOptions>();
  if (!existsSync(o.data)) throw new Error(`no samples at ${o.data} (use --data DIR)`);
  const started = Date.now();
  const p = readProtocol();
  const results = await runRateProtocol(o.data, p, DEFAULT_CONFIG, o.quiet === true ? undefined : (m) => process.stderr.write(`${m}\n`));
  process.stdout.write(markdown(results, p));
  process.stdout.write(`\n(${((Date.now() - started) / 1000).toFixed(0)} s; \`npm run eval:rate -- --data ${o.data}\`)\n`);
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify(results, null, 2));
}

if (require.main === module) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`eval:rate: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
