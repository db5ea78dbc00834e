import { AnomalyWindow } from './anomaly-window';

const item = (n: number, chars = 3) => ({ n, line: 'x'.repeat(chars) });
const held = (w: AnomalyWindow<{ n: number; line: string }>) => Array.from({ length: w.length }, (_, i) => w.at(i).n);

test('keeps items oldest first with the characters of their lines; drops the oldest, telling each', () => {
  const w = new AnomalyWindow<{ n: number; line: string }>();
  for (let i = 0; i < 5; i++) w.push(item(i, i + 1));
  expect(held(w)).toEqual([0, 1, 2, 3, 4]);
  expect(w.chars).toBe(15);
  const dropped: number[] = [];
  w.dropOldest(2, (d) => dropped.push(d.n));
  expect(dropped).toEqual([0, 1]);
  expect(held(w)).toEqual([2, 3, 4]);
  expect(w.chars).toBe(12);
  w.dropOldest(10, (d) => dropped.push(d.n)); // more than held: all of them
  expect(dropped).toEqual([0, 1, 2, 3, 4]);
  expect(w.length).toBe(0);
  expect(w.chars).toBe(0);
  w.push(item(9));
  expect(held(w)).toEqual([9]);
});

test('stays right across compactions of its dropped prefix', () => {
  const w = new AnomalyWindow<{ n: number; line: string }>();
  let next = 0;
  let oldest = 0;
  for (let round = 0; round < 5000; round++) {
    for (let k = 0; k < 3; k++) w.push(item(next++, 1 + (next % 4)));
    w.dropOldest(2 + (round % 2), () => oldest++);
    expect(w.length).toBe(next - oldest);
    expect(w.at(0).n).toBe(oldest);
    expect(w.at(w.length - 1).n).toBe(next - 1);
  }
  let chars = 0;
  for (let i = 0; i < w.length; i++) chars += w.at(i).line.length;
  expect(w.chars).toBe(chars);
});
