// The online template miner (Drain-class). It sees the masked tokens of each line (the tokenizer has already
// replaced numbers, ids, IPs, times… by typed placeholders), routes them through a prefix tree to the
// templates of the same length and leading words, and joins the most similar one when it is similar enough,
// turning the positions that differ into wildcards. Otherwise the line starts a new template. A template that
// widens takes in the templates of its leaf it now covers (made before a header field's values were known).
//
// State is bounded by configuration: at most `maxTemplates` templates (least recently used evicted first,
// as Loki's pkg/pattern/drain does), at most `maxLeafTemplates` in one leaf of the tree (so a flood of
// distinct lines of one shape cannot make every new line compare against thousands of templates: the
// search per line is bounded), and `maxTokens` tokens a line.

import { LRUCache } from 'lru-cache';
import { TemplateCluster } from './cluster';
import { MINER_VERSION, WILDCARD, minerConfigSchema, type MinerConfig, type MinerConfigInput } from './config';
import { PrefixTree } from './prefix-tree';
import { isPlaceholder, lineFlagsOf, similarity, type Similarity } from './similarity';
import type { MinerState } from './state';
import { isDelimiter, splitTemplate } from './tokens';

export class TemplateMiner {
  readonly config: MinerConfig;
  private readonly tree: PrefixTree;
  private readonly clusters: LRUCache<number, TemplateCluster>;
  private readonly leaves = new Map<number, number[]>();
  private nextId = 1;
  /** Templates evicted to stay within maxTemplates, over the miner's life. */
  evicted = 0;
  /** True while a merge deletes a template: the deletion is not an eviction. */
  private merging = false;
  private readonly sim: Similarity = { score: 0, wildcards: 0 };
  /** lineFlagsOf each of the current line's words, filled once per line for all its comparisons (best). */
  private lineFlags = new Uint8Array(64);
  /** How many templates hold each (position, word): a word many templates share there is a header field. */
  /**
   * How many templates hold each word at each position (as a literal or a closed-set value), by position
   * then word: looked up for every equal word a comparison meets, so no key string is built per lookup.
   */
  private readonly holders: Map<string, number>[] = [];
  /** A word more than one template holds at this position: a field of the log's format, not of one event. */
  private readonly isShared = (position: number, word: string): boolean => (this.holders[position]?.get(word) ?? 0) > 1;
  private readonly countHolder = (position: number, word: string): void => {
    let at = this.holders[position];
    if (at === undefined) at = this.holders[position] = new Map();
    at.set(word, (at.get(word) ?? 0) + 1);
  };
  private readonly dropHolder = (position: number, word: string): void => {
    const at = this.holders[position];
    if (at === undefined) return;
    const n = (at.get(word) ?? 0) - 1;
    if (n > 0) at.set(word, n);
    else at.delete(word);
  };

  constructor(config: MinerConfigInput = {}) {
    this.config = minerConfigSchema.parse(config);
    this.tree = new PrefixTree(this.config.prefixTokens, this.config.maxChildren);
    this.clusters = new LRUCache<number, TemplateCluster>({
      max: this.config.maxTemplates,
      dispose: (cluster, id, reason) => {
        // 'evict': over maxTemplates; 'delete': the oldest of a full leaf (insert)
        if (reason !== 'evict' && reason !== 'delete') return;
        if (!this.merging) this.evicted++;
        cluster.forEachWord(this.dropHolder);
        const leaf = this.leaves.get(id);
        if (leaf !== undefined) PrefixTree.remove(id, leaf);
        this.leaves.delete(id);
      },
    });
  }

  get size(): number {
    return this.clusters.size;
  }

  /** The id the next new template will take: templates with a smaller id existed before now. */
  get nextTemplateId(): number {
    return this.nextId;
  }

  /** Splits a masked template (the tokenizer's `template()`) into the miner's tokens, bounded. */
  tokensOf(maskedTemplate: string): string[] {
    const tokens = splitTemplate(maskedTemplate);
    if (tokens.length > this.config.maxTokens) {
      tokens.length = this.config.maxTokens - 1;
      tokens.push(WILDCARD);
    }
    return tokens;
  }

  /** The template this line joins, learning from it: it may create a template or widen one. */
  add(tokens: readonly string[], count = 1): TemplateCluster {
    const found = this.best(tokens);
    if (found !== undefined) {
      const revision = found.revision;
      found.join(tokens, count, this.config.maxValues, this.countHolder);
      return found.revision !== revision ? this.mergeCovered(found) : found;
    }
    const cluster = new TemplateCluster(this.nextId++, [...tokens], count);
    this.insert(cluster);
    return cluster;
  }

  /**
   * A template that has just widened may now cover others of its leaf: templates of the same event made before
   * it was wide (a header field's first values, before they were known as such). They become one template,
   * which keeps the oldest id (a template made before training is never replaced by one made after). Returns
   * the template that remains.
   */
  private mergeCovered(wide: TemplateCluster): TemplateCluster {
    const leaf = this.leaves.get(wide.id);
    if (leaf === undefined || leaf.length < 2 || !describesEvent(wide.tokens)) return wide;
    const group: TemplateCluster[] = [wide];
    for (const id of leaf) {
      const c = this.clusters.peek(id);
      if (c !== undefined && c !== wide && wide.matches(c.tokens)) group.push(c);
    }
    if (group.length === 1) return wide;
    let survivor = wide;
    for (const c of group) if (c.id < survivor.id) survivor = c;
    this.merging = true;
    try {
      for (const c of group) {
        if (c === survivor) continue;
        this.clusters.delete(c.id); // drops its holders and its place in the leaf (dispose)
        survivor.absorb(c, this.config.maxValues, this.countHolder);
      }
    } finally {
      this.merging = false;
    }
    return survivor;
  }

  /** The template this line belongs to, without learning; undefined when it would start a new one. */
  match(tokens: readonly string[]): TemplateCluster | undefined {
    return this.best(tokens);
  }

  /** Marks a template as just used (scoring calls it on cached lines, keeping the LRU order honest). */
  touch(id: number): TemplateCluster | undefined {
    return this.clusters.get(id);
  }

  get(id: number): TemplateCluster | undefined {
    return this.clusters.peek(id);
  }

  /** Every template, most lines first. */
  templates(): TemplateCluster[] {
    return [...this.clusters.values()].sort((a, b) => b.size - a.size || a.id - b.id);
  }

  private best(tokens: readonly string[]): TemplateCluster | undefined {
    const ids = this.tree.candidates(tokens);
    if (ids === undefined) return undefined;
    if (this.lineFlags.length < tokens.length) this.lineFlags = new Uint8Array(tokens.length);
    const flags = this.lineFlags;
    for (let i = 0; i < tokens.length; i++) flags[i] = lineFlagsOf(i, tokens[i], this.isShared);
    let best: TemplateCluster | undefined;
    let bestScore = -1;
    let bestWildcards = Infinity;
    for (const id of ids) {
      const cluster = this.clusters.peek(id);
      if (cluster === undefined) continue;
      // a template that cannot reach both the threshold and the best so far (nor tie it) is left mid-way
      const s = similarity(cluster.tokens, tokens, this.sim, this.isShared, flags, Math.max(bestScore, this.config.similarity));
      if (s.score > bestScore || (s.score === bestScore && s.wildcards < bestWildcards)) {
        best = cluster;
        bestScore = s.score;
        bestWildcards = s.wildcards;
      }
    }
    if (best === undefined || bestScore < this.config.similarity) return undefined;
    this.clusters.get(best.id); // most recently used, overall and in its leaf
    const leaf = ids as number[];
    const at = leaf.indexOf(best.id);
    if (at < leaf.length - 1) leaf.push(...leaf.splice(at, 1));
    return best;
  }

  /** The template text of a line of `cluster` (see TemplateCluster.textOf). */
  textOf(cluster: TemplateCluster, tokens: readonly string[]): string {
    return cluster.textOf(tokens, this.isShared);
  }

  private insert(cluster: TemplateCluster): void {
    cluster.forEachWord(this.countHolder);
    this.clusters.set(cluster.id, cluster);
    const leaf = this.tree.add(cluster.id, cluster.tokens);
    this.leaves.set(cluster.id, leaf);
    // the new template is last; the first is the one least recently matched in this leaf
    if (leaf.length > this.config.maxLeafTemplates) this.clusters.delete(leaf[0]);
  }

  toJSON(): MinerState {
    // rvalues(): least recently used first
    const clusters = [...this.clusters.rvalues()].filter((c) => c !== undefined).map((c) => ({ id: c.id, tokens: c.tokens, size: c.size, values: c.valuesState() }));
    return { version: MINER_VERSION, config: this.config, nextId: this.nextId, evicted: this.evicted, clusters };
  }

  static fromJSON(state: MinerState): TemplateMiner {
    const miner = new TemplateMiner(state.config);
    for (const c of state.clusters) {
      const cluster = new TemplateCluster(c.id, [...c.tokens], c.size);
      cluster.restoreValues(c.values);
      miner.insert(cluster);
    }
    miner.nextId = state.nextId;
    miner.evicted = state.evicted;
    return miner;
  }
}

/**
 * A template whose literal words outnumber its wildcards: it names an event by its words. One that is mostly
 * wildcards (BGL's `RAS KERNEL <*> <*> <*> <*> <HEX>`) covers lines of many events, and merging what it covers
 * would join them.
 */
function describesEvent(tokens: readonly string[]): boolean {
  let words = 0;
  let wildcards = 0;
  for (const t of tokens) {
    if (t === WILDCARD) wildcards++;
    else if (!isPlaceholder(t) && !isDelimiter(t)) words++;
  }
  return words > wildcards;
}
