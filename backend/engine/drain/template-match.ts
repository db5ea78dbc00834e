// Whether two template texts can describe the same lines: same tokens, where a wildcard on either side
// takes anything. Feedback is keyed by template text, and templates change (a template widens as lines
// arrive, a retrained model mines afresh), so a false positive given on "disk sda failed" must still cover
// the line whose template is now "disk <*> failed", and the other way round.

import { WILDCARD } from './config';
import { splitTemplate } from './tokens';

export function templatesOverlap(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && a[i] !== WILDCARD && b[i] !== WILDCARD) return false;
  }
  return true;
}

/**
 * Templates indexed for overlap lookups: exact text first (the common case), then the templates of the
 * same token count. Answers are memoised until the set changes.
 */
export class TemplateSet {
  private readonly counts = new Map<string, number>();
  private readonly byLength = new Map<number, Map<string, string[]>>();
  private readonly memo = new Map<string, boolean>();

  get size(): number {
    return this.counts.size;
  }

  add(template: string): void {
    const n = this.counts.get(template) ?? 0;
    this.counts.set(template, n + 1);
    if (n === 0) {
      const tokens = splitTemplate(template);
      let same = this.byLength.get(tokens.length);
      if (same === undefined) this.byLength.set(tokens.length, (same = new Map()));
      same.set(template, tokens);
      this.memo.clear();
    }
  }

  delete(template: string): void {
    const n = this.counts.get(template) ?? 0;
    if (n > 1) {
      this.counts.set(template, n - 1);
    } else if (n === 1) {
      this.counts.delete(template);
      this.byLength.get(splitTemplate(template).length)?.delete(template);
      this.memo.clear();
    }
  }

  /** True when some template of the set overlaps `template`. */
  covers(template: string): boolean {
    if (this.counts.has(template)) return true;
    const known = this.memo.get(template);
    if (known !== undefined) return known;
    const tokens = splitTemplate(template);
    let found = false;
    for (const other of this.byLength.get(tokens.length)?.values() ?? []) {
      if (templatesOverlap(tokens, other)) {
        found = true;
        break;
      }
    }
    if (this.memo.size >= 10_000) this.memo.clear();
    this.memo.set(template, found);
    return found;
  }
}
