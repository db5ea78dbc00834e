/** Choosing and checking the source name a pushed line belongs to. */
import { z } from 'zod';

export const DEFAULT_SOURCE_LABELS: readonly string[] = ['source', 'job', 'service_name', 'app'];
export const MAX_SOURCE_NAME_LENGTH = 128;

/**
 * A source name becomes a pipeline, a model and a Grafana template-variable value, so it must be short,
 * printable and free of path separators. Returns the problem, or null when the name is fine.
 */
export function sourceNameProblem(name: string): string | null {
  if (name.length === 0) {
    return 'source name is empty';
  }
  if (name.length > MAX_SOURCE_NAME_LENGTH) {
    return `source name longer than ${MAX_SOURCE_NAME_LENGTH} characters`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f/\\]/.test(name)) {
    return 'source name contains a control character, "/" or "\\"';
  }
  if (name === '.' || name === '..') {
    return 'source name cannot be "." or ".."';
  }
  return null;
}

/**
 * Makes a usable source name from a label value. Shippers' labels are not ours to reject: Promtail's
 * Kubernetes configs set `job="namespace/app"`, and a 400 loses the shipper's whole batch (Promtail and Alloy
 * drop batches answered 4xx other than 429).
 * So separators and control characters become `_` and the name is cut to the maximum length.
 */
export function sourceNameFromLabel(value: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/[\x00-\x1f\x7f/\\]/g, '_').slice(0, MAX_SOURCE_NAME_LENGTH);
  return cleaned === '.' || cleaned === '..' ? '_' : cleaned;
}

/** The first non-empty label among `sourceLabels`, or undefined. */
export function sourceFromLabels(labels: Record<string, string>, sourceLabels: readonly string[]): string | undefined {
  for (const key of sourceLabels) {
    const value = labels[key];
    if (value !== undefined && value !== '') {
      return value;
    }
  }
  return undefined;
}

/** Zod schema for a configured source name, for every source type's config schema. */
export const sourceNameSchema = z.string().superRefine((name, ctx) => {
  const problem = sourceNameProblem(name);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
  }
});
