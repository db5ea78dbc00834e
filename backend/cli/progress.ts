// Training progress on stderr: a cli-progress bar on a terminal, one line per phase change or ~2 s otherwise
// (logs and CI capture stderr, where a redrawn bar is noise). Reading the input is a phase of its own that
// counts lines read (and bytes, against the files' sizes when known: stdin has none).

import { SingleBar, Presets } from 'cli-progress';
import type { TrainProgress } from '../engine';

export interface ProgressReporter {
  onProgress(p: TrainProgress): void;
  /** Input read so far: lines, bytes, and the bytes there are in all (0 when unknown). */
  reading(lines: number, bytes: number, totalBytes: number): void;
  stop(): void;
}

const MB = 1 << 20;

function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((100 * done) / total)) : 100;
}

/** "1,234,567 lines (42% of 456 MB)", or "(123 MB)" when the size is unknown. */
function readingDetail(lines: number, bytes: number, totalBytes: number): string {
  const size = totalBytes > 0 ? `${percent(bytes, totalBytes)}% of ${Math.round(totalBytes / MB)} MB` : `${Math.round(bytes / MB)} MB`;
  return `${lines.toLocaleString('en-US')} lines (${size})`;
}

export function progressReporter(enabled: boolean): ProgressReporter {
  if (!enabled) return { onProgress: () => undefined, reading: () => undefined, stop: () => undefined };
  // show(phase, done, total, detail): `done` of `total` drives the bar, `detail` is the text beside it
  let show: (phase: string, done: number, total: number, detail: string) => void;
  let stop = (): void => undefined;
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: 'training {phase} [{bar}] {detail}', stream: process.stderr }, Presets.shades_classic);
    let phase = '';
    show = (p, done, total, detail) => {
      if (p !== phase) {
        if (phase !== '') bar.stop();
        phase = p;
        bar.start(Math.max(total, 1), done, { phase, detail });
      } else bar.update(done, { phase, detail });
    };
    stop = () => {
      if (phase !== '') bar.stop();
    };
  } else {
    let phase = '';
    let last = 0;
    show = (p, _done, _total, detail) => {
      const now = Date.now();
      if (p === phase && now - last < 2000) return;
      phase = p;
      last = now;
      process.stderr.write(`training: ${p} ${detail}\n`);
    };
  }
  return {
    onProgress: (p) => show(p.phase, p.done, p.total, `${percent(p.done, p.total)}% (${p.done}/${p.total})`),
    reading: (lines, bytes, totalBytes) => show('read', totalBytes > 0 ? bytes : 0, totalBytes, readingDetail(lines, bytes, totalBytes)),
    stop: () => stop(),
  };
}
