// The incident view: repeated anomalous lines of one template close together are one alert.

import { alertCounts } from './evaluation';
import { IncidentTracker } from './incidents';

describe('IncidentTracker', () => {
  it('a burst of one template is one incident; each repeat points at the line that opened it', () => {
    const t = new IncidentTracker(100);
    expect(t.observe('disk failed on <PATH>', 5)).toBe(5);
    expect(t.observe('disk failed on <PATH>', 6)).toBe(5);
    expect(t.observe('fan <NUM> stopped', 7)).toBe(7);
    expect(t.observe('disk failed on <PATH>', 90)).toBe(5);
    expect(t.opened).toBe(2);
  });

  it('the gap is measured from the latest repeat, and a recurrence after a longer quiet spell is a new incident', () => {
    const t = new IncidentTracker(10);
    expect(t.observe('a', 1)).toBe(1);
    expect(t.observe('a', 11)).toBe(1); // 10 lines after the last: still open
    expect(t.observe('a', 21)).toBe(1);
    expect(t.observe('a', 32)).toBe(32); // 11 quiet lines: closed, a new incident
    expect(t.opened).toBe(2);
  });

  it('gap 0 turns the view off: every anomalous line is its own incident', () => {
    const t = new IncidentTracker(0);
    expect([1, 2, 3].map((n) => t.observe('same', n))).toEqual([1, 2, 3]);
    expect(t.opened).toBe(3);
  });

  it('forgetting closed incidents keeps open ones over a long stream', () => {
    const t = new IncidentTracker(5);
    const firsts: number[] = [];
    // one template repeating every 3 lines for 10,000 lines (many sweeps), and one-off templates in between
    for (let n = 1; n <= 10_000; n++) firsts.push(t.observe(n % 3 === 0 ? 'steady' : `once ${n}`, n));
    expect(firsts.filter((f, i) => (i + 1) % 3 === 0 && f !== 3)).toEqual([]);
    expect(t.opened).toBe(1 + 10_000 - Math.floor(10_000 / 3));
  });
});

describe('alertCounts', () => {
  it('counts incidents among lines above the threshold, and those opened by a labelled anomaly', () => {
    const scores = [1, 9, 9, 9, 2, 9, 9];
    const templates = ['x', 'a', 'a', 'b', 'x', 'a', 'c'];
    const labels = [false, true, true, false, false, true, false];
    expect(alertCounts(scores, labels, templates, 5)).toEqual({ alerts: 3, trueAlerts: 1 });
    expect(alertCounts(scores, labels, templates, 5, 0)).toEqual({ alerts: 5, trueAlerts: 3 });
    expect(alertCounts(scores, labels, templates, 10)).toEqual({ alerts: 0, trueAlerts: 0 });
  });
});
