// Generic failure vocabulary: words that, in any system, describe something going wrong. A word from this list
// is evidence only in proportion to how RARE it was in the training lines (its surprisal), so a log full of
// routine "failed" lines learns to ignore them, while a "terminated" never seen before stands out.
// The list is deliberately generic (no system's own field names or categories); level words are not in it
// (the level detector reads them). Lines whose own level says they are routine (below warn) get no evidence
// from these words: the author already judged them ("3 ddr errors detected and corrected" at INFO).
// Exception classes (`java.io.IOException`) count as failure words too: the way JVM, Python and .NET programs
// report a failure (isFailureWord).

export const PROBLEM_WORDS: ReadonlySet<string> = new Set([
  'error', 'errors', 'err', 'fail', 'fails', 'failed', 'failing', 'failure', 'failures', 'fatal', 'panic',
  'panicked', 'crash', 'crashed', 'crashing', 'abort', 'aborted', 'aborting', 'exception', 'traceback',
  'timeout', 'timeouts', 'timed', 'refused', 'denied', 'unreachable', 'unavailable', 'lost', 'killed',
  'terminated', 'corrupt', 'corrupted', 'corruption', 'invalid', 'illegal', 'missing', 'overflow', 'segfault',
  'unhandled', 'uncaught', 'broken', 'disconnected', 'severed', 'deadlock', 'oom', 'rejected', 'violation',
  'unable', 'cannot', "can't", "couldn't", 'unexpected', 'degraded',
]);

const EXCEPTION = 'exception';
const ERROR = 'error';

/**
 * An exception class in the line: a word ending in "exception" with a name before it (`ioexception`,
 * `java.net.sockettimeoutexception`), or a dotted class name whose last segment ends in "error" with a name before it
 * (`java.lang.outofmemoryerror`). Words arrive lower-cased, so the class-name shape is read from the suffix; bare
 * `…error` words are left out because field and callback names share it (`onerror`, `lasterror` in JSON keys).
 */
function isExceptionClass(w: string): boolean {
  if (w.length > EXCEPTION.length && w.endsWith(EXCEPTION)) return true;
  if (!w.endsWith(ERROR)) return false;
  const dot = w.lastIndexOf('.');
  return dot >= 0 && w.length - dot - 1 > ERROR.length;
}

/** A word that says something went wrong: one of PROBLEM_WORDS, or an exception class. */
export function isFailureWord(w: string): boolean {
  return PROBLEM_WORDS.has(w) || isExceptionClass(w);
}
