/**
 * The lease keeper's thread (lease-keeper.ts starts it): a LeaseBalance (renewals every renewEveryMs, a
 * balancing round every pollEveryMs) on its own NATS connection and its own event loop, so neither waits for
 * the worker's main thread, which scores (synchronous CPU work) and shares its connection with the scorers'
 * fetches: on the main thread, measured under load, renewals came 0.9-1.3 s apart instead of 0.5 s and one
 * balancing round took up to 3.7 s (reading the bucket behind the fetched lines), so a dead worker's
 * sources moved after 5-6 s at lease 3 s. It renews and takes only while the main thread says it is alive (a
 * message at least every MAIN_SILENT_LEASES lease times): a hung main thread must not keep its sources.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { LeaseTable, leaseTiming } from './lease';
import { LeaseBalance } from './lease-balance';
import { LEASE_BUCKET, SOURCES_SUBJECT } from './ports';

/**
 * How many lease times the main thread may be silent before its leases are let go. Rule: a stall is not a
 * death: a busy main thread (3.2 s measured on a loaded 2-core machine at lease 3 s) keeps its sources, only
 * one that does not come back (a hang) loses them; three lease times is well past every stall measured.
 */
export const MAIN_SILENT_LEASES = 3;
const WARN_EVERY_MS = 10_000;

/** What the thread is started with. */
export interface KeeperData {
  natsUrl: string;
  workerId: string;
  leaseSeconds: number;
}

export type ToKeeper =
  | { type: 'alive' }
  /** The source's scorer has stopped (given back, or failed): give its lease back. */
  | { type: 'drained'; token: string }
  /** No more taking (a clean stop: the main thread drains its scorers next). */
  | { type: 'quiesce' }
  /** leave: give every lease back and remove the heartbeat; else stop as a killed worker would. */
  | { type: 'stop'; leave: boolean; id: number };

export type FromKeeper =
  | { type: 'ready' }
  /** `at`: when the lease was taken (ms since the epoch), which the main thread may hear of later. */
  | { type: 'take'; token: string; source: string; revision: number; share: number; alive: number; at: number }
  | { type: 'giveBack'; token: string }
  | { type: 'lost'; token: string }
  | { type: 'renewed'; gapMs: number }
  | { type: 'done'; id: number }
  | { type: 'warn'; message: string };

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as KeeperData;
  const post = (m: FromKeeper) => port.postMessage(m);
  const timing = leaseTiming(data.leaseSeconds);
  const nc = await connectPatiently(data.natsUrl, `lad lease keeper ${data.workerId}`);
  const js = jetstream(nc);
  const table = new LeaseTable(await new Kvm(js).open(LEASE_BUCKET), data.workerId, data.leaseSeconds);
  const balance = new LeaseBalance(table, await jetstreamManager(nc), {
    take: (token, source, revision, share, alive) => post({ type: 'take', token, source, revision, share, alive, at: Date.now() }),
    giveBack: (token) => post({ type: 'giveBack', token }),
    lost: (token) => post({ type: 'lost', token }),
  });
  let lastAlive = Date.now();
  let lastRenewal = 0;
  let silent = false;
  let taking = true;
  const mainAlive = (): boolean => {
    const silentMs = Date.now() - lastAlive;
    const ok = silentMs <= MAIN_SILENT_LEASES * data.leaseSeconds * 1000;
    if (!ok && !silent) post({ type: 'warn', message: `main thread silent for ${silentMs} ms: its leases are let go` });
    silent = !ok;
    return ok;
  };
  // NATS away fails every round (several a second): the same message is said once per WARN_EVERY_MS
  let lastWarn = '';
  let lastWarnAt = 0;
  const warn = (err: Error) => {
    const message = `lease round failed: ${err.message}`;
    if (message === lastWarn && Date.now() - lastWarnAt < WARN_EVERY_MS) return;
    lastWarn = message;
    lastWarnAt = Date.now();
    post({ type: 'warn', message });
  };

  await table.heartbeat();
  let renewing = false;
  const renewTimer = setInterval(() => {
    // a renewal still waiting on NATS is not stacked with another
    if (renewing || !mainAlive()) return;
    renewing = true;
    balance
      .renew()
      .then(() => {
        const now = Date.now();
        if (lastRenewal > 0) post({ type: 'renewed', gapMs: now - lastRenewal });
        lastRenewal = now;
      }, warn)
      .finally(() => {
        renewing = false;
      });
  }, timing.renewEveryMs);

  // The first round waits a third of the lease time after the first heartbeat: workers started together then
  // see each other before taking a share (else the first takes everything and gives most of it back: a consumer
  // and a model load per source moved).
  const firstRoundAt = Date.now() + (data.leaseSeconds * 1000) / 3;
  let balancing = 0;
  let round = 0;
  const kick = (): void => {
    if (!taking || Date.now() < firstRoundAt || !mainAlive()) return;
    if (balancing > 0) {
      // a round that waits on NATS for a whole lease time is given up on (said once), so one lost answer
      // cannot stop this worker from ever taking a source again; a late answer is harmless (takes are
      // compare-and-set, and an extra source is given back at the next round)
      const waited = Date.now() - balancing;
      if (waited <= data.leaseSeconds * 1000) return;
      post({ type: 'warn', message: `lease round ${round} still ${balance.phase} after ${waited} ms: starting another` });
    }
    const mine = ++round;
    balancing = Date.now();
    balance
      .balance()
      .catch(warn)
      .finally(() => {
        if (round === mine) balancing = 0;
      });
  };
  const roundTimer = setInterval(kick, timing.pollEveryMs);
  // a source an ingest replica just saw: look now rather than at the next round
  nc.subscribe(SOURCES_SUBJECT, { callback: kick });

  port.on('message', (m: ToKeeper) => {
    lastAlive = Date.now();
    if (m.type === 'drained') void balance.release(m.token).catch(warn);
    else if (m.type === 'quiesce') taking = false;
    else if (m.type === 'stop') {
      taking = false;
      clearInterval(roundTimer);
      if (!m.leave) clearInterval(renewTimer);
      void (async () => {
        if (m.leave) {
          await balance.leave().catch(warn);
          clearInterval(renewTimer);
        }
        await nc.close().catch(() => undefined);
      })().finally(() => post({ type: 'done', id: m.id }));
    }
  });
  post({ type: 'ready' });
}

/** Connects, retrying for up to 30 s (the main thread has just connected: NATS is there unless it just went). */
async function connectPatiently(servers: string, name: string): Promise<NatsConnection> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 2000 });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

if (parentPort) {
  main().catch((err: Error) => {
    // the main side sees the thread exit and treats its leases as lost
    parentPort!.postMessage({ type: 'warn', message: `lease keeper failed: ${err.message}` } satisfies FromKeeper);
    process.exit(1);
  });
}
