// One mined template: its tokens (literal words, masked placeholders and wildcards), how many lines joined
// it, and what each wildcard position has held.
//
// Drain turns every position that differs into a wildcard, so "VM Started", "VM Paused" and "VM Resumed"
// become one template "VM <*>", and "GET" and "POST" requests one. A variable (a user, a host, a file name)
// keeps taking new values as lines arrive; a word that names *which* event it is comes from a small closed
// set. So each wildcard position counts its distinct values, up to `maxValues`: while it has taken at most
// that many, the line's own word stays in its template text; past it, the position is a variable for good.

import { WILDCARD } from './config';
import { hasPlaceholder, isValueLiteral } from './similarity';
import { joinTokens } from './tokens';

/** Distinct values of one wildcard position, or null once it has had more than the limit (a variable). */
type PositionValues = Set<string> | null;

export class TemplateCluster {
  /** Bumped whenever the template changes (a new wildcard, a position turning variable). */
  revision = 0;
  private cachedText: string | null = null;
  /** Per wildcard position (by index): its values so far. */
  private readonly values = new Map<number, PositionValues>();

  constructor(
    /** Stable for the life of the miner (also across save and load). */
    readonly id: number,
    readonly tokens: string[],
    public size: number,
  ) {}

  /** The template with every wildcard shown as `<*>`: the cluster as a whole. */
  get text(): string {
    if (this.cachedText === null) this.cachedText = joinTokens(this.tokens);
    return this.cachedText;
  }

  /**
   * Joins a line: positions where it differs become wildcards, and wildcard positions record its word.
   * `maxValues` = 0 gives plain Drain.
   */
  join(tokens: readonly string[], count: number, maxValues: number, onValue: (position: number, word: string) => void): void {
    this.size += count;
    for (let i = 0; i < this.tokens.length; i++) this.take(i, tokens[i], maxValues, onValue);
  }

  /**
   * Takes in another template of the same length (merging two templates of one event): positions where the two
   * differ become wildcards holding both sides' words, as if the other's lines had joined one by one.
   */
  absorb(other: TemplateCluster, maxValues: number, onValue: (position: number, word: string) => void): void {
    this.size += other.size;
    for (let i = 0; i < this.tokens.length; i++) {
      const o = other.tokens[i];
      if (o !== WILDCARD) {
        this.take(i, o, maxValues, onValue);
        continue;
      }
      if (this.tokens[i] !== WILDCARD) this.widen(i, maxValues);
      const theirs = other.values.get(i);
      if (theirs === null || theirs === undefined) this.makeVariable(i);
      else for (const w of theirs) if (this.record(i, w, maxValues)) onValue(i, w);
    }
  }

  /** Position i meets `word`: a different literal there becomes a wildcard, and a wildcard records the word. */
  private take(i: number, word: string, maxValues: number, onValue: (position: number, word: string) => void): void {
    const t = this.tokens[i];
    if (t !== WILDCARD) {
      if (t === word) return;
      this.widen(i, maxValues);
    }
    if (this.record(i, word, maxValues)) onValue(i, word);
  }

  /** Turns literal position i into a wildcard that remembers its word as its first value (not a masked one). */
  private widen(i: number, maxValues: number): void {
    const t = this.tokens[i];
    this.tokens[i] = WILDCARD;
    this.values.set(i, maxValues > 0 && !hasPlaceholder(t) && !holdsValueLiteral(t) ? new Set([t]) : null);
    this.changed();
  }

  /** Wildcard position i is a variable for good: it no longer keeps its words. */
  private makeVariable(i: number): void {
    if (this.values.get(i) === null) return;
    this.values.set(i, null);
    this.changed();
  }

  /** Records a wildcard position's word; true when it is a new value of a position still counting. */
  private record(position: number, word: string, maxValues: number): boolean {
    const seen = this.values.get(position);
    if (seen === null || seen === undefined || seen.has(word)) return false;
    // A position that has held a masked value (a number, an IP…) is a variable, whatever else it holds.
    // So is one holding a dotted name (org.apache.Foo, nova.compute.manager): those name code locations, a
    // header field, not the event. And one holding a boolean or a null (`visible=true`, `ws=null`): a state, not the event's name.
    if (seen.size >= maxValues || hasPlaceholder(word) || isDottedName(word) || holdsValueLiteral(word)) {
      this.makeVariable(position);
      return false;
    }
    seen.add(word);
    return true;
  }

  /** Every (position, word) the template holds: its literal words and the values of its wildcards. */
  forEachWord(fn: (position: number, word: string) => void): void {
    this.tokens.forEach((t, i) => {
      if (t !== WILDCARD) fn(i, t);
    });
    for (const [i, v] of this.values) v?.forEach((w) => fn(i, w));
  }

  private changed(): void {
    this.revision++;
    this.cachedText = null;
  }

  /**
   * The template of one line of this cluster: wildcards that have only ever held a few values show the
   * line's own word, so lines that differ in such a word get different templates. Not a word that other
   * templates also hold at that position (`isShared`): that is a header field (a program or component
   * name in every template of the log), not the name of this event.
   */
  textOf(tokens: readonly string[], isShared: (position: number, word: string) => boolean): string {
    return joinTokens(this.tokens.map((t, i) => (t === WILDCARD && this.values.get(i)?.has(tokens[i]) && !isShared(i, tokens[i]) ? tokens[i] : t)));
  }

  /** True when the line's tokens fit the template exactly (wildcards take anything). */
  matches(tokens: readonly string[]): boolean {
    if (tokens.length !== this.tokens.length) return false;
    for (let i = 0; i < tokens.length; i++) {
      const t = this.tokens[i];
      if (t !== WILDCARD && t !== tokens[i]) return false;
    }
    return true;
  }

  /** For persistence: the wildcard positions' values ([] for a variable). */
  valuesState(): [number, string[] | null][] {
    return [...this.values].map(([i, v]) => [i, v === null ? null : [...v]]);
  }

  restoreValues(state: readonly [number, string[] | null][]): void {
    for (const [i, v] of state) this.values.set(i, v === null ? null : new Set(v));
  }
}

/** A boolean or a null, alone or as a named field's value (`visible=true`, `ws=null`). */
function holdsValueLiteral(word: string): boolean {
  const eq = word.indexOf('=');
  return isValueLiteral(word, eq + 1);
}

/** Two or more inner dots: a module, class or host path. */
function isDottedName(word: string): boolean {
  let dots = 0;
  for (let i = 1; i < word.length - 1; i++) if (word.charCodeAt(i) === 46) dots++;
  return dots >= 2;
}
