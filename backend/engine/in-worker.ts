// trainModelInWorker: the same training as trainModel, in a worker_thread, so a service keeps answering
// requests while a model trains. Compiled (backend/dist/engine), the worker is train-worker.js beside this
// file. Run from TypeScript (jest), it is train-worker.ts beside this file, compiled as it loads by ts-node
// with swc (dev dependencies): tests run the code as it is now, never a stale build in backend/dist.

import { availableParallelism } from 'os';
import * as path from 'path';
import pLimit from 'p-limit';
import { Worker } from 'worker_threads';
import { resolveConfig } from './config';
import { modelFromParts } from './parts';
import type { WorkerMessage, WorkerRequest } from './train-worker';
import type { Model, TrainOptions } from './types';

/** The worker's entry file: train-worker.js when this file is compiled, train-worker.ts when it is the source. */
export function workerScriptPath(): string {
  return path.join(__dirname, path.extname(__filename) === '.ts' ? 'train-worker.ts' : 'train-worker.js');
}

function startWorker(workerData: WorkerRequest): Worker {
  const script = workerScriptPath();
  if (script.endsWith('.js')) return new Worker(script, { workerData });
  // From source: register ts-node (transpile only, by swc: ~0.4 s) in the worker, then load the entry.
  const tsNode = require.resolve('ts-node');
  const project = path.resolve(__dirname, '..', 'tsconfig.json');
  const boot = `require(${JSON.stringify(tsNode)}).register({ transpileOnly: true, swc: true, project: ${JSON.stringify(project)} });
require(${JSON.stringify(script)});`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * Trainings in workers at once, process-wide; the others wait their turn. Each worker is a V8 isolate with a
 * heap of its own and a copy of its window's lines: a service whose 100 push sources all reached their first
 * window together started 100 workers (measured with 32 sources of 64 KB lines under a 384 MB main heap: RSS
 * 1.1-1.3 GB while the main heap held about 190 MB). More workers than cores train no sooner.
 */
const trainingSlots = pLimit(Math.max(1, availableParallelism()));

/** Trainings running in workers now, and waiting for a slot. */
export function trainingsInWorkers(): { running: number; waiting: number; slots: number } {
  return { running: trainingSlots.activeCount, waiting: trainingSlots.pendingCount, slots: Math.max(1, availableParallelism()) };
}

export function trainModelInWorker(lines: readonly string[], options: TrainOptions = {}): Promise<Model> {
  resolveConfig(options.config); // fail fast on a bad config, on the caller's thread
  return trainingSlots(() => trainInOneWorker(lines, options));
}

function trainInOneWorker(lines: readonly string[], options: TrainOptions): Promise<Model> {
  const request: WorkerRequest = { lines, normalLines: options.normalLines ?? [], config: options.config, templates: options.templates };
  return new Promise<Model>((resolve, reject) => {
    let settled = false;
    const worker = startWorker(request);
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
