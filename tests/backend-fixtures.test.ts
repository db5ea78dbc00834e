/**
 * The plugin tests' fixtures (tests/fixtures/backend-fixtures.json) are the real backend's answers: this test asks a
 * real service again and fails when the committed file is not what it answers now.
 *   UPDATE_FIXTURES=1 npx jest tests/backend-fixtures.test.ts   rewrites the file
 */
import fs from 'node:fs';
import path from 'node:path';

import { generateBackendFixtures, type BackendFixtures } from './backend-fixtures';

jest.setTimeout(120_000);

const FILE = path.join(__dirname, 'fixtures', 'backend-fixtures.json');

it('the committed fixtures are what the backend answers now', async () => {
  const now = await generateBackendFixtures();
  if (process.env.UPDATE_FIXTURES === '1') {
    fs.writeFileSync(FILE, `${JSON.stringify(now, null, 2)}\n`);
  }
  const committed = JSON.parse(fs.readFileSync(FILE, 'utf8')) as BackendFixtures;
  try {
    expect(now).toEqual(committed);
  } catch (err) {
    throw new Error(
      `tests/fixtures/backend-fixtures.json is not what the backend answers now. If the backend's change is intended, run\n` +
        `  UPDATE_FIXTURES=1 npx jest tests/backend-fixtures.test.ts\nand commit the file with it.\n${(err as Error).message}`
    );
  }
});
