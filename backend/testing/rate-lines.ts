// A small timed log for rate anomaly tests (engine/rate): one line a minute from a heartbeat, five requests a
// minute, a cache miss every third minute; optionally a burst of 150 cache misses in one minute, and the
// heartbeat stopping from a given minute on. Times are ISO stamps from 2024-01-01T00:00Z.

const stamp = (minute: number, second: number): string => new Date(Date.UTC(2024, 0, 1, 0, minute, second)).toISOString();

export const HEARTBEAT = 'INFO heartbeat ok from scheduler';
export const BURST_LINES = 150;

/** The lines of minutes [from, to). */
export function rateLines(from: number, to: number, o: { burstAt?: number; stopAt?: number } = {}): string[] {
  const out: string[] = [];
  for (let m = from; m < to; m++) {
    if (o.stopAt === undefined || m < o.stopAt) out.push(`${stamp(m, 1)} ${HEARTBEAT}`);
    for (let k = 0; k < 5; k++) out.push(`${stamp(m, 10 + k)} INFO request served path /api/items id ${m * 10 + k}`);
    if (m % 3 === 0) out.push(`${stamp(m, 30)} WARN cache miss for key user-${m}`);
    if (m === o.burstAt) for (let k = 0; k < BURST_LINES; k++) out.push(`${stamp(m, 31)} WARN cache miss for key user-${k}`);
  }
  return out;
}
