/** The shape scan run on JSON bodies before JSON.parse: depth and values counted outside strings only. */
import { JSON_BODY_LIMITS, jsonShapeProblem } from './json-body';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

test('nesting up to the limit passes, one level more is refused naming the limit', () => {
  expect(jsonShapeProblem(bytes(`{"a":${nested(JSON_BODY_LIMITS.depth - 1)}}`))).toBeNull();
  expect(jsonShapeProblem(bytes(`{"a":${nested(JSON_BODY_LIMITS.depth)}}`))).toMatch(/nested deeper than 64 levels \(limit JSON_BODY_LIMITS.depth\)/);
  expect(jsonShapeProblem(bytes(nested(5_000_000)))).toMatch(/nested deeper/);
});

test('brackets, braces and commas inside strings (escaped quotes too) are not counted', () => {
  const text = JSON.stringify({ message: `${'[{,'.repeat(300_000)} \\" ${'['.repeat(100)}`, kind: 'confirmed' });
  expect(jsonShapeProblem(bytes(text))).toBeNull();
  expect(JSON.parse(text)).toHaveProperty('kind', 'confirmed');
});

test('values: a flat array of more than the limit is refused, one at the limit passes', () => {
  expect(jsonShapeProblem(bytes(`{"x":[${Array(JSON_BODY_LIMITS.values - 1).fill(0).join(',')}]}`))).toBeNull();
  expect(jsonShapeProblem(bytes(`{"x":[${Array(JSON_BODY_LIMITS.values + 1).fill(0).join(',')}]}`))).toMatch(/more than 200000 JSON values/);
  // an object of many members counts its commas the same way
  expect(jsonShapeProblem(bytes(`{${Array.from({ length: 300_000 }, (_, i) => `"k${i}":1`).join(',')}}`))).toMatch(/JSON values/);
});
