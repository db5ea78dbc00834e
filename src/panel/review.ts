import type { DataFrame } from '@grafana/data';
import type { LadClient } from '../shared/api';
import { fieldsByName, REVIEW_FIELDS, reviewResponseSchema, type ReviewField } from '../shared/contract';
import type { AnomalyRow } from './types';

/** One item of a source's review queue (backend/feedback/review-queue.ts ReviewItem, with its source). */
export interface ReviewRow {
  /** Stable per source and line: answers are kept under it, across reloads of the queue. */
  key: string;
  refId: string;
  source: string;
  line: string;
  /** The service's id of the stored line: its surrounding lines come from GET /api/anomalies/:id/context. */
  lineId: string | null;
  template: string;
  score: number;
  threshold: number | null;
  flagged: boolean;
  /** Recent lines of the source an answer on this line decides (its neighbourhood), counted when the queue was built. */
  affected: number;
  /** Why the model is unsure. */
  why: string;
}

export function reviewKey(source: string, line: string): string {
  return `review:${source}:${line}`;
}

/** The fields of the contract's REVIEW_FIELDS that only a review frame has together. */
const REVIEW_MARKS: readonly ReviewField[] = ['affected', 'why', 'line'];

/** The `review` query's table frame (backend/api/query.ts reviewFrame): told apart by its `affected` and `why` fields. */
export function isReviewFrame(frame: DataFrame): boolean {
  const names = new Set(frame.fields.map((f) => f.name));
  return REVIEW_MARKS.every((name) => names.has(name));
}

export function reviewRowsFromFrames(frames: DataFrame[]): ReviewRow[] {
  const rows: ReviewRow[] = [];
  for (const frame of frames) {
    if (!isReviewFrame(frame)) {
      continue;
    }
    const { source, line, lineId, template, score, threshold, flagged, affected, why } = fieldsByName(frame.fields, REVIEW_FIELDS);
    for (let i = 0; i < frame.length; i++) {
      const src = String(source?.values[i] ?? '');
      const tpl = String(template?.values[i] ?? '');
      const text = String(line?.values[i] ?? '');
      const th = threshold?.values[i];
      rows.push({
        key: reviewKey(src, text),
        refId: frame.refId ?? '',
        source: src,
        line: text,
        lineId: lineId?.values[i] ? String(lineId.values[i]) : null,
        template: tpl,
        score: Number(score?.values[i] ?? NaN),
        threshold: typeof th === 'number' ? th : null,
        flagged: Boolean(flagged?.values[i]),
        affected: Number(affected?.values[i] ?? 0),
        why: String(why?.values[i] ?? ''),
      });
    }
  }
  return rows;
}

/** GET /api/review for one source, through the datasource's proxy route (reads are open to every role). */
export async function fetchReview(client: LadClient, source: string, refId: string, limit: number): Promise<ReviewRow[]> {
  const q = `?source=${encodeURIComponent(source)}&limit=${limit}`;
  const body = await client.request('Loading the review queue', 'GET', `/api/review${q}`, reviewResponseSchema);
  return body.items.map((item) => ({
    key: reviewKey(body.source, item.line),
    refId,
    source: body.source,
    line: item.line,
    lineId: item.lineId ?? null,
    template: item.template,
    score: item.score,
    threshold: item.threshold,
    flagged: item.flagged,
    affected: item.affected,
    why: item.why.join('; '),
  }));
}

/** The anomaly the service stored for this item's line, if the panel's rows hold it: its id gives the context. */
export function storedAnomalyOf(item: ReviewRow, rows: readonly AnomalyRow[]): AnomalyRow | undefined {
  return rows.find((r) => r.line === item.line && (!item.source || !r.source || r.source === item.source));
}

/** The id whose context shows the item's surrounding lines: the item's own line id, else the panel's stored anomaly. */
export function contextIdOf(item: ReviewRow, stored: AnomalyRow | undefined): string | null {
  return item.lineId ?? stored?.id ?? null;
}

/** The item as the feedback hook's example row, with the id of its stored line (the Lines view keys feedback by it). */
export function feedbackExample(item: ReviewRow, stored: AnomalyRow | undefined): AnomalyRow {
  return {
    id: stored?.id ?? item.lineId ?? '',
    refId: stored?.refId ?? item.refId,
    time: stored?.time ?? 0,
    source: item.source,
    score: item.score,
    threshold: item.threshold,
    line: item.line,
    template: item.template,
    reason: item.why,
    suppressed: false,
    feedback: null,
  };
}

/** What an answer changed, in the words of what is known: the queue's count of the lines it decides. */
export function answerEffect(kind: 'confirmed' | 'false_positive', affected: number): string {
  const lines = `${affected} similar recent line${affected === 1 ? '' : 's'}`;
  return kind === 'confirmed' ? `${lines} now flagged` : `${lines} now treated as normal`;
}
