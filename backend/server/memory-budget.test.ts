import { RecentLines } from '../pipeline/recent-lines';
import { AnomalyWindow } from '../store/anomaly-window';
import { defaultMemoryChars, detached, HEAP_SHARE, MemoryBudget, memoryChars, waterLevel, type RetainedKind } from './memory-budget';

function counting(): { budget: (max: number) => MemoryBudget; refused: number[]; evicted: [RetainedKind, number][] } {
  const refused: number[] = [];
  const evicted: [RetainedKind, number][] = [];
  return {
    refused,
    evicted,
    budget: (max) => new MemoryBudget(max, { refused: (n) => refused.push(n), evicted: (kind, n) => evicted.push([kind, n]) }),
  };
}

describe('MemoryBudget', () => {
  it('defaults to a quarter of the heap limit, unless memory.maxChars is set', () => {
    expect(HEAP_SHARE).toBe(0.25);
    expect(defaultMemoryChars(4_000_000_000)).toBe(1_000_000_000);
    expect(memoryChars({})).toBe(defaultMemoryChars());
    expect(memoryChars({ maxChars: 5_000_000 })).toBe(5_000_000);
  });

  it('splits its bound in two halves, waiting and retained', () => {
    const budget = new MemoryBudget(1001);
    expect(budget.waitingMax + budget.retainedMax).toBe(1001);
    expect(budget.waitingMax).toBe(500);
  });

  it('refuses waiting lines beyond its waiting half, but never a batch when nothing waits', () => {
    const budget = new MemoryBudget(2000);
    expect(budget.refuses(5000)).toBe(false); // alone over the bound: taken, else it would wait forever
    budget.addWaiting(1000, 0);
    expect(budget.refuses(0)).toBe(false);
    expect(budget.refuses(1)).toBe(true);
    budget.addWaiting(-1000, 0);
    budget.addWaiting(300, 500);
    expect(budget.waitingFull).toBe(false);
    expect(budget.refuses(200)).toBe(false);
    expect(budget.refuses(201)).toBe(true);
    // training windows count too: the pipeline trains a window on what it holds while the half is full
    budget.addWaiting(0, 200);
    expect(budget.waitingFull).toBe(true);
    expect(budget.waitingBelowHalf).toBe(false);
    budget.addWaiting(-300, -400);
    expect(budget.waitingBelowHalf).toBe(true);
    expect(budget.reading()).toEqual({ waitingMax: 1000, retainedMax: 1000, queued: 0, window: 300, retained: 0 });
  });

  it('shrinks the largest retained windows first, oldest lines first, to 90% of the retained half', () => {
    const { budget: make, evicted } = counting();
    const budget = make(2000); // retained half: 1000
    const small = new RecentLines(100, Infinity, budget);
    const large = new RecentLines(100, Infinity, budget);
    for (let i = 0; i < 10; i++) small.push(`s${i}`.padEnd(10, '.'));
    for (let i = 0; i < 8; i++) large.push(`l${i}`.padEnd(100, '.'));
    expect(budget.reading().retained).toBe(900);
    expect(evicted).toEqual([]);
    large.push('l8'.padEnd(150, '.')); // 1050 > 1000: the large window (950) is cut to 900 - 100 = 800
    expect(small.size).toBe(10);
    expect(large.totalChars).toBe(750);
    expect(large.lines()[large.size - 1]).toBe('l8'.padEnd(150, '.'));
    expect(large.lines()[0]).toBe('l2'.padEnd(100, '.'));
    expect(budget.reading().retained).toBe(small.totalChars + large.totalChars);
    expect(evicted).toEqual([['retrain', 2]]);
  });

  it('keeps the newest line of every window, and counts a cleared window as freed', () => {
    const budget = new MemoryBudget(200); // retained half: 100
    const a = new RecentLines(10, Infinity, budget);
    const b = new RecentLines(10, Infinity, budget);
    a.push('a'.repeat(80));
    b.push('b'.repeat(80));
    expect(a.size + b.size).toBe(2);
    expect(budget.reading().retained).toBe(160);
    a.clear();
    expect(budget.reading().retained).toBe(80);
  });

  it('tells an anomaly window its changes (the results store forwards them to the budget)', () => {
    const budget = new MemoryBudget(200);
    const window = new AnomalyWindow<{ line: string }>((d) => budget.addRetained(d));
    window.push({ line: 'x'.repeat(30) });
    window.push({ line: 'y'.repeat(20) });
    expect(budget.reading().retained).toBe(50);
    window.dropOldest(1, () => undefined);
    expect(budget.reading().retained).toBe(20);
  });

  it('a removed window no longer counts nor shrinks', () => {
    const budget = new MemoryBudget(200);
    let held = 70;
    const remove = budget.register({ kind: 'recent', get heldChars() { return held; }, shrinkTo: (c) => ((held = Math.min(held, c)), 1) });
    expect(budget.reading().retained).toBe(70);
    remove();
    expect(budget.reading().retained).toBe(0);
    budget.addRetained(150);
    expect(held).toBe(70);
  });
});

describe('waterLevel', () => {
  it('is the largest cap that brings the sum within the target, taken from the largest only', () => {
    expect(waterLevel([10, 20, 30], 60)).toBe(Infinity);
    expect(waterLevel([10, 20, 30], 50)).toBe(20);
    expect(waterLevel([10, 20, 30], 45)).toBe(17); // 10 + 17 + 17 = 44
    expect(waterLevel([10, 20, 30], 9)).toBe(3);
    expect(waterLevel([], 0)).toBe(Infinity);
  });
});

describe('detached', () => {
  it('is the same text', () => {
    const body = 'first line\nsecond line';
    expect(detached(body.slice(11))).toBe('second line');
    expect(detached('')).toBe('');
  });
});
