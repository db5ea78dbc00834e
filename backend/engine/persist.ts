// Model directories: model.json (format name, version, info with config and training statistics, norms),
// rarity.json (word, template and level counts), templates.json (the mined templates) and little-endian
// float32 binaries for the word vectors and the SOM weights. Written to a temporary sibling directory and
// renamed into place, so a reader never sees half a model.

import { promises as fs } from 'fs';
import * as path from 'path';
import type { LadModel } from './model';
import { ModelFormatError, modelFromParts, modelToParts, parseManifest, parseRarity, parseTemplates } from './parts';
import type { Model } from './types';

const MANIFEST = 'model.json';
const RARITY = 'rarity.json';
const WORD_VECTORS = 'word-vectors.f32';
const SOM_WEIGHTS = 'som-weights.f32';
const TEMPLATES = 'templates.json';

function f32ToBuffer(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function bufferToF32(b: Buffer, file: string): Float32Array {
  if (b.byteLength % 4 !== 0) throw new ModelFormatError(`${file} is not a float32 array (${b.byteLength} bytes)`);
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export async function saveModel(model: Model, dir: string): Promise<void> {
  const parts = modelToParts(model as LadModel);
  const target = path.resolve(dir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  await fs.mkdir(tmp, { recursive: true });
  try {
    await fs.writeFile(path.join(tmp, MANIFEST), JSON.stringify(parts.manifest, null, 2));
    await fs.writeFile(path.join(tmp, RARITY), JSON.stringify(parts.rarity));
    if (parts.templates !== null) await fs.writeFile(path.join(tmp, TEMPLATES), JSON.stringify(parts.templates));
    if (parts.wordVectors !== null) await fs.writeFile(path.join(tmp, WORD_VECTORS), f32ToBuffer(parts.wordVectors));
    if (parts.somWeights !== null) await fs.writeFile(path.join(tmp, SOM_WEIGHTS), f32ToBuffer(parts.somWeights));
    // Replace an existing model directory: move it aside, move the new one in, then delete the old one.
    const old = `${target}.old-${process.pid}-${Date.now()}`;
    const existed = await fs.rename(target, old).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    await fs.rename(tmp, target);
    if (existed) await fs.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ModelFormatError(`cannot read model file ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ModelFormatError(`model file ${file} is not valid JSON`);
  }
}

export async function loadModel(dir: string): Promise<Model> {
  const stat = await fs.stat(dir).catch(() => null);
  if (stat === null) throw new ModelFormatError(`model directory ${dir} does not exist`);
  if (!stat.isDirectory()) throw new ModelFormatError(`${dir} is a file, not a model directory (lad train --model writes a directory)`);
  const manifest = parseManifest(await readJson(path.join(dir, MANIFEST)));
  const rarity = parseRarity(await readJson(path.join(dir, RARITY)));
  let wordVectors: Float32Array | null = null;
  let somWeights: Float32Array | null = null;
  if (manifest.neural !== null) {
    const read = async (name: string): Promise<Float32Array> => {
      const file = path.join(dir, name);
      const buf = await fs.readFile(file).catch(() => {
        throw new ModelFormatError(`cannot read model file ${file}`);
      });
      return bufferToF32(buf, file);
    };
    wordVectors = await read(WORD_VECTORS);
    somWeights = await read(SOM_WEIGHTS);
  }
  // A model saved before the template miner has no templates.json: it starts mining from its first line.
  const hasTemplates = await fs.stat(path.join(dir, TEMPLATES)).then(() => true, () => false);
  const templates = hasTemplates ? parseTemplates(await readJson(path.join(dir, TEMPLATES))) : null;
  return modelFromParts({ manifest, rarity, wordVectors, somWeights, templates });
}
