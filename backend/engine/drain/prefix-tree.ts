// Drain's parse tree: lines are routed by token count, then by their first few *content* tokens, to a leaf
// holding the templates they are compared with. Placeholders and tokens with digits route to the wildcard
// child (Drain's rule: they are likely variables), and so does any token once a node is full, which bounds
// the tree however many distinct words a log has.

import { WILDCARD } from './config';
import { isPlaceholder } from './similarity';

interface TreeNode {
  children: Map<string, TreeNode>;
  /** Templates at a leaf (ids). */
  clusters: number[];
}

function newNode(): TreeNode {
  return { children: new Map(), clusters: [] };
}

function hasDigit(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/** The routing key of a token: itself, or the wildcard for anything that looks variable. */
function routeKey(token: string): string {
  return isPlaceholder(token) || hasDigit(token) ? WILDCARD : token;
}

export class PrefixTree {
  private readonly byLength = new Map<number, TreeNode>();

  constructor(
    private readonly prefixTokens: number,
    private readonly maxChildren: number,
  ) {}

  /** The templates a line is compared with, or undefined when no leaf exists for it yet. */
  candidates(tokens: readonly string[]): readonly number[] | undefined {
    let node = this.byLength.get(tokens.length);
    const depth = Math.min(this.prefixTokens, tokens.length);
    for (let i = 0; node !== undefined && i < depth; i++) {
      node = node.children.get(routeKey(tokens[i])) ?? node.children.get(WILDCARD);
    }
    return node?.clusters;
  }

  /** Adds a template under the path of its tokens (creating nodes as needed); returns its leaf. */
  add(id: number, tokens: readonly string[]): number[] {
    let node = this.byLength.get(tokens.length);
    if (node === undefined) {
      node = newNode();
      this.byLength.set(tokens.length, node);
    }
    const depth = Math.min(this.prefixTokens, tokens.length);
    for (let i = 0; i < depth; i++) {
      let key = routeKey(tokens[i]);
      if (!node.children.has(key) && node.children.size >= this.maxChildren) key = WILDCARD;
      let child: TreeNode | undefined = node.children.get(key);
      if (child === undefined) {
        child = newNode();
        node.children.set(key, child);
      }
      node = child;
    }
    node.clusters.push(id);
    return node.clusters;
  }

  /** Removes an evicted template from its leaf (as returned by `add`: its tokens may have changed since). */
  static remove(id: number, leaf: number[]): void {
    const i = leaf.indexOf(id);
    if (i >= 0) leaf.splice(i, 1);
  }
}
