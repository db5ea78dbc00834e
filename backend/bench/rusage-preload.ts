/**
 * Preloaded into a measured child (`node --require rusage-preload.js …`): when the process exits it writes its
 * own resource usage (peak RSS, CPU time) as JSON to the file named by LAD_BENCH_RUSAGE_FILE. getrusage of
 * the process itself is exact, where polling /proc from outside would miss short peaks.
 */
import { writeFileSync } from 'fs';

const target = process.env.LAD_BENCH_RUSAGE_FILE;
if (target) {
  process.on('exit', (code) => {
    const usage = process.resourceUsage();
    writeFileSync(
      target,
      JSON.stringify({ code, maxRssKb: usage.maxRSS, userMicros: usage.userCPUTime, systemMicros: usage.systemCPUTime })
    );
  });
}
