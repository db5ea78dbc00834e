import { isContinuation, MultilineJoiner } from '../multiline';

it.each([
  ['\tat com.example.A.b(A.java:1)', true],
  ['    at handler (/app/x.js:1:1)', true],
  ['at Object.<anonymous> (x.js:1:1)', true],
  ['Caused by: java.io.IOException', true],
  ['... 12 more', true],
  ['\t... 3 common frames omitted', true],
  ['Traceback (most recent call last):', true],
  ['  File "x.py", line 3, in <module>', true],
  ['2024-01-01 INFO attached to the line above? no', false],
  ['ERROR something', false],
  ['attach volume failed', false],
  ['   ', false],
  ['', false],
])('isContinuation(%j) = %s', (line, expected) => {
  expect(isContinuation(line)).toBe(expected);
});

it('starts an entry with a continuation line when nothing is pending', () => {
  const joiner = new MultilineJoiner({ maxLines: 10, maxChars: 1000 });
  expect(joiner.add('  indented first', 1, 17)).toBeNull();
  expect(joiner.flush()).toEqual({ text: '  indented first', firstSeenMs: 1, endOffset: 17 });
  expect(joiner.flush()).toBeNull();
});

it('reports the end offset of the last line of each entry', () => {
  const joiner = new MultilineJoiner({ maxLines: 10, maxChars: 1000 });
  expect(joiner.add('head', 5, 5)).toBeNull();
  expect(joiner.add('  frame', 6, 13)).toBeNull();
  expect(joiner.add('next', 7, 18)).toEqual({ text: 'head\n  frame', firstSeenMs: 5, endOffset: 13 });
  expect(joiner.flush()).toEqual({ text: 'next', firstSeenMs: 7, endOffset: 18 });
});

it('cuts an entry at maxLines and at maxChars', () => {
  const joiner = new MultilineJoiner({ maxLines: 3, maxChars: 1000 });
  const out: string[] = [];
  for (const l of ['head', ' a', ' b', ' c', ' d']) {
    const done = joiner.add(l, 0);
    if (done) {
      out.push(done.text);
    }
  }
  out.push(joiner.flush()!.text);
  expect(out).toEqual(['head\n a\n b', ' c\n d']);

  const small = new MultilineJoiner({ maxLines: 100, maxChars: 10 });
  expect(small.add('12345', 0)).toBeNull();
  expect(small.add(' 678', 0)).toBeNull(); // 5 + 1 + 4 = 10
  expect(small.add(' 9', 0)?.text).toBe('12345\n 678');
});

it('with a first-line pattern, joins every line that does not start a new entry', () => {
  const joiner = new MultilineJoiner({ maxLines: 100, maxChars: 10_000, firstLine: /^\d{4}-\d{2}-\d{2} / });
  const out: string[] = [];
  const lines = [
    '2024-01-01 ERROR boom',
    'Traceback (most recent call last):',
    '  File "x.py", line 1',
    'ValueError: unindented last line of a Python trace',
    '2024-01-01 INFO next',
  ];
  for (const line of lines) {
    const done = joiner.add(line, 0);
    if (done) {
      out.push(done.text);
    }
  }
  out.push(joiner.flush()!.text);
  expect(out).toEqual([lines.slice(0, 4).join('\n'), '2024-01-01 INFO next']);
});
