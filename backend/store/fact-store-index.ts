/**
 * What every fact-store backend keeps in memory: the records and, per source, the templates of its false
 * positives. Shared so the backends agree on filtering, counting and suppression.
 */
import { rateAnswerOf } from '../contract';
import { TemplateSet } from '../engine/drain/template-match';
import type { FeedbackCounts, FeedbackFilter, FeedbackRecord } from './fact-store';

/** Matches every source: a false positive reported without a source suppresses its template everywhere. */
export const ANY_SOURCE = '*';

export function matchesFilter(r: FeedbackRecord, filter: FeedbackFilter): boolean {
  if (filter.source !== undefined && r.source !== filter.source) {
    return false;
  }
  if (filter.kind !== undefined && r.kind !== filter.kind) {
    return false;
  }
  if (filter.fromMs !== undefined || filter.toMs !== undefined) {
    const t = Date.parse(r.time);
    if ((filter.fromMs !== undefined && t < filter.fromMs) || (filter.toMs !== undefined && t > filter.toMs)) {
      return false;
    }
  }
  return true;
}

export function countRecords(records: Iterable<FeedbackRecord>): FeedbackCounts {
  let falsePositives = 0;
  let confirmed = 0;
  for (const r of records) {
    if (r.kind === 'false_positive') {
      falsePositives++;
    } else {
      confirmed++;
    }
  }
  // Precision of the reviewed anomalies: confirmed / all reviewed. Unknown until someone reviewed one.
  const reviewed = falsePositives + confirmed;
  return { falsePositives, confirmed, precision: reviewed === 0 ? null : confirmed / reviewed };
}

export function falsePositiveMessagesOf(records: Iterable<FeedbackRecord>, source: string): string[] {
  const out: string[] = [];
  for (const r of records) {
    // an answer about a template's rate (rateAnswerMessage) is no line to learn as normal
    if (r.kind === 'false_positive' && (r.source === source || r.source === ANY_SOURCE) && rateAnswerOf(r.message) === null) out.push(r.message);
  }
  return out;
}

/**
 * source → the templates of its false-positive records. Looked up by overlap, not by equal text: a
 * template widens as lines arrive and a retrained model mines afresh, and a suppression must survive both.
 */
export class SuppressionIndex {
  private readonly suppressed = new Map<string, TemplateSet>();

  update(record: FeedbackRecord, delta: 1 | -1): void {
    // "Not an anomaly" on a surge answers for that rate (pipeline/rate-watch.ts raises the template's peak), not
    // for every line of the template: it does not suppress them, nor a later, larger surge of it.
    if (record.kind !== 'false_positive' || rateAnswerOf(record.message) !== null) {
      return;
    }
    let templates = this.suppressed.get(record.source);
    if (!templates) {
      templates = new TemplateSet();
      this.suppressed.set(record.source, templates);
    }
    if (delta > 0) {
      templates.add(record.template);
    } else {
      templates.delete(record.template);
    }
  }

  clear(): void {
    this.suppressed.clear();
  }

  isSuppressed(source: string, template: string): boolean {
    return (this.suppressed.get(source)?.covers(template) ?? false) || (this.suppressed.get(ANY_SOURCE)?.covers(template) ?? false);
  }
}
