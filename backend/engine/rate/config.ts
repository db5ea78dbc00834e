// Bounds and knobs of the rate model (rate anomalies per template: surges and drops). One default for every
// log; each default's rule is written beside it and was fixed before the evaluation (docs/engine.md,
// "Rate anomalies") was run.

import { z } from 'zod';

export const rateConfigSchema = z
  .object({
    /** Rate anomalies on (surge flags, drop reports). */
    enabled: z.boolean().default(true),
    /**
     * Width of a counting interval for lines that carry a time. Rule: one minute, the finest bucket the anchors
     * chart pattern volumes in (Loki, Datadog), and a heartbeat of once a minute still lands in each interval.
     */
    intervalSeconds: z.number().min(1).max(86_400).default(60),
    /**
     * Width of an interval, in lines, for a log whose training lines carry no time (the CLI falls back to line
     * order). Rule: the 2k-line samples give 1,000 training lines; 10 intervals is the least history a drop
     * needs (minTrainingIntervals), so 100.
     */
    intervalLines: z.number().int().min(1).default(100),
    /**
     * A count is a surge when a Poisson variable with the template's expected count reaches it with at most
     * this probability. Rule: ~1,000 templates × 1,440 intervals a day is ~1.4 M tests a day per source, so
     * chance alone gives about one surge a day.
     */
    surgeProbability: z.number().gt(0).max(0.5).default(1e-6),
    /**
     * ... and it is at least this many lines in one interval. Rule: fewer lines than this are read by a person
     * one by one; a surge is what is too many to read.
     */
    minSurgeCount: z.number().int().min(1).default(20),
    /**
     * ... and above this multiple of the template's largest count in one training interval (bursty normal
     * traffic: a template seen 20 times in one second in training is normal at 20). Rule: half as much again
     * as the busiest interval seen, for a training window shorter than a full cycle.
     */
    peakFactor: z.number().min(1).default(1.5),
    /**
     * A template first seen while scoring has its rate judged after this many intervals of history; before,
     * its lines are new templates, which the rarity detectors judge. Rule: the same history a drop needs.
     */
    warmupIntervals: z.number().int().min(0).default(10),
    /**
     * Online, the expected count moves towards each closed interval's count (capped at the surge level) with
     * weight 1/updateIntervals. Rule: a day of one-minute intervals, so a daily cycle is not forgotten.
     */
    updateIntervals: z.number().int().min(1).default(1440),
    /** Drops are watched only for templates present in at least this many training intervals. Rule: see intervalLines. */
    minTrainingIntervals: z.number().int().min(2).default(10),
    /** ... and in at least this share of them (a regular line, not an occasional one). Rule: 9 out of 10. */
    regularShare: z.number().min(0).max(1).default(0.9),
    /**
     * A watched template is reported as dropped after k empty intervals in a row, where k is the least with
     * (share of training intervals without it, Laplace-smoothed)^k ≤ this. Rule: one false drop per thousand
     * stretches of a regular template.
     */
    dropProbability: z.number().gt(0).max(0.5).default(1e-3),
    /** ... and k is at least this. Rule: one empty interval is a heartbeat that slipped across a boundary. */
    minDropIntervals: z.number().int().min(1).default(2),
    /**
     * Templates tracked per source; beyond it the least recently seen is forgotten. Rule: above the templates
     * of any Loghub system (a few thousand); ~60 bytes each.
     */
    maxTemplates: z.number().int().min(1).max(10_000_000).default(20_000),
  })
  .strict();

export type RateConfig = z.output<typeof rateConfigSchema>;
export const DEFAULT_RATE_CONFIG: RateConfig = Object.freeze(rateConfigSchema.parse({}));
