// Log levels as an ordinal scale. The level is evidence the model LEARNS from (how rare a level at least this
// severe was in training), never a verdict by itself: healthy logs are full of routine errors.

export const LEVEL_NAMES = ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'fatal'] as const;
export type LevelName = (typeof LEVEL_NAMES)[number];
/** Rank used when a line carries no recognisable level. */
export const NO_LEVEL = -1;

/** Level words (lower case) and their ranks. */
export const WORD_TO_RANK: ReadonlyMap<string, number> = new Map([
  ['trace', 0],
  ['trce', 0],
  ['verbose', 0], // Serilog's and logcat's lowest
  ['debug', 1],
  ['dbug', 1],
  ['info', 2],
  ['information', 2],
  ['informational', 2],
  ['notice', 3],
  ['warn', 4],
  ['warning', 4],
  ['error', 5],
  ['fail', 5], // ASP.NET Core's console logger: info, warn, fail, crit, dbug, trce
  ['err', 5],
  ['eror', 5],
  ['severe', 5], // java.util.logging's highest level is an error, not a crash
  ['fatal', 6],
  ['crit', 6],
  ['critical', 6],
  ['alert', 6],
  ['emerg', 6],
  ['emergency', 6],
  ['panic', 6],
  // Serilog's three-letter codes ([INF], [WRN]); read only where a level is expected (bracketed, after level=)
  ['vrb', 0],
  ['dbg', 1],
  ['inf', 2],
  ['wrn', 4],
  ['ftl', 6],
]);

/**
 * Words that are a level only as a header field: bracketed (`[Note]`) or upper case before a colon (`NOTE:`), never
 * as a line's first word or after a level key (`note: nothing to do` is prose). PostgreSQL's `LOG:` is not read
 * (session 11): its manual maps it to syslog's INFO but orders it between ERROR and FATAL for the server log, and
 * the server reports a crashed backend at LOG; read as info, its failure words stopped counting and injection
 * recall on the generated postgres sample fell from 0.533 to 0.417.
 */
export const FIELD_LEVEL_WORDS: ReadonlyMap<string, number> = new Map([
  ['note', 2], // MySQL's error log: [ERROR], [Warning], [Note] (informational), [System] (always written)
  ['system', 2],
]);

/**
 * Keys whose value is the line's level (`level=warn`, `"severity":"ERROR"`), compared without case: the common
 * ones, Serilog's compact JSON `@l` and OpenTelemetry's `severity_text`.
 */
export const LEVEL_KEY_NAMES: readonly string[] = [
  'level',
  'lvl',
  'severity',
  'loglevel',
  'log_level',
  'levelname',
  'log.level',
  'severity_text',
  'severitytext',
  '@l',
];

/** klog's one-letter severity (I, W, E, F). */
export function klogRank(letterCode: number): number {
  switch (letterCode) {
    case 73: return 2; // I
    case 87: return 4; // W
    case 69: return 5; // E
    case 70: return 6; // F
    default: return NO_LEVEL;
  }
}

/**
 * Android logcat's one-letter priority (V, D, I, W, E, F, A) in its `threadtime` format
 * (`03-17 16:13:38.811  1702  2395 D WindowManager: …`): verbose is trace, assert is fatal.
 */
export function logcatRank(letterCode: number): number {
  switch (letterCode) {
    case 86: return 0; // V
    case 68: return 1; // D
    case 65: return 6; // A
    default: return klogRank(letterCode);
  }
}

/**
 * A syslog severity (RFC 5424 table 2: 0 emergency … 7 debug), as a syslog <PRI> carries it (PRI mod 8) and as
 * GELF's `"level":3` and journald's PRIORITY give it.
 */
export function syslogRank(severity: number): number {
  return SYSLOG_RANKS[severity] ?? NO_LEVEL;
}
/** emerg, alert and crit are fatal; err error, warning warn, notice, info, debug. */
const SYSLOG_RANKS: readonly number[] = [6, 6, 6, 5, 4, 3, 2, 1];

/**
 * Redis's level character (server.c, serverLogRaw: `".-*#"` for debug, verbose, notice, warning). Its order is
 * kept: verbose sits between debug and notice, so it is info here, not the `verbose` word's trace.
 */
export function redisRank(code: number): number {
  switch (code) {
    case 46: return 1; // . debug
    case 45: return 2; // - verbose
    case 42: return 3; // * notice
    case 35: return 4; // # warning
    default: return NO_LEVEL;
  }
}

export function levelName(rank: number): LevelName | null {
  return rank >= 0 && rank < LEVEL_NAMES.length ? LEVEL_NAMES[rank] : null;
}
