// Entry of the `lad` bin (backend/bin/lad.js requires the compiled copy of this file).

import { CliError } from './input';
import { isBrokenPipe, reportedBySink } from './output';
import { buildProgram } from './program';

// A reader that closed stdout or stderr early (`lad eval … | head -3`) is not an error: without a listener the
// EPIPE would be an unhandled 'error' event and a stack trace. `lad score` also stops its work (output.ts);
// the other commands write their output once, so ignoring the error is enough there. Exit code stays 0.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: Error) => {
    if (isBrokenPipe(err)) return;
    process.exitCode = 1;
    // (lad score's output sink reports its own write errors; others, e.g. disk full under eval, here)
    if (stream !== process.stderr) {
      setImmediate(() => {
        if (!reportedBySink.has(err)) process.stderr.write(`lad: cannot write to stdout: ${err.message}\n`);
      });
    }
  });
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`lad: ${msg}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  });
