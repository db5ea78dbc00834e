// What an answer is compared by: a line's distinct words (masked tokens as their placeholders, the engine's
// own words()) and its level. Computed once per answer and once per distinct scored line, never per comparison.

import { LineScanner } from '../engine/tokenizer';

export interface LineFeatures {
  /** Distinct words, lower-cased, masked tokens as placeholders. */
  words: readonly string[];
  /** The level rank the scanner found (NO_LEVEL = -1 when none). */
  level: number;
}

const scanner = new LineScanner();

export function featuresOf(line: string): LineFeatures {
  const s = scanner.scan(line);
  return { words: [...new Set(s.words())], level: s.level };
}
