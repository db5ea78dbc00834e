/**
 * A LogSink for tests: records every accepted batch, and can be switched to saturated (push throws
 * BackpressureError, nothing recorded) and back (listeners of onDrain are called), as the pipeline does.
 */
import { createServer } from 'node:http';
import express, { type Router } from 'express';
import { closeServer, listenLoopback } from '../../testing/loopback';
import { BackpressureError, type LogEntry, type LogSink } from '../source';

export class RecordingSink implements LogSink {
  readonly entries: LogEntry[] = [];
  readonly batches: LogEntry[][] = [];
  pushCalls = 0;
  /** Rejects this many pushes with BackpressureError while `saturated` still reads false (a race the pipeline can have). */
  rejectNextPushes = 0;
  retryAfterSeconds = 3;
  private full = false;
  private readonly drainListeners = new Set<() => void>();
  private readonly pushListeners = new Set<() => void>();

  get saturated(): boolean {
    return this.full;
  }

  push(entries: LogEntry[]): void {
    this.pushCalls++;
    if (this.full) {
      throw new BackpressureError(this.retryAfterSeconds);
    }
    if (this.rejectNextPushes > 0) {
      this.rejectNextPushes--;
      throw new BackpressureError(this.retryAfterSeconds);
    }
    this.batches.push(entries);
    this.entries.push(...entries);
    this.pushListeners.forEach((l) => l());
  }

  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  get drainListenerCount(): number {
    return this.drainListeners.size;
  }

  saturate(): void {
    this.full = true;
  }

  drain(): void {
    this.full = false;
    [...this.drainListeners].forEach((l) => l());
  }

  lines(): string[] {
    return this.entries.map((e) => e.line);
  }

  /** Resolves once `count` entries were accepted (or rejects after `timeoutMs`, naming what arrived). */
  waitForEntries(count: number, timeoutMs = 15000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.entries.length >= count) {
          this.pushListeners.delete(check);
          clearTimeout(timer);
          resolve();
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.pushListeners.delete(check);
        reject(
          new Error(`expected ${count} entries, got ${this.entries.length}: ${JSON.stringify(this.lines().slice(-5))}`)
        );
      }, timeoutMs);
      if (!check()) {
        this.pushListeners.add(check);
      }
    });
  }
}

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the routers on 127.0.0.1 with an ephemeral port. */
export async function serveRouters(...routers: Router[]): Promise<TestServer> {
  const app = express();
  routers.forEach((r) => app.use(r));
  const server = createServer(app);
  const url = await listenLoopback(server);
  return { url, close: () => closeServer(server) };
}
