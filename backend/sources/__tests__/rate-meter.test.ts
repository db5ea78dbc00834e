import { RateMeter } from '../rate-meter';

it('averages events per second over the sliding window and forgets old seconds', () => {
  let now = 1_000_000; // a whole second
  const meter = new RateMeter(10, () => now);
  expect(meter.perSecond()).toBe(0);
  for (let s = 0; s < 10; s++) {
    meter.add(50);
    meter.add(50);
    now += 1000;
  }
  now -= 1; // just before the 11th second begins: the 10 seconds of the window are 9.999 s old at most
  expect(meter.perSecond()).toBeCloseTo(1000 / 9.999, 3);
  now += 1 + 5000; // second 1015
  expect(meter.perSecond()).toBeCloseTo(400 / 9, 3); // seconds 1006..1009 still inside the window 1006..1015
  now += 10_000; // all of it out of the window
  expect(meter.perSecond()).toBe(0);
});
