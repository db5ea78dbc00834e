// Worker-thread entry: trains a model and posts it back as plain parts (arrays transferred) plus progress.
// Started by in-worker.ts: this compiled file in backend/dist, or this source through ts-node under jest.

import { parentPort, workerData } from 'worker_threads';
import { modelToParts } from './parts';
import { trainModelSync } from './train';
import type { EngineConfigInput } from './config';
import type { MinerState } from './drain/state';

export interface WorkerRequest {
  lines: readonly string[];
  normalLines: readonly string[];
  config: EngineConfigInput | undefined;
  templates: MinerState | undefined;
}

export type WorkerMessage =
  | { type: 'progress'; phase: string; done: number; total: number }
  | { type: 'done'; parts: ReturnType<typeof modelToParts> }
  | { type: 'error'; message: string };

if (parentPort !== null) {
  const port = parentPort;
  const req = workerData as WorkerRequest;
  try {
    let last = 0;
    const model = trainModelSync(req.lines, {
      config: req.config,
      normalLines: req.normalLines,
      templates: req.templates,
      onProgress: (p) => {
        const now = Date.now();
        if (now - last < 100 && p.phase !== 'done') return; // progress is for people: 10 messages/s is plenty
        last = now;
        port.postMessage({ type: 'progress', ...p } satisfies WorkerMessage);
      },
    });
    const parts = modelToParts(model);
    const transfer: ArrayBuffer[] = [];
    if (parts.wordVectors !== null) transfer.push(parts.wordVectors.buffer as ArrayBuffer);
    if (parts.somWeights !== null && parts.somWeights.buffer !== parts.wordVectors?.buffer) transfer.push(parts.somWeights.buffer as ArrayBuffer);
    port.postMessage({ type: 'done', parts } satisfies WorkerMessage, transfer);
  } catch (err) {
    port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies WorkerMessage);
  }
}
