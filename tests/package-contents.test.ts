/**
 * What `npm pack` puts in the package (package.json `files`): the CLI, the built backend and the demo logs it
 * replays, and none of the test corpora. Loghub's samples are licensed for research use only and live in
 * backend/testdata for the tests (issue 13: "out of the built plugin and the package").
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..');

function packedFiles(): string[] {
  // --ignore-scripts: `prepare` would rebuild the backend; the list depends only on `files` and what exists
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  return pack.files.map((f) => f.path);
}

test('the package holds the CLI, the built backend and the demo logs, and no test corpus', () => {
  const files = packedFiles();
  expect(files).toEqual(expect.arrayContaining(['backend/bin/lad.js', 'backend/demo/webshop.txt', 'backend/demo/anomalies.txt', 'LICENSE', 'README.md']));
  // the built service is packed when it has been built (the test script builds before running jest)
  if (existsSync(path.join(root, 'backend/dist/server/main.js'))) expect(files).toContain('backend/dist/server/main.js');
  expect(files.filter((f) => f.includes('testdata') || f.includes('loghub') || f.endsWith('.log'))).toEqual([]);
  expect(files.filter((f) => /\.test\.|__tests__|^tests\/|^src\//.test(f))).toEqual([]);
});
