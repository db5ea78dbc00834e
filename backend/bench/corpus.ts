/**
 * Builds a large benchmark corpus from the small samples (loghub/ and modern/ or generated/ under the data
 * directory: ../shared/data when present, else backend/testdata): sample lines
 * resampled at random, with their numbers and hex ids re-drawn so raw lines rarely repeat while the masked
 * templates stay those of real traffic, plus rare lines injected now and then (the samples' own labelled
 * alert lines and a few well-known failure messages) so the corpus has something worth flagging.
 *
 * The samples are read from where they lie and the corpus goes to a temporary file: nothing of ../shared is
 * copied into the repository (Loki's samples there are AGPL; backend/testdata/generated stands in for them).
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'fs';
import { basename, join } from 'path';
import { SeededRandom } from '../engine/random';

export interface SampleFile {
  /** e.g. "loghub/HDFS_2k.log" */
  name: string;
  path: string;
  /** whether the file carries a label field (first field, "-" = normal), stripped from lines and alerts */
  labelled: boolean;
  /** every line in file order, label field stripped */
  ordered: string[];
  /** for each line of `ordered`: whether the file labels it an alert (all false for unlabelled files) */
  alertAt: boolean[];
  /** normal lines (label field removed when the file is labelled) */
  lines: string[];
  /** lines the file itself labels as alerts */
  alerts: string[];
}

export interface CorpusOptions {
  lines: number;
  seed?: number;
  /** on average one rare line per this many lines (default 10,000) */
  rareEvery?: number;
  /** chance that a number or hex id is re-drawn (default 0.5; the rest keep their sample value) */
  varyShare?: number;
}

export interface CorpusResult {
  lines: number;
  bytes: number;
  /** 1-based numbers of the injected rare lines */
  rareLines: number[];
  /** lines taken from each sample file */
  perSource: Record<string, number>;
}

/** Well-known failure messages that none of the samples contain. */
const EXTRA_RARE_LINES = [
  'kernel: Out of memory: Killed process 31337 (java) total-vm:8388608kB, anon-rss:4194304kB',
  'panic: runtime error: invalid memory address or nil pointer dereference [signal SIGSEGV: segmentation violation]',
  'FATAL: password authentication failed for user "admin" from 203.0.113.7',
  'java.lang.OutOfMemoryError: Java heap space at java.util.Arrays.copyOf(Arrays.java:3332)',
  'segfault at 0000000000000000 ip 00007f3a2b1c4d5e sp 00007ffd1a2b3c40 error 4 in libc.so.6',
  'level=error msg="disk quota exceeded while flushing chunk" err="write /data/wal/00000042: no space left on device"',
];

/** A file is labelled (Loghub's BGL and Thunderbird style) when most lines start with the "-" normal label. */
function isLabelled(lines: readonly string[]): boolean {
  const dash = lines.filter((l) => l.startsWith('- ')).length;
  return dash >= lines.length / 2;
}

/** Sub-folders of a data directory that hold sample logs: Loghub's, Loki's (../shared) or generated ones (testdata). */
const SAMPLE_DIRS = ['loghub', 'modern', 'generated'];

/** Reads every *.log under dataDir/loghub, dataDir/modern and dataDir/generated, in name order. */
export function loadSamples(dataDir: string): SampleFile[] {
  const samples: SampleFile[] = [];
  for (const sub of SAMPLE_DIRS) {
    const dir = join(dataDir, sub);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort()) {
      const path = join(dir, file);
      const raw = readFileSync(path, 'utf8')
        .split('\n')
        .map((l) => l.replace(/\r$/, ''))
        .filter((l) => l.length > 0);
      const labelled = isLabelled(raw);
      const sample: SampleFile = {
        name: `${sub}/${basename(file)}`,
        path,
        labelled,
        ordered: [],
        alertAt: [],
        lines: [],
        alerts: [],
      };
      if (labelled) {
        for (const line of raw) {
          const space = line.indexOf(' ');
          const label = space < 0 ? line : line.slice(0, space);
          const text = space < 0 ? '' : line.slice(space + 1);
          if (text.length === 0) continue;
          sample.ordered.push(text);
          sample.alertAt.push(label !== '-');
          (label === '-' ? sample.lines : sample.alerts).push(text);
        }
      } else {
        sample.lines = raw;
        sample.ordered = raw;
        sample.alertAt = raw.map(() => false);
      }
      if (sample.lines.length > 0) samples.push(sample);
    }
  }
  if (samples.length === 0) {
    throw new Error(`no sample logs under ${SAMPLE_DIRS.map((sub) => join(dataDir, sub)).join(', ')}`);
  }
  return samples;
}

/** Hex ids (8+ hex characters with at least one digit) or runs of digits. */
const VARIABLE = /\b(?=[0-9a-f]*[0-9])[0-9a-f]{8,}\b|[0-9]+/gi;
const HEX = '0123456789abcdef';

/**
 * Writes `options.lines` lines to `file`; the same samples, options and seed give the same bytes.
 * Synchronous on purpose: it is a benchmark set-up step and a tiny test, never on a serving path.
 */
export function writeCorpus(file: string, samples: readonly SampleFile[], options: CorpusOptions): CorpusResult {
  const { lines } = options;
  if (!Number.isInteger(lines) || lines < 0) {
    throw new Error(`corpus size must be a whole number of lines, got ${lines}`);
  }
  const rng = new SeededRandom(options.seed ?? 1);
  const rareEvery = options.rareEvery ?? 10_000;
  const varyShare = options.varyShare ?? 0.5;
  const rarePool = [...samples.flatMap((s) => s.alerts), ...EXTRA_RARE_LINES];
  const perSource: Record<string, number> = {};
  for (const s of samples) perSource[s.name] = 0;
  const rareLines: number[] = [];

  const vary = (token: string): string => {
    if (rng.nextFloat() >= varyShare) return token;
    let out = '';
    if (/^[0-9]+$/.test(token)) {
      // Same length, and no new leading zero, so the number still reads as the same kind of field.
      for (let i = 0; i < token.length; i++)
        out += String(i === 0 && token.length > 1 ? 1 + rng.nextInt(9) : rng.nextInt(10));
    } else {
      for (let i = 0; i < token.length; i++) out += HEX[rng.nextInt(16)];
    }
    return out;
  };

  const fd = openSync(file, 'w');
  let bytes = 0;
  let chunk = '';
  try {
    for (let n = 1; n <= lines; n++) {
      let line: string;
      if (rng.nextFloat() * rareEvery < 1) {
        line = rarePool[rng.nextInt(rarePool.length)];
        rareLines.push(n);
      } else {
        // Every sample weighs the same, whatever its length: a mix of many systems, as one busy source sees.
        const sample = samples[rng.nextInt(samples.length)];
        line = sample.lines[rng.nextInt(sample.lines.length)].replace(VARIABLE, vary);
        perSource[sample.name]++;
      }
      chunk += line + '\n';
      if (chunk.length >= 1 << 20) {
        bytes += writeSync(fd, chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) bytes += writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  return { lines, bytes, rareLines, perSource };
}
