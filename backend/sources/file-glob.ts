/**
 * A `type: file` source whose path has wildcards in its file-name part (`/var/log/app/*.log`): every
 * matching file is followed by its own FileTailSource (same source name, so one model for all of them,
 * each line labelled with its `filename`). The directory is listed every poll; files that appear later
 * are read from their start. Each file keeps its own read position.
 *
 * Do not let the pattern match rotated files (`app.log.1`): a renamed file that newly matches is a new
 * file to a pattern, and would be read again (Promtail has the same rule).
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileTailSource, fileTailConfigSchema, type FileTailConfig, type FileTailContext } from './file-tail';
import { checkFileSourcePath } from './path-check';
import type { LogSink, LogSource, SourceStatus } from './source';

type ResolvedConfig = ReturnType<typeof fileTailConfigSchema.parse>;

/** `*` and `?` match within one file name, `[abc]` is a character class; everything else is literal. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else {
      out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

export class FileGlobSource implements LogSource {
  readonly kind = 'file';
  readonly name: string;
  private readonly config: ResolvedConfig;
  private readonly dir: string;
  private readonly matcher: RegExp;
  private readonly children = new Map<string, FileTailSource>();
  private sink: LogSink | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private stopped = true;
  private firstScan = true;
  private scanError: string | null = null;
  /** start() refused the path (path-check.ts): the source shows 'error', not 'stopped'. */
  private startError = false;

  constructor(
    config: FileTailConfig,
    private readonly context: FileTailContext = {}
  ) {
    this.config = fileTailConfigSchema.parse(config);
    this.name = this.config.name;
    this.dir = dirname(this.config.path);
    this.matcher = globToRegExp(basename(this.config.path));
  }

  async start(sink: LogSink): Promise<void> {
    if (!this.stopped) {
      throw new Error(`source ${this.name} is already started`);
    }
    // A directory that is missing or unreadable is an error now (path-check.ts); no match yet is only a warning.
    const problem = await checkFileSourcePath(this.name, this.config.path, this.matcher);
    this.startError = problem?.level === 'error';
    if (problem?.level === 'error') {
      this.scanError = problem.message;
      throw new Error(problem.message);
    }
    this.sink = sink;
    this.stopped = false;
    this.firstScan = true;
    await this.scan();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.scanning;
    await Promise.all([...this.children.values()].map((child) => child.stop()));
    this.children.clear();
  }

  status(): SourceStatus {
    const all = [...this.children.values()].map((child) => child.status());
    const lags = all.map((s) => s.lagMs).filter((lag): lag is number => lag !== null);
    const childError = all.find((s) => s.lastError !== null)?.lastError ?? null;
    let state: SourceStatus['state'];
    if (this.stopped) {
      state = this.startError ? 'error' : 'stopped';
    } else if (this.scanError !== null || all.length === 0) {
      state = 'error';
    } else if (all.some((s) => s.state === 'paused')) {
      state = 'paused';
    } else if (all.every((s) => s.state === 'error')) {
      state = 'error';
    } else {
      state = all.some((s) => s.state === 'connected') ? 'connected' : 'starting';
    }
    return {
      state,
      lastError:
        this.scanError ??
        (all.length === 0 && !this.stopped ? `waiting for files matching ${this.config.path}` : childError),
      linesTotal: all.reduce((sum, s) => sum + s.linesTotal, 0),
      lagMs: lags.length > 0 ? Math.max(...lags) : null,
      linesPerSecond: all.reduce((sum, s) => sum + s.linesPerSecond, 0),
    };
  }

  private scan(): Promise<void> {
    this.scanning = this.scanOnce()
      .catch((err: Error) => {
        this.scanError = err.message;
      })
      .finally(() => {
        this.scanning = null;
        if (!this.stopped) {
          this.timer = setTimeout(() => void this.scan(), Math.max(this.config.pollIntervalMs, 500));
        }
      });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw err;
      }
      names = [];
    }
    this.scanError = null;
    const matches = names
      .filter((n) => this.matcher.test(n))
      .sort()
      .map((n) => join(this.dir, n));
    for (const path of matches) {
      if (this.stopped) {
        return;
      }
      if (this.children.has(path)) {
        continue;
      }
      if (this.children.size >= this.config.maxFiles) {
        this.scanError = `more than maxFiles (${this.config.maxFiles}) files match ${this.config.path}; the rest are not followed`;
        break;
      }
      await this.follow(path);
    }
    this.firstScan = false;
  }

  private async follow(path: string): Promise<void> {
    const child = new FileTailSource(
      // Files that appear after the start are new: read them whole.
      { ...this.config, type: 'file', path, startAt: this.firstScan ? this.config.startAt : 'beginning' },
      { ...this.context, positionKey: `${this.name}--${createHash('sha256').update(path).digest('hex').slice(0, 16)}` }
    );
    this.children.set(path, child);
    // A match that cannot be followed (a pipe, an unreadable file) keeps its error in its status; the other
    // matches are still followed (thrown, it ended the scan, and each later scan reached one more file).
    await child.start(this.sink!).catch(() => undefined);
  }
}
