import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CheckpointError, CheckpointStore, checkpointFile } from './checkpoint';
import { removeDir, tempDir } from '../testing/temp-dir';

const Schema = z.object({ position: z.number() }).strict();

describe('CheckpointStore (real files in a temp dir)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('lad-checkpoint-');
  });
  afterEach(() => removeDir(dir));

  it('returns null before the first save and the last saved value after, leaving no temp files', async () => {
    const file = checkpointFile(dir, 'loki-pull', 'api/prod');
    const store = new CheckpointStore(file, Schema);
    expect(await store.load()).toBeNull();
    await Promise.all([1, 2, 3, 4, 5].map((position) => store.save({ position })));
    expect(await new CheckpointStore(file, Schema).load()).toEqual({ position: 5 });
    expect(readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
    expect(path.dirname(file)).toBe(path.join(dir, 'checkpoints')); // "/" in the name stays inside the directory
  });

  it('coalesces saves requested during a write: only the newest waiting position is written', async () => {
    const store = new CheckpointStore(checkpointFile(dir, 'k', 'n'), Schema);
    const saves = Array.from({ length: 50 }, (_, i) => store.save({ position: i }));
    await Promise.all(saves);
    expect(await store.load()).toEqual({ position: 49 });
  });

  it('refuses a corrupt or foreign checkpoint with a readable error instead of starting over silently', async () => {
    const file = checkpointFile(dir, 'k', 'n');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '{"position": "x"}');
    await expect(new CheckpointStore(file, Schema).load()).rejects.toThrow(CheckpointError);
    writeFileSync(file, '{not json');
    await expect(new CheckpointStore(file, Schema).load()).rejects.toThrow(/not JSON; delete it/);
  });
});
