// What the rate model saw, kept for queries (POST /api/query `template_rates` and `rate_events`): per template,
// the observed count and the expectation of each interval it had lines in; and the surge and drop events.
// Bounded: templates beyond maxTemplates and intervals beyond maxIntervals per template forget their oldest;
// events beyond maxEvents drop the oldest. Saved as rate-history.json beside the rate baseline (rate-watch.ts)
// and read back at start, within the same bounds.

import { z } from 'zod';

export type RateEventKind = 'surge' | 'drop';

const eventSchema = z.object({
  time: z.number(),
  template: z.string(),
  kind: z.enum(['surge', 'drop']),
  observed: z.number(),
  expected: z.number(),
  interval: z.string(),
});

/** The saved form: per template [id, text, [interval start, observed, expected]…], events with their template id. */
export const rateHistoryFileSchema = z.object({
  version: z.literal(1),
  tracks: z.array(z.tuple([z.number(), z.string(), z.array(z.tuple([z.number(), z.number(), z.number()]))])),
  events: z.array(z.object({ id: z.number(), event: eventSchema })),
});
export type RateHistoryFile = z.output<typeof rateHistoryFileSchema>;

export interface RateEvent {
  /** Start of the interval (epoch ms): of the surge, or the first empty interval of a drop. */
  time: number;
  template: string;
  kind: RateEventKind;
  observed: number;
  expected: number;
  /** The interval's width as people read it ("1 min"). */
  interval: string;
}

export interface TemplateSeries {
  template: string;
  /** Interval starts (epoch ms), ascending, every interval from the first to the last with a line. */
  times: number[];
  observed: number[];
  expected: number[];
  /** Largest (observed − expected) / √max(expected, 1) over the intervals: how far from its rate it went. */
  surprise: number;
}

export interface RateHistoryLimits {
  maxTemplates: number;
  maxIntervals: number;
  maxEvents: number;
}

/**
 * Rule: a day of one-minute intervals for the 500 most recently seen templates (≈ 24 bytes an interval, at most
 * ~17 MB a source when all are busy every minute), and 1,000 events (a surge a minute for 16 hours).
 */
export const RATE_HISTORY_LIMITS: RateHistoryLimits = { maxTemplates: 500, maxIntervals: 1440, maxEvents: 1000 };

interface Track {
  template: string;
  /** Interval start → [observed, expected], in the order intervals were first seen (time order but for late lines). */
  counts: Map<number, [number, number]>;
}

/** Told of every count and event as it is recorded (cluster workers write them to PostgreSQL for query replicas). */
export interface RateHistoryObserver {
  counted(id: number, template: string, start: number, expected: number): void;
  evented(e: RateEvent, id: number): void;
}

export class RateHistory {
  /** Set by a cluster scoring worker (source-scorer.ts); null in embedded mode. */
  observer: RateHistoryObserver | null = null;
  private readonly tracks = new Map<number, Track>();
  private readonly events: RateEvent[] = [];
  /** Template id of each event (parallel to `events`), so a saved surge still follows its interval's lines. */
  private readonly eventIds: number[] = [];
  /** Bumped on every change: whether there is anything new to save. */
  version = 0;
  /** The surge event of a template's current interval, raised as further lines of it arrive. */
  private readonly openSurge = new Map<number, RateEvent>();

  constructor(private readonly limits: RateHistoryLimits = RATE_HISTORY_LIMITS) {}

  /** One line of template `id` in the interval starting at `start`, where `expected` lines were expected. */
  count(id: number, template: string, start: number, expected: number): void {
    this.version++;
    let track = this.tracks.get(id);
    if (track === undefined) {
      if (this.tracks.size >= this.limits.maxTemplates) {
        const oldest = this.tracks.keys().next().value as number;
        this.tracks.delete(oldest);
        this.openSurge.delete(oldest);
      }
      track = { template, counts: new Map() };
      this.tracks.set(id, track);
    }
    track.template = template; // a widened template shows its newest text
    const c = track.counts.get(start);
    if (c === undefined) {
      // the map's order is least recently seen first: moved to the end once per interval, not per line
      this.tracks.delete(id);
      this.tracks.set(id, track);
      track.counts.set(start, [1, expected]);
      if (track.counts.size > this.limits.maxIntervals) track.counts.delete(track.counts.keys().next().value as number);
    } else c[0]++;
    const surge = this.openSurge.get(id);
    if (surge !== undefined && surge.time === start) surge.observed = Math.max(surge.observed, c?.[0] ?? 1);
    this.observer?.counted(id, template, start, expected);
  }

  /** A surge or drop event; a surge's observed count follows its interval's later lines (`count`). */
  event(e: RateEvent, id: number): void {
    this.version++;
    this.events.push(e);
    this.eventIds.push(id);
    if (this.events.length > this.limits.maxEvents) {
      this.events.shift();
      this.eventIds.shift();
    }
    if (e.kind === 'surge') this.openSurge.set(id, e);
    this.observer?.evented(e, id);
  }

  /** The template id of a template text seen here (a track or an event), undefined when none. */
  idOf(template: string): number | undefined {
    for (const [id, t] of this.tracks) if (t.template === template) return id;
    const i = this.events.findIndex((e) => e.template === template);
    return i < 0 ? undefined : this.eventIds[i];
  }

  /** The newest event of template `id` and `kind`. */
  lastEvent(id: number, kind: RateEventKind): RateEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.eventIds[i] === id && this.events[i].kind === kind) return this.events[i];
    return undefined;
  }

  /** What to save (the least recently seen template and the oldest interval and event first). */
  toFile(): RateHistoryFile {
    return {
      version: 1,
      tracks: [...this.tracks].map(([id, t]) => [id, t.template, [...t.counts].map(([start, [o, e]]): [number, number, number] => [start, o, e])]),
      events: this.events.map((event, i) => ({ id: this.eventIds[i], event: { ...event } })),
    };
  }

  /** Adds a saved history (read at start, before any line), keeping within the limits: the newest of each. */
  restore(file: RateHistoryFile): void {
    for (const [id, template, counts] of file.tracks.slice(-this.limits.maxTemplates)) {
      this.tracks.set(id, { template, counts: new Map(counts.slice(-this.limits.maxIntervals).map(([start, o, e]) => [start, [o, e]])) });
    }
    for (const { id, event } of file.events.slice(-this.limits.maxEvents)) this.event(event, id);
  }

  /** Events in [from, to], oldest first. */
  eventsIn(from: number, to: number): RateEvent[] {
    return this.events.filter((e) => e.time >= from && e.time <= to).map((e) => ({ ...e }));
  }

  /**
   * Each template's series over [from, to] (intervals of `width` ms; an interval without a line is observed 0
   * and expects what the template's last interval did), the `limit` most surprising first.
   */
  series(from: number, to: number, width: number, limit: number): TemplateSeries[] {
    const out: TemplateSeries[] = [];
    for (const track of this.tracks.values()) {
      const s = seriesOf(track, from, to, width);
      if (s !== null) out.push(s);
    }
    return out.sort((a, b) => b.surprise - a.surprise).slice(0, limit);
  }
}

function seriesOf(track: Track, from: number, to: number, width: number): TemplateSeries | null {
  // sorted: a line stamped earlier than the ones before it opens its interval late
  const starts = [...track.counts.keys()].filter((t) => t + width > from && t <= to).sort((a, b) => a - b);
  if (starts.length === 0) return null;
  const s: TemplateSeries = { template: track.template, times: [], observed: [], expected: [], surprise: -Infinity };
  let expected = track.counts.get(starts[0])![1];
  for (let t = starts[0]; t <= starts[starts.length - 1]; t += width) {
    const c = track.counts.get(t);
    if (c !== undefined) expected = c[1];
    const observed = c?.[0] ?? 0;
    s.times.push(t);
    s.observed.push(observed);
    s.expected.push(expected);
    s.surprise = Math.max(s.surprise, Math.abs(observed - expected) / Math.sqrt(Math.max(expected, 1)));
  }
  return s;
}
