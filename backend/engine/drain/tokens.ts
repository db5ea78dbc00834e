// The miner's tokens: a masked template split at spaces, with bracket groups kept whole.

const OPEN = '[(';
const CLOSE = '])';
/** A group longer than this many words is left as words (an unclosed bracket must not swallow the line). */
const MAX_GROUP_WORDS = 16;

/**
 * A bracketed or parenthesised group is one token: `[req-1 - - - - -]`, `[-]` and `[AsyncDispatcher event handler]`
 * are the same
 * header field with different numbers of words, and Drain only compares lines of equal token counts.
 */
export function groupBrackets(parts: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const open = OPEN.indexOf(p.charAt(0));
    if (open < 0 || closes(p, CLOSE.charAt(open))) {
      out.push(p);
      continue;
    }
    let j = i + 1;
    while (j < parts.length && j - i < MAX_GROUP_WORDS && !closes(parts[j], CLOSE.charAt(open))) j++;
    if (j < parts.length && j - i < MAX_GROUP_WORDS) {
      out.push(parts.slice(i, j + 1).join(' '));
      i = j;
    } else out.push(p);
  }
  return out;
}

function closes(part: string, close: string): boolean {
  return part.endsWith(close) || part.endsWith(close + ':') || part.endsWith(close + ',');
}

/** The tokens of a template text (a mined template, or a masked line): the inverse of joining with spaces. */
export function splitTemplate(text: string): string[] {
  return text.length === 0 ? [] : groupBrackets(text.split(' '));
}
