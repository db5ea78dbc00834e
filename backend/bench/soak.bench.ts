/**
 * `npm run bench -- --only soak`: the built service under a steady push load (20,000 lines/s by default) for
 * 10 minutes, with the server's resident memory sampled every 10 s, so growth that a short run hides shows as
 * a slope. Runs only when named (`--only soak`): a plain `npm run bench` skips it.
 *
 * LAD_SOAK_SECONDS and LAD_SOAK_LINES_PER_SECOND shorten or change the run. Rows: RSS after the first minute
 * and at the end, the slope over the second half (MB/min), and the whole curve in the note.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import type { BenchContext, BenchRow } from './bench-api';
import { startBuiltServer } from '../testing/built-server';

const SAMPLE_EVERY_MS = 10_000;
const BATCH_EVERY_MS = 100;

/** Only when asked for by name: ten minutes is too long for the default run. */
export const runOnlyWhenNamed = true;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Lines of a small shop log with varying ids, so templates repeat as in a real service. */
function batchOf(n: number, offset: number): string {
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = offset + i;
    out[i] =
      k % 997 === 0
        ? `ERROR [payment-worker-${k % 7}] provider returned 502 Bad Gateway order=ord-${k.toString(16)}`
        : `INFO [http-nio-exec-${k % 31}] GET /api/products/${k % 9973} 200 ${k % 97}ms user=user-${k % 50_021}`;
  }
  return out.join('\n');
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const seconds = Number(process.env.LAD_SOAK_SECONDS ?? 600);
  const linesPerSecond = Number(process.env.LAD_SOAK_LINES_PER_SECOND ?? 20_000);
  const perBatch = Math.max(1, Math.round((linesPerSecond * BATCH_EVERY_MS) / 1000));
  const server = await startBuiltServer({
    env: {
      LAD_DATA_DIR: join(ctx.tmpDir, 'data'),
      LAD_DEMO: 'false',
      LAD_TRAIN_LINES: '5000',
      // (info: startBuiltServer reads the port from the 'listening' log line)
      // retention in effect, as in the reported soak: results older than an hour would go; the ring is bounded
    },
  });
  const pid = server.child.pid!;
  const samples: { t: number; rss: number }[] = [];
  let sent = 0;
  let refused = 0;
  let logged = 0; // the sample count last reported (progress once a minute)
  const started = Date.now();
  const sampler = setInterval(() => samples.push({ t: (Date.now() - started) / 1000, rss: rssMb(pid) }), SAMPLE_EVERY_MS);
  ctx.log(`soak: ${linesPerSecond} lines/s for ${seconds} s, RSS every ${SAMPLE_EVERY_MS / 1000} s`);
  try {
    samples.push({ t: 0, rss: rssMb(pid) });
    let next = Date.now();
    while (Date.now() - started < seconds * 1000) {
      const res = await fetch(`${server.url}/api/push?source=soak`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: batchOf(perBatch, sent) });
      await res.arrayBuffer();
      if (res.status === 204) sent += perBatch;
      else refused += perBatch;
      next += BATCH_EVERY_MS;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (samples.length % 6 === 0 && samples.length !== logged) {
        logged = samples.length;
        ctx.log(`soak: ${Math.round((Date.now() - started) / 1000)} s, RSS ${samples[samples.length - 1].rss.toFixed(0)} MB`);
      }
    }
  } finally {
    clearInterval(sampler);
    await server.stop('SIGTERM');
  }
  const elapsed = (Date.now() - started) / 1000;
  const afterWarmup = samples.find((s) => s.t >= 60) ?? samples[0];
  const last = samples[samples.length - 1];
  const secondHalf = samples.filter((s) => s.t >= elapsed / 2);
  const mbPerMinute = slope(secondHalf.map((s) => s.t / 60), secondHalf.map((s) => s.rss));
  const curve = samples.map((s) => `${Math.round(s.t)}s:${s.rss.toFixed(0)}`).join(' ');
  return [
    { name: `soak: lines acknowledged per second (${Math.round(elapsed)} s)`, value: Math.round(sent / elapsed), unit: 'lines/s', note: `${refused} lines refused (429/503)` },
    { name: 'soak: server RSS after the first minute', value: Number(afterWarmup.rss.toFixed(1)), unit: 'MB' },
    { name: 'soak: server RSS at the end', value: Number(last.rss.toFixed(1)), unit: 'MB' },
    { name: 'soak: RSS slope over the second half', value: Number(mbPerMinute.toFixed(2)), unit: 'MB/min', note: `curve (s:MB) ${curve}` },
  ];
}
