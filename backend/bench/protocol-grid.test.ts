// Session 5's selection rule (chooseLeximin), as docs/engine.md states it: feasibility with the fallback bound,
// the worst-host guard, leximin over the arm values with a 0.01 tie, then fewest changes.
import { chooseLeximin, type Outcome } from './protocol-grid';

function outcome(name: string, arms: number[], over: Partial<Outcome> = {}): Outcome {
  return {
    input: { name } as never,
    worstHost: 0.4,
    changed: 1,
    worstHealthy: 0.046,
    normal: 0.005,
    arms,
    worst: Math.min(...arms),
    mean: arms.reduce((a, b) => a + b, 0) / arms.length,
    result: null as never,
    ...over,
  };
}

const nameOf = (o: Outcome): string => (o.input as unknown as { name: string }).name;
const today = outcome('today', [0, 0.1, 0.8], { changed: 0, worstHost: 0.35 });

test('compares the sorted arm values one by one, a difference within 0.01 being a tie', () => {
  const better = outcome('better', [0.2, 0.8, 0]);
  const tie = outcome('tie', [0, 0.105, 0.8], { changed: 0 });
  expect(nameOf(chooseLeximin([tie, better], today))).toBe('better');
  // a tie on every value: fewest fields changed, then the higher mean
  expect(nameOf(chooseLeximin([outcome('same', [0, 0.1, 0.8], { changed: 2 }), tie], today))).toBe('tie');
});

test('leaves out a candidate over the healthy bound, or whose worst host falls more than 0.05', () => {
  const flagsMore = outcome('flags more', [0.6, 0.6, 0.6], { worstHealthy: 0.058 });
  const hostFalls = outcome('host falls', [0.5, 0.5, 0.5], { worstHost: 0.29 });
  const fine = outcome('fine', [0, 0.2, 0.8]);
  expect(nameOf(chooseLeximin([flagsMore, hostFalls, fine], today))).toBe('fine');
  // within the 3% bound it is feasible whatever today's worst log was
  expect(nameOf(chooseLeximin([outcome('quiet', [0.6, 0.6, 0.6], { worstHealthy: 0.03 }), fine], today))).toBe('quiet');
  // nothing feasible: today's defaults stay
  expect(chooseLeximin([flagsMore, hostFalls], today)).toBe(today);
});
