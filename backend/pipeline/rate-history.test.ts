import { RateHistory, rateHistoryFileSchema } from './rate-history';

const W = 60_000;

test('series: every interval from the first to the last line, 0 where none came, most surprising first', () => {
  const h = new RateHistory();
  h.count(1, 'steady', 0, 1);
  h.count(1, 'steady', W, 1);
  for (let i = 0; i < 30; i++) h.count(2, 'burst <*>', 2 * W, 0.5);
  h.count(2, 'burst <*>', 0, 0.5);
  const [first, second] = h.series(0, 10 * W, W, 10);
  expect(first).toMatchObject({ template: 'burst <*>', times: [0, W, 2 * W], observed: [1, 0, 30], expected: [0.5, 0.5, 0.5] });
  expect(second.template).toBe('steady');
  expect(h.series(0, 10 * W, W, 1)).toHaveLength(1);
  expect(h.series(5 * W, 10 * W, W, 10)).toEqual([]);
});

test('bounded: the least recently seen template, the oldest interval and the oldest event are forgotten', () => {
  const h = new RateHistory({ maxTemplates: 2, maxIntervals: 3, maxEvents: 2 });
  for (let b = 0; b < 5; b++) h.count(1, 'a', b * W, 1);
  h.count(2, 'b', 0, 1);
  h.count(1, 'a', 5 * W, 1);
  h.count(3, 'c', 0, 1); // evicts b, seen least recently
  expect(h.series(0, 10 * W, W, 10).map((s) => s.template).sort()).toEqual(['a', 'c']);
  expect(h.series(0, 10 * W, W, 10).find((s) => s.template === 'a')!.times).toEqual([3 * W, 4 * W, 5 * W]);
  for (let i = 0; i < 3; i++) h.event({ time: i * W, template: 'a', kind: 'drop', observed: 0, expected: 1, interval: '1 min' }, 1);
  expect(h.eventsIn(0, 10 * W).map((e) => e.time)).toEqual([W, 2 * W]);
});

test('a surge event counts the later lines of its interval', () => {
  const h = new RateHistory();
  for (let i = 0; i < 20; i++) h.count(7, 'x', W, 0.3);
  h.event({ time: W, template: 'x', kind: 'surge', observed: 20, expected: 0.3, interval: '1 min' }, 7);
  for (let i = 0; i < 5; i++) h.count(7, 'x', W, 0.3);
  h.count(7, 'x', 2 * W, 0.3); // the next interval: not this surge's
  expect(h.eventsIn(0, 3 * W)[0].observed).toBe(25);
});

test('saved and restored: series, events and a surge still following its interval; within the limits', () => {
  const h = new RateHistory();
  for (let b = 0; b < 4; b++) h.count(1, 'a', b * W, 1);
  for (let i = 0; i < 25; i++) h.count(2, 'b', 2 * W, 0.3);
  h.event({ time: 2 * W, template: 'b', kind: 'surge', observed: 25, expected: 0.3, interval: '1 min' }, 2);
  h.event({ time: 3 * W, template: 'a', kind: 'drop', observed: 0, expected: 1, interval: '1 min' }, 1);
  const file = rateHistoryFileSchema.parse(JSON.parse(JSON.stringify(h.toFile())));
  const back = new RateHistory();
  back.restore(file);
  expect(back.series(0, 10 * W, W, 10)).toEqual(h.series(0, 10 * W, W, 10));
  expect(back.eventsIn(0, 10 * W)).toEqual(h.eventsIn(0, 10 * W));
  back.count(2, 'b', 2 * W, 0.3); // a late line of the surge's interval after the restart
  expect(back.eventsIn(0, 10 * W).find((e) => e.kind === 'surge')!.observed).toBe(26);
  // a smaller bound keeps the newest of each
  const small = new RateHistory({ maxTemplates: 1, maxIntervals: 2, maxEvents: 1 });
  small.restore(file);
  expect(small.series(0, 10 * W, W, 10).map((s) => s.template)).toEqual(['b']);
  expect(small.eventsIn(0, 10 * W).map((e) => e.kind)).toEqual(['drop']);
  const a = new RateHistory({ maxTemplates: 2, maxIntervals: 2, maxEvents: 1 });
  a.restore(file);
  expect(a.series(0, 10 * W, W, 10).find((s) => s.template === 'a')!.times).toEqual([2 * W, 3 * W]);
});
