/** Choosing and checking the source name a pushed line belongs to. */
import { z } from 'zod';

export const DEFAULT_SOURCE_LABELS: readonly string[] = ['source', 'job', 'service_name', 'app'];
export const MAX_SOURCE_NAME_LENGTH = 128;

/**
 * An unpaired UTF-16 surrogate (the u flag makes a paired one a single code point outside this range). JSON can
 * carry one (`"\ud800"`), and cutting a name to its maximum length can split a pair; encodeURIComponent, which
 * names the source's model directory, throws on it, so such a name was a 500 on every push.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

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
  if (LONE_SURROGATE.test(name)) {
    return 'source name is not well-formed Unicode (an unpaired surrogate)';
  }
  return null;
}

/**
 * Makes a usable source name from a label value. Shippers' labels are not ours to reject: Promtail's
 * Kubernetes configs set `job="namespace/app"`, and a 400 loses the shipper's whole batch (Promtail and Alloy
 * drop batches answered 4xx other than 429).
 * So separators, control characters and unpaired surrogates become `_` and the name is cut to the maximum length
 * (before the surrogate check: the cut can split a pair).
 */
export function sourceNameFromLabel(value: string): string {
  const cleaned = value
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f/\\]/g, '_')
    .slice(0, MAX_SOURCE_NAME_LENGTH)
    .replace(new RegExp(LONE_SURROGATE.source, 'gu'), '_');
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
