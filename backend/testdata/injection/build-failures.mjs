// Rebuilds failures.tsv from Loghub's structured samples (run by hand, never by tests or the protocol):
//   node backend/testdata/injection/build-failures.mjs DATA_DIR   (a folder holding loghub/*_2k.log_structured.csv)
// Keeps the Content of every error- or fatal-level line (Loghub's own Level column: error, ERROR, SEVERE,
// FATAL, FAILURE…), one message per ground-truth event (EventId) per system, in file order. Systems whose
// structured CSV has no Level column (OpenSSH, Thunderbird) or no such line contribute nothing.
import { readFileSync, readdirSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';
import Papa from 'papaparse';

const FAILURE_LEVELS = new Map([
  ['error', 'error'], ['err', 'error'], ['severe', 'error'],
  ['fatal', 'fatal'], ['failure', 'fatal'], ['critical', 'fatal'], ['crit', 'fatal'], ['emerg', 'fatal'], ['alert', 'fatal'],
]);

const dataDir = process.argv[2];
if (dataDir === undefined) {
  console.error('usage: node backend/testdata/injection/build-failures.mjs DATA_DIR (a folder holding loghub/*_2k.log_structured.csv)');
  process.exit(2);
}
const loghub = join(dataDir, 'loghub');
const rows = [];
for (const file of readdirSync(loghub).filter((f) => f.endsWith('_2k.log_structured.csv')).sort()) {
  const system = file.replace(/_2k\.log_structured\.csv$/, '');
  const parsed = Papa.parse(readFileSync(join(loghub, file), 'utf8'), { header: true, skipEmptyLines: true });
  const seen = new Set();
  for (const r of parsed.data) {
    const level = FAILURE_LEVELS.get(String(r.Level ?? '').trim().toLowerCase());
    if (level === undefined || seen.has(r.EventId)) {
      continue;
    }
    seen.add(r.EventId);
    const message = String(r.Content).replace(/[\t\r\n]+/g, ' ').trim();
    if (message !== '') {
      rows.push([system, level, message]);
    }
  }
}
const out = join(dirname(fileURLToPath(import.meta.url)), 'failures.tsv');
writeFileSync(out, ['system\tlevel\tmessage', ...rows.map((r) => r.join('\t'))].join('\n') + '\n');
console.log(`${rows.length} failure messages written to ${out}`);
