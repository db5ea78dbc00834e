// `lad templates --input FILE [--format text|jsonl]`: the templates the miner finds in a log, most frequent
// first, each with its line count and an example, for a person looking at their logs. No model is needed:
// the miner learns from the file itself, exactly as training does (engine/drain).

import { promises as fs } from 'fs';
import { resolveConfig } from '../engine';
import { LineScanner } from '../engine/tokenizer';
import { TemplateMiner } from '../engine/drain/miner';
import { checkReadable, CliError, streamChunks } from './input';
import { progressReporter } from './progress';

export interface TemplatesCommandOptions {
  input: string;
  format: 'text' | 'jsonl';
  limit?: number;
  quiet?: boolean;
}

interface Row {
  template: string;
  count: number;
  example: string;
}

/** Calls `onLine` for every line of a file, streamed (stdin too), LF or CRLF. */
async function forEachLine(file: string, onLine: (line: string) => void): Promise<void> {
  await streamChunks(file, (chunk) => {
    const text = chunk.toString('utf8');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      onLine(text.slice(start, stop));
      start = end + 1;
    }
  });
}

export async function runTemplates(o: TemplatesCommandOptions): Promise<void> {
  const config = resolveConfig();
  const scanner = new LineScanner(config.maxLineLength);
  const miner = new TemplateMiner(config.miner);
  const progress = progressReporter(o.quiet !== true);
  // Pass 1 learns every template; pass 2 gives each line the template it ends up in (a template widens
  // as lines arrive, so a line's final template is only known at the end). A regular file is read again;
  // the lines of anything else are kept: stdin, a named pipe or `--input <(cmd)` cannot be read twice (opening
  // such a pipe again waits for a writer that never comes).
  await checkReadable(o.input);
  const kept: string[] | null = o.input !== '-' && (await fs.stat(o.input)).isFile() ? null : [];
  let lines = 0;
  await forEachLine(o.input, (line) => {
    miner.add(miner.tokensOf(scanner.scan(line).template()));
    kept?.push(line);
    if ((++lines & 0xffff) === 0) progress.onProgress({ phase: 'mine', done: lines, total: 0 });
  });
  if (lines === 0) throw new CliError(`no lines in ${o.input === '-' ? 'stdin' : o.input}`);
  const rows = new Map<string, Row>();
  const assign = (line: string): void => {
    const tokens = miner.tokensOf(scanner.scan(line).template());
    const cluster = miner.match(tokens) ?? miner.add(tokens);
    const template = miner.textOf(cluster, tokens);
    const row = rows.get(template);
    if (row === undefined) rows.set(template, { template, count: 1, example: line });
    else row.count++;
  };
  if (kept !== null) kept.forEach(assign);
  else await forEachLine(o.input, assign);
  progress.stop();
  const sorted = [...rows.values()].sort((a, b) => b.count - a.count || (a.template < b.template ? -1 : 1));
  const shown = o.limit === undefined ? sorted : sorted.slice(0, o.limit);
  const width = String(shown[0]?.count ?? 0).length;
  const out =
    o.format === 'jsonl'
      ? shown.map((r) => JSON.stringify(r)).join('\n')
      : shown.map((r) => `${String(r.count).padStart(width)}  ${r.template}\n${' '.repeat(width)}  e.g. ${r.example}`).join('\n');
  process.stdout.write(out + '\n');
  if (o.quiet !== true) {
    process.stderr.write(`${lines} lines, ${rows.size} templates${miner.evicted > 0 ? ` (${miner.evicted} evicted to stay within miner.maxTemplates)` : ''}\n`);
  }
}
