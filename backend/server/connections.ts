/**
 * How many HTTP connections the service keeps open at once (server.maxConnections). Unbounded, 20,000 idle
 * connections took every file descriptor of a process limited to 20,000: spool writes then failed with EMFILE
 * (pushes 503), health and feedback got connection resets. Past the cap Node closes a new connection at once,
 * and the service keeps the descriptors its stores and sources need.
 */
import { readFileSync } from 'node:fs';
import type { Config } from './config';

/**
 * Descriptors kept back from HTTP connections. Rule, set before measuring: a fixed base for the process itself
 * (stdio, libuv's epoll and event fds, worker threads, the spool segment, fact-store and model writes: 21 at rest
 * measured, 64 kept), 4 per possible source (the results store holds 3 files open per source, plus one read or
 * model write), and per configured source what it may open: a syslog source its maxConnections per TCP or TLS
 * listener plus its listening sockets, any other (file tail, pulls) 16.
 */
export const FD_RESERVE = { base: 64, perSource: 4, perConfiguredSource: 16 } as const;

/** Fewest connections a derived cap allows, even when the fd limit leaves less (a warning-worthy setup). */
export const MIN_CONNECTIONS = 64;

/** Where the limit is unknown (no /proc): the usual soft limit of a shell, 1024. */
export const UNKNOWN_FD_LIMIT = 1024;

/**
 * The process's soft limit on open files, from /proc/self/limits (Linux). Node raises the soft limit to the hard
 * one at start-up, so this is the limit the process really has. null where it cannot be read.
 */
export function openFileLimit(limits?: string): number | null {
  let text = limits;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m) return null;
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

/** Descriptors the configuration may need besides HTTP connections (FD_RESERVE's rule). */
export function reservedFds(config: Pick<Config, 'maxSources' | 'sources'>): number {
  let reserve = FD_RESERVE.base + FD_RESERVE.perSource * (config.maxSources + config.sources.length);
  for (const source of config.sources) {
    if (source.type === 'syslog') {
      const listeners = (source.tcpPort !== null ? 1 : 0) + (source.tls ? 1 : 0);
      reserve += listeners * source.maxConnections + 3;
    } else {
      reserve += FD_RESERVE.perConfiguredSource;
    }
  }
  return reserve;
}

/** `maxConnections` when set, else the fd limit less reservedFds, at least MIN_CONNECTIONS. */
export function connectionCap(config: Pick<Config, 'maxConnections' | 'maxSources' | 'sources'>, fdLimit: number | null = openFileLimit()): number {
  if (config.maxConnections !== undefined) return config.maxConnections;
  return Math.max(MIN_CONNECTIONS, (fdLimit ?? UNKNOWN_FD_LIMIT) - reservedFds(config));
}
