// Training progress on stderr: a cli-progress bar on a terminal, one line per phase change or ~2 s otherwise
// (logs and CI capture stderr, where a redrawn bar is noise).

import { SingleBar, Presets } from 'cli-progress';
import type { TrainProgress } from '../engine';

export function progressReporter(enabled: boolean): { onProgress: (p: TrainProgress) => void; stop: () => void } {
  if (!enabled) return { onProgress: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: 'training {phase} [{bar}] {percentage}% {value}/{total}', stream: process.stderr }, Presets.shades_classic);
    let phase = '';
    return {
      onProgress: (p) => {
        if (p.phase !== phase) {
          if (phase !== '') bar.stop();
          phase = p.phase;
          bar.start(Math.max(p.total, 1), p.done, { phase });
        } else bar.update(p.done, { phase });
      },
      stop: () => {
        if (phase !== '') bar.stop();
      },
    };
  }
  let phase = '';
  let last = 0;
  return {
    onProgress: (p) => {
      const now = Date.now();
      if (p.phase === phase && now - last < 2000) return;
      phase = p.phase;
      last = now;
      const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
      process.stderr.write(`training: ${p.phase} ${pct}% (${p.done}/${p.total})\n`);
    },
    stop: () => undefined,
  };
}
