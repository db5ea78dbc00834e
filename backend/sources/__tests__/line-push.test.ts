/** POST /api/push?source=NAME (text/plain and NDJSON) over real HTTP on loopback. */
import { gzipSync } from 'node:zlib';
import { createLinePushRouter } from '../line-push';
import { RecordingSink, serveRouters, type TestServer } from './recording-sink';

let sink: RecordingSink;
let server: TestServer;

beforeEach(async () => {
  sink = new RecordingSink();
  server = await serveRouters(createLinePushRouter(sink, { maxBodyBytes: 32 * 1024, maxLineBytes: 1000 }));
});
afterEach(async () => {
  await server.close();
});

function push(
  body: string | Buffer,
  contentType: string,
  query = '?source=web',
  extra: Record<string, string> = {}
): Promise<Response> {
  return fetch(`${server.url}/api/push${query}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, ...extra },
    body,
  });
}

describe('text/plain', () => {
  it('takes one entry per line (\\n or \\r\\n), skips blank lines, stamps the source', async () => {
    const before = Date.now();
    const res = await push('first line\r\nsecond line\n\n   \nthird ünïcode\n', 'text/plain; charset=utf-8');
    expect(res.status).toBe(204);
    expect(sink.lines()).toEqual(['first line', 'second line', 'third ünïcode']);
    expect(new Set(sink.entries.map((e) => e.source))).toEqual(new Set(['web']));
    for (const e of sink.entries) {
      expect(e.timestampMs).toBeGreaterThanOrEqual(before);
      expect(e.timestampMs).toBeLessThanOrEqual(Date.now());
      expect(e.labels).toEqual({});
    }
  });

  it('accepts a gzip body', async () => {
    const res = await push(gzipSync('a\nb\nc'), 'text/plain', '?source=gz', { 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(204);
    expect(sink.lines()).toEqual(['a', 'b', 'c']);
  });
});

it('answers 204 to a body of blank lines without calling the sink', async () => {
  expect((await push('\n  \n\r\n', 'text/plain')).status).toBe(204);
  expect((await push('', 'application/x-ndjson')).status).toBe(204);
  expect(sink.pushCalls).toBe(0);
});

describe('application/x-ndjson', () => {
  it('takes line, time (epoch ms or ISO 8601) and labels', async () => {
    const body = [
      JSON.stringify({ line: 'one', time: 1700000000123, labels: { host: 'a' } }),
      JSON.stringify({ line: 'two', time: '2023-11-14T22:13:20.500Z' }),
      '',
      JSON.stringify({ line: 'three' }),
    ].join('\n');
    const res = await push(body, 'application/x-ndjson', '?source=api');
    expect(res.status).toBe(204);
    expect(sink.entries.slice(0, 2)).toEqual([
      { source: 'api', timestampMs: 1700000000123, line: 'one', labels: { host: 'a' } },
      { source: 'api', timestampMs: Date.parse('2023-11-14T22:13:20.500Z'), line: 'two', labels: {} },
    ]);
    expect(sink.entries[2].line).toBe('three');
    expect(Math.abs(sink.entries[2].timestampMs - Date.now())).toBeLessThan(60_000);
  });
});

describe('bad input answers 4xx JSON naming the line and field, and accepts nothing', () => {
  const good = JSON.stringify({ line: 'ok' });
  const cases: Array<[string, () => Promise<Response>, number, string | undefined, RegExp]> = [
    ['missing source', () => push('x', 'text/plain', ''), 400, 'source', /source/],
    ['source repeated', () => push('x', 'text/plain', '?source=a&source=b'), 400, 'source', /source/],
    ['source with a slash', () => push('x', 'text/plain', '?source=a%2Fb'), 400, 'source', /source/],
    [
      'malformed NDJSON on line 3',
      () => push([good, good, '{"line": "x"', good].join('\n'), 'application/x-ndjson'),
      400,
      'line 3',
      /line 3/,
    ],
    [
      'line of the wrong type on line 2',
      () => push([good, JSON.stringify({ line: 5 })].join('\n'), 'application/x-ndjson'),
      400,
      'line 2.line',
      /line 2/,
    ],
    [
      'missing line field',
      () => push(JSON.stringify({ message: 'x' }), 'application/x-ndjson'),
      400,
      'line 1.line',
      /line 1/,
    ],
    [
      'bad time',
      () => push([good, JSON.stringify({ line: 'x', time: 'yesterday-ish' })].join('\n'), 'application/x-ndjson'),
      400,
      'line 2.time',
      /time/,
    ],
    // Accepted before (204) and never found by a query: beyond a Date, or Date.parse's guess ("-1" was 2001-01-01).
    ...[9e15, 1e308, '9000000000000000', '-1', '+1', '  5 '].map(
      (time): (typeof cases)[number] => [
        `time ${JSON.stringify(time)}`,
        () => push([good, JSON.stringify({ line: 'x', time })].join('\n'), 'application/x-ndjson'),
        400,
        'line 2.time',
        /275760/,
      ]
    ),
    // Labels were unbounded but by the body: kept with every line in memory, 60 KB each grew the service 1 GB.
    [
      'labels longer than a line may be',
      () => push([good, JSON.stringify({ line: 'x', labels: { a: 'v'.repeat(600), b: 'w'.repeat(400) } })].join('\n'), 'application/x-ndjson'),
      400,
      'line 2.labels',
      /line limit of 1000 bytes/,
    ],
    [
      'more than 256 labels',
      () => push(JSON.stringify({ line: 'x', labels: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, '']) ) }), 'application/x-ndjson'),
      400,
      'line 1.labels',
      /257 labels/,
    ],
    [
      'label value not a string',
      () => push(JSON.stringify({ line: 'x', labels: { a: 1 } }), 'application/x-ndjson'),
      400,
      'line 1.labels.a',
      /labels/,
    ],
    ['NDJSON value that is not an object', () => push('[1,2]', 'application/x-ndjson'), 400, 'line 1', /line 1/],
    ['invalid UTF-8', () => push(Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a]), 'text/plain'), 400, 'body', /UTF-8/],
    ['line over the limit', () => push(`ok\n${'z'.repeat(1001)}\nok`, 'text/plain'), 400, 'line 2', /line 2/],
    [
      '1 MB line in NDJSON',
      () => push(JSON.stringify({ line: 'm'.repeat(1 << 20) }), 'application/x-ndjson'),
      413,
      undefined,
      /too large/,
    ],
    ['unsupported Content-Type', () => push('{}', 'application/json'), 415, undefined, /Content-Type/],
  ];

  it.each(cases)('%s', async (_name, send, status, field, message) => {
    const res = await send();
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string; field?: string };
    expect(body.error).toMatch(message);
    if (field !== undefined) {
      expect(body.field).toBe(field);
    }
    expect(sink.entries).toHaveLength(0);
    expect(sink.pushCalls).toBe(0);
    expect((await push('still serving', 'text/plain')).status).toBe(204);
    expect(sink.lines()).toEqual(['still serving']);
  });
});

it('answers 429 + Retry-After under backpressure and accepts nothing of the batch', async () => {
  sink.retryAfterSeconds = 2;
  sink.saturate();
  const res = await push('a\nb\nc', 'text/plain');
  expect(res.status).toBe(429);
  expect(res.headers.get('retry-after')).toBe('2');
  expect(sink.entries).toHaveLength(0);
  sink.drain();
  expect((await push('a\nb\nc', 'text/plain')).status).toBe(204);
  expect(sink.lines()).toEqual(['a', 'b', 'c']);
});
