import pino from 'pino';
import type { LogSink, LogSource, SourceStatus } from './source';
import { logSourceStatus } from './status-log';

/** A source whose status the test sets. */
class SettableSource implements LogSource {
  readonly kind = 'loki-pull';
  current: SourceStatus = { state: 'connected', lastError: null, linesTotal: 0, lagMs: null, linesPerSecond: 0 };
  constructor(readonly name: string) {}
  async start(_sink: LogSink): Promise<void> {}
  async stop(): Promise<void> {}
  status(): SourceStatus {
    return this.current;
  }
}

function recordingLogger(): { logger: pino.Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => records.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, records };
}

describe('source status in the log', () => {
  it('logs a problem once when it appears or changes, and once when it is over', () => {
    const loki = new SettableSource('loki');
    const quiet = new SettableSource('quiet');
    const { logger, records } = recordingLogger();
    const log = logSourceStatus([loki, quiet], logger, 60_000);
    try {
      log.check();
      expect(records).toEqual([]);
      loki.current = { ...loki.current, state: 'error', lastError: 'GET http://loki:3100/… answered 502' };
      log.check();
      log.check(); // the same error at the next poll: no second line
      loki.current = { ...loki.current, lastError: 'GET http://loki:3100/… timed out after 30s' };
      log.check();
      loki.current = { ...loki.current, state: 'connected', lastError: null };
      log.check();
      expect(records.map((r) => [r.level, r.msg, r.source, r.problem ?? r.was])).toEqual([
        [40, 'source problem', 'loki', 'GET http://loki:3100/… answered 502'],
        [40, 'source problem', 'loki', 'GET http://loki:3100/… timed out after 30s'],
        [30, 'source problem over', 'loki', 'GET http://loki:3100/… timed out after 30s'],
      ]);
    } finally {
      log.stop();
    }
  });
});
