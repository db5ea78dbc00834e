// Character bounds of the per-source in-memory windows of line text, next to their line-count bounds: lines may
// be up to maxLineBytes (64 KiB) long, so a count bound alone lets a window of 20,000 lines hold 1.3 GB.
import type { Config } from './config';

/**
 * The characters a line is budgeted by default in the in-memory windows (a window of N lines may hold N × this):
 * bounds their memory when lines are long (up to maxLineBytes, 64 KiB) and never binds on ordinary logs. Rule,
 * chosen before measuring memory: a generous average line, about 1.7× the longest mean line length of the 14
 * sample systems (OpenStack, 297 characters; the others 85 to 201).
 */
export const LINE_CHARS_BUDGET = 512;

/** Characters of line text the first training window takes per source (full at windowLines or at this, whichever first). */
export function windowChars(training: Pick<Config['training'], 'windowLines' | 'windowChars'>): number {
  return training.windowChars ?? training.windowLines * LINE_CHARS_BUDGET;
}

/** Characters of line text the retraining window (RecentLines) keeps per source. */
export function retrainChars(training: Pick<Config['training'], 'retrainLines' | 'retrainChars'>): number {
  return training.retrainChars ?? training.retrainLines * LINE_CHARS_BUDGET;
}

/** Characters of accepted, not yet scored lines a source's queue takes (more: 429, as over queue.maxLines). */
export function queueChars(queue: Pick<Config['queue'], 'maxLines' | 'maxChars'>): number {
  return queue.maxChars ?? queue.maxLines * LINE_CHARS_BUDGET;
}

/** Characters of line text the results store's recent-lines ring keeps per source. */
export function recentChars(retention: Pick<Config['retention'], 'recentLines' | 'recentChars'>): number {
  return retention.recentChars ?? retention.recentLines * LINE_CHARS_BUDGET;
}

/** Characters of line text the results store's in-memory anomalies keep per source. */
export function anomalyChars(retention: Pick<Config['retention'], 'maxAnomalies' | 'maxAnomalyChars'>): number {
  return retention.maxAnomalyChars ?? retention.maxAnomalies * LINE_CHARS_BUDGET;
}
