// trainModelInWorker: the same training as trainModel, in a worker_thread, so a service keeps answering
// requests while a model trains. The worker must be JavaScript at run time: next to this file when running
// compiled (backend/dist/engine), or the compiled copy in backend/dist when running from TypeScript (jest).

import { existsSync } from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { resolveConfig } from './config';
import { modelFromParts } from './parts';
import type { WorkerMessage, WorkerRequest } from './train-worker';
import type { Model, TrainOptions } from './types';

export function workerScriptPath(): string {
  const beside = path.join(__dirname, 'train-worker.js');
  if (existsSync(beside)) return beside;
  const compiled = path.resolve(__dirname, '..', 'dist', 'engine', 'train-worker.js');
  if (existsSync(compiled)) return compiled;
  throw new Error(`training worker not found at ${beside} or ${compiled}: build the backend (npx tsc -p backend/tsconfig.json)`);
}

export function trainModelInWorker(lines: readonly string[], options: TrainOptions = {}): Promise<Model> {
  resolveConfig(options.config); // fail fast on a bad config, on the caller's thread
  const request: WorkerRequest = { lines, normalLines: options.normalLines ?? [], config: options.config };
  return new Promise<Model>((resolve, reject) => {
    let settled = false;
    const worker = new Worker(workerScriptPath(), { workerData: request });
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress') {
        options.onProgress?.({ phase: msg.phase, done: msg.done, total: msg.total });
      } else if (msg.type === 'done') {
        settled = true;
        try {
          resolve(modelFromParts(msg.parts));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      } else {
        settled = true;
        reject(new Error(`training failed: ${msg.message}`));
      }
    });
    worker.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    worker.on('exit', (code) => {
      if (!settled) {
        settled = true;
        reject(new Error(`training worker exited with code ${code} before finishing`));
      }
    });
  });
}
