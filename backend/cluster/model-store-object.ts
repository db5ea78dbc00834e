/**
 * Models in the JetStream object store MODEL_BUCKET, one object per source (name: sourceToken). The engine
 * saves a model as a directory of files; the object holds those files packed: a JSON header line naming each
 * file and its size, then their bytes in that order. The engine's own save/load do the (de)serialising, so
 * the object store adds no second model format.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ObjectStore } from '@nats-io/obj';
import { z } from 'zod';
import type { EngineApi, Model } from '../pipeline/engine-port';
import type { ModelCompanion } from '../pipeline/model-directory';
import type { ModelStore } from './model-store';
import { sourceToken } from './ports';

const headerSchema = z.object({ files: z.array(z.object({ name: z.string().regex(/^[\w.-]+$/), size: z.number().int().nonnegative() })) });

export async function packDir(dir: string): Promise<Buffer> {
  const names = (await fs.readdir(dir)).sort();
  const bodies = await Promise.all(names.map((n) => fs.readFile(path.join(dir, n))));
  const header = JSON.stringify({ files: names.map((name, i) => ({ name, size: bodies[i].length })) });
  return Buffer.concat([Buffer.from(`${header}\n`), ...bodies]);
}

export async function unpackDir(packed: Uint8Array, dir: string): Promise<void> {
  const buf = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const nl = buf.indexOf(10);
  if (nl < 0) throw new Error('packed model has no header');
  const header = headerSchema.parse(JSON.parse(buf.subarray(0, nl).toString('utf8')));
  let at = nl + 1;
  await fs.mkdir(dir, { recursive: true });
  for (const f of header.files) {
    if (at + f.size > buf.length) throw new Error(`packed model truncated at ${f.name}`);
    await fs.writeFile(path.join(dir, f.name), buf.subarray(at, at + f.size));
    at += f.size;
  }
}

export class ObjectModelStore implements ModelStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly engine: Pick<EngineApi, 'saveModel' | 'loadModel'>,
    /** Files saved beside the model (the rate baseline), packed into the same object. */
    private readonly companion?: ModelCompanion
  ) {}

  async load(source: string): Promise<Model | null> {
    const blob = await this.store.getBlob(sourceToken(source));
    if (blob === null) return null;
    return this.withTempDir(async (dir) => {
      await unpackDir(blob, dir);
      const model = await this.engine.loadModel(dir);
      await this.companion?.load(model, dir);
      return model;
    });
  }

  async save(source: string, model: Model): Promise<void> {
    const packed = await this.withTempDir(async (dir) => {
      const modelDir = path.join(dir, 'model');
      await this.engine.saveModel(model, modelDir);
      await this.companion?.save(model, modelDir);
      return packDir(modelDir);
    });
    await this.store.putBlob({ name: sourceToken(source) }, packed);
  }

  private async withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lad-model-'));
    try {
      return await fn(dir);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}
