// Writing command output to stdout or a file, where the reader may go away early (`lad score … | head`).
//
// A reader that closes its end makes the next write fail with EPIPE. Unix tools end quietly then: `head` has
// what it wanted, so it is not an error. `lad` does the same: the command stops reading input, writes
// nothing more and exits 0 (not 141, the shell's code for death by SIGPIPE, because `set -o pipefail` scripts
// would treat that as a failure of `lad`). Any other write error is a real one and is reported.

import type { Writable } from 'stream';
import { CliError } from './input';

/** Thrown out of a write loop when the reader has gone: the caller stops and the command ends with exit 0. */
export class OutputClosed extends Error {
  constructor() {
    super('output closed by the reader');
    this.name = 'OutputClosed';
  }
}

/** Write errors an OutputSink reports itself (as a CliError), so the process-wide handler stays quiet. */
export const reportedBySink = new WeakSet<Error>();

export function isBrokenPipe(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * A Writable with write errors turned into state: `closed` once the reader went away, `failed` for any other
 * error. `write` waits for 'drain' when the stream's buffer is full, and never waits forever: an error or
 * close ends the wait too.
 */
export class OutputSink {
  closed = false;
  failed: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    readonly stream: Writable,
    private readonly name: string,
  ) {
    stream.on('error', this.onError);
    stream.on('close', this.onClose);
  }

  private readonly onError = (err: Error): void => {
    if (isBrokenPipe(err)) this.closed = true;
    else {
      this.failed = err;
      reportedBySink.add(err);
    }
    this.release();
  };

  private readonly onClose = (): void => {
    this.release();
  };

  private release(): void {
    const w = this.wake;
    this.wake = null;
    if (w !== null) w();
  }

  /** Throws OutputClosed once the reader has gone, CliError on any other write error. */
  check(): void {
    if (this.failed !== null) throw new CliError(`cannot write ${this.name}: ${this.failed.message}`);
    if (this.closed) throw new OutputClosed();
  }

  /** Writes `text`; `written` is called once the stream is done with it (written or failed). */
  async write(text: string | Uint8Array, written?: () => void): Promise<void> {
    this.check();
    if (!this.stream.write(text, written)) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.stream.once('drain', () => this.release());
      });
    }
    this.check();
  }

  /** Ends a file output (flushing it); stdout is left open for the process to flush at exit. */
  async end(): Promise<void> {
    this.check();
    if (this.stream === process.stdout) return;
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    this.check();
  }
}
