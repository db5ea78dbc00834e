/**
 * Logs what a source's status says when it changes: a new problem (`lastError` set or changed) as a warning,
 * and its end (cleared) as info. Sources report problems in their status only (/api/health, `lad_source_state`),
 * so without this an operator reading the service's log never learned that a Loki pull had been failing for an
 * hour. Read every `intervalMs`: one line per change, never one per failed poll of the same error.
 */
import type { Logger } from 'pino';
import type { LogSource } from './source';

export interface StatusLog {
  /** Reads every source's status once now (the timer does this every intervalMs). */
  check(): void;
  /** Takes the source's current problem as already logged (by a message of its own at start-up). */
  logged(source: LogSource): void;
  stop(): void;
}

export function logSourceStatus(sources: readonly LogSource[], logger: Logger, intervalMs = 5000): StatusLog {
  const last = new Map<LogSource, string | null>();
  for (const source of sources) last.set(source, null);
  const check = (): void => {
    for (const source of sources) {
      const { state, lastError } = source.status();
      const before = last.get(source) ?? null;
      if (lastError === before) continue;
      last.set(source, lastError);
      if (lastError !== null) logger.warn({ source: source.name, kind: source.kind, state, problem: lastError }, 'source problem');
      else logger.info({ source: source.name, kind: source.kind, state, was: before }, 'source problem over');
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return { check, logged: (source) => last.set(source, source.status().lastError), stop: () => clearInterval(timer) };
}
