// What a feedback record's template becomes when the tokenizer or miner changed (its templateVersion differs).
// A record keeps its template while that still covers its own message as the current miner splits it (overlap:
// a template widened by later lines still covers the line it was given on). When it does not, the miner now
// splits that kind of line differently (JSON lines are mined on their message since session 5), and the
// suppression would be silently lost: the record takes its message's own template, the old one kept in
// `previousTemplate` and the change counted, so it is visible.

import { rateAnswerOf } from '../contract';
import { templatesOverlap } from '../engine/drain/template-match';
import { joinTokens, splitTemplate } from '../engine/drain/tokens';
import { templateOf } from '../engine/tokenizer';

/** The template a message gets on its own: masked by the tokenizer, in the miner's tokens. */
export function ownTemplate(message: string): string {
  return joinTokens(splitTemplate(templateOf(message)));
}

/** The template a re-stamped record should have, or null when its own still covers its message. */
export function migratedTemplate(record: { message: string; template: string }): string | null {
  // an answer about a rate event names that event's template, not a line's
  if (rateAnswerOf(record.message) !== null) return null;
  const own = ownTemplate(record.message);
  return templatesOverlap(splitTemplate(record.template), splitTemplate(own)) ? null : own;
}
