// Generic failure vocabulary: words that, in any system, describe something going wrong. A word from this list
// is evidence only in proportion to how RARE it was in the training lines (its surprisal), so a log full of
// routine "failed" lines learns to ignore them, while a "terminated" never seen before stands out.
// The list is deliberately generic (no system's own field names or categories); level words are not in it
// (the level detector reads them). Lines whose own level says they are routine (below warn) get no evidence
// from these words: the author already judged them ("3 ddr errors detected and corrected" at INFO).

export const PROBLEM_WORDS: ReadonlySet<string> = new Set([
  'error', 'errors', 'err', 'fail', 'fails', 'failed', 'failing', 'failure', 'failures', 'fatal', 'panic',
  'panicked', 'crash', 'crashed', 'crashing', 'abort', 'aborted', 'aborting', 'exception', 'traceback',
  'timeout', 'timeouts', 'timed', 'refused', 'denied', 'unreachable', 'unavailable', 'lost', 'killed',
  'terminated', 'corrupt', 'corrupted', 'corruption', 'invalid', 'illegal', 'missing', 'overflow', 'segfault',
  'unhandled', 'uncaught', 'broken', 'disconnected', 'severed', 'deadlock', 'oom', 'rejected', 'violation',
  'unable', 'cannot', "can't", "couldn't", 'unexpected', 'degraded',
]);
