// Bounds and knobs of the template miner. One default for every log: nothing here is per system.

import { z } from 'zod';

export const minerConfigSchema = z
  .object({
    /**
     * Share of a line's informative positions (see similarity.ts) that must equal a template's for the line
     * to join it. Drain3's default is also 0.4. Chosen by leave-one-system-out over a grid (docs/engine.md):
     * with header words not counted as evidence, 0.4 to 0.5 is a plateau, not a peak.
     */
    similarity: z.number().min(0).max(1).default(0.4),
    /**
     * Leading token positions that route a line in the prefix tree (Drain's depth − 2), after its token count.
     * 1, not Drain's 2: Scorpio parses the whole line, header included, so position 1 is often a header field
     * that varies (a program or host name without digits): routed on, it put each value's lines in a subtree of
     * their own, never compared (a synthetic `[time] <program> - …` log: 408 templates for 3 events, 3 with 1).
     * GA on the ten samples is the same with 2, 1 or 0 (docs/engine.md).
     */
    prefixTokens: z.number().int().min(0).max(16).default(1),
    /** A tree node with this many children sends new tokens to its wildcard child (Drain's max_children). */
    maxChildren: z.number().int().min(1).max(10_000).default(100),
    /** Templates kept; the least recently used is evicted beyond it (counted in lad_templates_evicted_total). */
    /**
     * Rule: bounded memory per source. A template measured about 1.1 KB of heap, so 20,000 is about 23 MB
     * at worst, and 140 times the most templates mined from any 2,000-line sample here (142).
     */
    maxTemplates: z.number().int().min(1).max(10_000_000).default(20_000),
    /**
     * Templates one leaf of the tree may hold; past it the one least recently matched there is evicted.
     * Bounds the comparisons a new line costs. Rule: about 7 times the largest leaf on the 14 samples here
     * (34, Thunderbird), room for logs ten times richer in templates.
     */
    maxLeafTemplates: z.number().int().min(1).max(100_000).default(256),
    /**
     * A wildcard position that has held at most this many distinct words keeps the line's word in its
     * template (a closed set: GET/POST, Started/Stopped); one more and it is a variable. 0 = plain Drain.
     * 4 and 6 lie on the same plateau (docs/engine.md); 6 is the grid's best cell on all ten samples.
     */
    maxValues: z.number().int().min(0).max(64).default(6),
    /** Tokens of a line the miner looks at; the rest of a longer line is one trailing wildcard. */
    maxTokens: z.number().int().min(2).max(4096).default(128),
  })
  .strict();

export type MinerConfig = z.output<typeof minerConfigSchema>;

export type MinerConfigInput = z.input<typeof minerConfigSchema>;

/** The defaults: the schema's reading of an empty config (the engine's `miner` section). */
export const DEFAULT_MINER_CONFIG: MinerConfig = Object.freeze(minerConfigSchema.parse({}));

/** Bumped when a change to the miner or the tokenizer changes which lines share a template. */
export const MINER_VERSION = 10;

/** Bumped when the tokenizer's masking changes which lines share a template (2: backslash paths are <PATH>; 3: Go compound durations are <DUR>; 4: a syslog <PRI> and a one-digit level value are words, klog inside CRI and Docker lines; 5: an ISO 8601 date-time is one <TS>). */
export const MASKING_VERSION = 5;

/** Which tokenizer and miner made a template (without the miner's settings: see templateVersionOf). */
const TEMPLATE_VERSION = `masked-${MASKING_VERSION}+drain-${MINER_VERSION}`;

/**
 * What the fact-store records beside each template: the tokenizer and miner version and the settings that
 * decide which lines share a template (the bounds on memory do not). A record made under other settings is
 * re-stamped at start-up and counted in the log, so a change is visible, never silent.
 */
export function templateVersionOf(miner: MinerConfig): string {
  const { similarity, prefixTokens, maxChildren, maxValues, maxTokens } = miner;
  return `${TEMPLATE_VERSION} similarity=${similarity} prefixTokens=${prefixTokens} maxChildren=${maxChildren} maxValues=${maxValues} maxTokens=${maxTokens}`;
}

/** The template version of the default miner settings. */
export const DEFAULT_TEMPLATE_VERSION = templateVersionOf(DEFAULT_MINER_CONFIG);

/** The placeholder of a position that varies between the lines of a template. */
export const WILDCARD = '<*>';
