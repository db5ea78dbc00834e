// The incident view: repeated anomalous lines of one template, close together in the scored stream, are one
// incident, so a burst (a service logging the same new failure 30 times after a reboot) raises one alert
// instead of 30. The original LAD's users asked for this: they drowned in copies of the same alert.
//
// This is a layer ABOVE the per-line verdict. Each line keeps its score and `anomaly` (score > threshold):
// line-level evaluation (BGL's per-line labels) is unchanged. The tracker only says which anomalous line
// opens an incident (a new alert) and which repeats an open one. An incident of a template stays open while
// its anomalous lines keep coming at most `gapLines` scored lines apart; after a longer quiet spell, the next
// occurrence is a new incident (a recurrence is news again).

/** Default quiet spell, in scored lines, after which a template's incident closes. */
export const DEFAULT_INCIDENT_GAP_LINES = 10_000;

interface OpenIncident {
  /** Position (1-based line number) of the line that opened the incident. */
  first: number;
  /** Position of its latest anomalous line. */
  last: number;
  /** Anomalous lines in the incident, the first included. */
  count: number;
}

export class IncidentTracker {
  private readonly open = new Map<string, OpenIncident>();
  private incidents = 0;
  private nextSweep: number;

  /** `gapLines` ≤ 0 turns the view off: every anomalous line is its own incident. */
  constructor(readonly gapLines = DEFAULT_INCIDENT_GAP_LINES) {
    this.nextSweep = Math.max(gapLines, 1) * 2;
  }

  /** Incidents opened so far (= alerts raised). */
  get opened(): number {
    return this.incidents;
  }

  /**
   * Records an anomalous line of `template` at position `lineNo` (increasing) and returns the position of the
   * line that opened its incident: `lineNo` itself for a new incident, an earlier line for a repeat.
   */
  observe(template: string, lineNo: number): number {
    if (this.gapLines <= 0) {
      this.incidents++;
      return lineNo;
    }
    if (lineNo >= this.nextSweep) this.sweep(lineNo);
    const inc = this.open.get(template);
    if (inc !== undefined && lineNo - inc.last <= this.gapLines) {
      inc.last = lineNo;
      inc.count++;
      return inc.first;
    }
    this.open.set(template, { first: lineNo, last: lineNo, count: 1 });
    this.incidents++;
    return lineNo;
  }

  /** Forgets closed incidents, so memory follows the open ones, not every template ever flagged. */
  private sweep(lineNo: number): void {
    for (const [template, inc] of this.open) if (lineNo - inc.last > this.gapLines) this.open.delete(template);
    this.nextSweep = lineNo + Math.max(this.gapLines, 1) * 2;
  }
}
