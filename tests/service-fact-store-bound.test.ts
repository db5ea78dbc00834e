/**
 * The fact-store's bound is a setting (memory.factStoreChars, LAD_MEMORY_FACT_STORE_CHARS): a real service given a
 * small one answers 507 naming it once the records' JSON would pass it, keeps what it acknowledged, and a config
 * below its minimum is refused at start naming the key.
 */
import { loadConfig } from '../backend/server/config';
import type { Service } from '../backend/server/service';
import { postJson, removeDir, startTestService, tempDir } from './service-helpers';

jest.setTimeout(60_000);

let dir: string;
let service: Service | undefined;
beforeEach(() => {
  dir = tempDir('lad-fact-bound-');
});
afterEach(async () => {
  await service?.close();
  service = undefined;
  removeDir(dir);
});

test('LAD_MEMORY_FACT_STORE_CHARS bounds the records; past it a 507 names the setting and nothing acknowledged is lost', async () => {
  const bound = 1024 * 1024;
  service = await startTestService(dir, { LAD_MEMORY_FACT_STORE_CHARS: String(bound) });
  const message = (i: number): string => `${'disk quota nearly full on /data '.repeat(1500)}${i}`; // ~48 K characters
  let accepted = 0;
  let refused: Response | undefined;
  for (let i = 0; i < 40 && refused === undefined; i++) {
    const res = await postJson(`${service.url}/api/feedback`, { message: message(i), kind: 'false_positive', source: 'app' });
    if (res.status === 201) accepted++;
    else refused = res;
  }
  // the default bound (64 Mi or a sixteenth of the heap) would have taken all 40
  expect(refused?.status).toBe(507);
  expect(accepted).toBeGreaterThan(10);
  expect(((await refused!.json()) as { error: string }).error).toMatch(/bound is 1048576 \(memory\.factStoreChars, LAD_MEMORY_FACT_STORE_CHARS/);
  const listed = await (await fetch(`${service.url}/api/feedback`)).json();
  expect(listed).toHaveLength(accepted);
});

test('a bound below 1 MiB characters is a configuration error naming the key', () => {
  expect(() => loadConfig({ LAD_MEMORY_FACT_STORE_CHARS: '1000' })).toThrow(/memory\.factStoreChars/);
});
