// Entry of the `lad` bin (backend/bin/lad.js requires the compiled copy of this file).

import { CliError } from './input';
import { buildProgram } from './program';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`lad: ${msg}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  });
