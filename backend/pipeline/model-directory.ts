/**
 * Embedded mode's model storage: one directory per source under <dataDir>/models, written beside and swapped
 * in (tmp → dir, the previous one kept as .old until the swap is done), so a crash at any point leaves a whole
 * model, old or new. A saved model that cannot be loaded is moved aside as <dir>.corrupt-<time> (the next
 * training would overwrite it) and reported, and the start goes on without it.
 *
 * Implements the ModelStore interface that cluster mode's object store also implements.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModelStore } from '../cluster/model-store';
import type { EngineApi, Model } from './engine-port';

/** Files saved with a model in its directory by other parts (the rate baseline): written before the swap. */
export interface ModelCompanion {
  save(model: Model, dir: string): Promise<void>;
  load(model: Model, dir: string): Promise<void>;
}

/** Directory of a source's persisted model (names are already free of path separators; encode the rest). */
export function modelDir(dataDir: string, source: string): string {
  return path.join(dataDir, 'models', encodeURIComponent(source));
}

export class DirectoryModelStore implements ModelStore {
  constructor(
    private readonly dataDir: string,
    private readonly engine: Pick<EngineApi, 'saveModel' | 'loadModel'>,
    private readonly companion?: ModelCompanion,
    /** Told when a saved model is unusable (message, where it was, where it was kept). */
    private readonly onUnusable?: (message: string, dir: string, keptAs: string | null) => void,
  ) {}

  async load(source: string): Promise<Model | null> {
    const dir = modelDir(this.dataDir, source);
    // `.old` exists only when a crash hit between the two renames of save(): it is the last whole model.
    for (const candidate of [dir, `${dir}.old`]) {
      try {
        await fs.access(candidate);
      } catch {
        continue;
      }
      try {
        const model = await this.engine.loadModel(candidate);
        await this.companion?.load(model, candidate);
        return model;
      } catch (err) {
        const keptAs = `${candidate}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        const kept = await fs.rename(candidate, keptAs).then(
          () => keptAs,
          () => null,
        );
        this.onUnusable?.((err as Error).message, candidate, kept);
      }
    }
    return null;
  }

  async save(source: string, model: Model): Promise<void> {
    const dir = modelDir(this.dataDir, source);
    const tmp = `${dir}.tmp`;
    const old = `${dir}.old`;
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true });
    await this.engine.saveModel(model, tmp);
    await this.companion?.save(model, tmp);
    await fs.rm(old, { recursive: true, force: true });
    await fs.rename(dir, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fs.rename(tmp, dir);
    await fs.rm(old, { recursive: true, force: true });
  }
}
