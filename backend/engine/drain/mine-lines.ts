// Mines a whole corpus the way `lad train` then `lad score` do: learn from every line in order, then give
// each line the template of the cluster it belongs to at the end. Used by the golden tests, the grouping
// accuracy table (docs/engine.md) and `lad templates`.

import { LineScanner } from '../tokenizer';
import type { MinerConfigInput } from './config';
import { TemplateMiner } from './miner';

export interface MinedCorpus {
  miner: TemplateMiner;
  /** The template of each line, in line order. */
  templates: string[];
}

export function mineLines(lines: readonly string[], config: MinerConfigInput = {}, maxLineLength?: number): MinedCorpus {
  const scanner = new LineScanner(maxLineLength);
  const miner = new TemplateMiner(config);
  const tokens = lines.map((line) => miner.tokensOf(scanner.scan(line).template()));
  for (const t of tokens) miner.add(t);
  const templates = tokens.map((t) => {
    const cluster = miner.match(t) ?? miner.add(t);
    return miner.textOf(cluster, t);
  });
  return { miner, templates };
}
