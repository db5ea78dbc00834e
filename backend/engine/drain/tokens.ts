// The miner's tokens: a masked template split at spaces, with bracket groups kept whole, and fields glued by a
// delimiter (`ts|component|pid|message`) split apart with the delimiter as a token of its own.

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

/**
 * A field delimiter some formats write without spaces around it (`20171223-22:15:29:606|Step_LSC|30002312|…`).
 * Split at spaces only, such a line is one token holding the time, the component and the first word of the
 * message, so two events of one component, or one event of two components, share nothing position by
 * position. The delimiter becomes a token of its own: it never varies, so a wildcard never swallows it, and
 * similarity.ts does not count it as evidence. None of the development samples contains it.
 */
export const FIELD_DELIMITER = '|';

function splitFields(parts: string[]): string[] {
  let any = false;
  for (const p of parts) if (p.includes(FIELD_DELIMITER)) any = true;
  if (!any) return parts;
  const out: string[] = [];
  for (const p of parts) {
    // a bracket group is one token whatever it holds
    if (!p.includes(FIELD_DELIMITER) || OPEN.includes(p.charAt(0))) {
      out.push(p);
      continue;
    }
    const fields = p.split(FIELD_DELIMITER);
    for (let i = 0; i < fields.length; i++) {
      if (i > 0) out.push(FIELD_DELIMITER);
      if (fields[i] !== '') out.push(fields[i]);
    }
  }
  return out;
}

/** The tokens of a template text (a mined template, or a masked line): the inverse of joinTokens. */
export function splitTemplate(text: string): string[] {
  return text.length === 0 ? [] : splitFields(groupBrackets(text.split(' ')));
}

/** A template's text from its tokens: spaces between tokens, none around a field delimiter. */
export function joinTokens(tokens: readonly string[]): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    out = i === 0 || t === FIELD_DELIMITER || tokens[i - 1] === FIELD_DELIMITER ? out + t : `${out} ${t}`;
  }
  return out;
}
