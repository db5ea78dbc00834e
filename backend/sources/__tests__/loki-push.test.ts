/**
 * POST /loki/api/v1/push over real HTTP on loopback. No Loki or Promtail runs here, so requests are built
 * to Loki's documented wire format: JSON as in Loki's HTTP API docs, and snappy-block-compressed protobuf
 * from the logproto schema in grafana/loki pkg/push/push.proto (with its `string` fields, as shippers use it).
 */
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { compressSync } from 'snappy';
import { createLokiPushRouter } from '../loki-push';
import { sourceNameProblem } from '../source-name';
import { RecordingSink, serveRouters, type TestServer } from './recording-sink';

const LOKI_PUSH_PROTO = `
syntax = "proto3";
package logproto;
import "google/protobuf/timestamp.proto";
message PushRequest { repeated StreamAdapter streams = 1; string format = 2; }
message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
message LabelPairAdapter { string name = 1; string value = 2; }
message EntryAdapter {
  google.protobuf.Timestamp timestamp = 1;
  string line = 2;
  repeated LabelPairAdapter structuredMetadata = 3;
  repeated LabelPairAdapter parsed = 4;
}`;

function documentedPushRequestType(): protobuf.Type {
  const root = new protobuf.Root();
  root.addJSON(protobuf.common.get('google/protobuf/timestamp.proto')!.nested!);
  protobuf.parse(LOKI_PUSH_PROTO, root, { keepCase: true });
  return root.lookupType('logproto.PushRequest');
}
const PushRequest = documentedPushRequestType();

function snappyProtobuf(message: object): Buffer {
  const err = PushRequest.verify(message);
  if (err) {
    throw new Error(err);
  }
  return Buffer.from(compressSync(PushRequest.encode(PushRequest.create(message)).finish()));
}

let sink: RecordingSink;
let server: TestServer;

beforeEach(async () => {
  sink = new RecordingSink();
  server = await serveRouters(createLokiPushRouter(sink, { maxBodyBytes: 64 * 1024, maxLineBytes: 1024 }));
});
afterEach(async () => {
  await server.close();
});

function post(body: string | Buffer | Uint8Array, headers: Record<string, string>, query = ''): Promise<Response> {
  return fetch(`${server.url}/loki/api/v1/push${query}`, { method: 'POST', headers, body });
}
const json = (value: unknown) => post(JSON.stringify(value), { 'Content-Type': 'application/json' });

describe('Loki JSON push (documented JSON wire format)', () => {
  it('accepts streams and picks the source from source, then job, then service_name, else the default', async () => {
    const res = await json({
      streams: [
        { stream: { source: 'web', job: 'ignored', env: 'prod' }, values: [['1700000000123456789', 'GET /a 200']] },
        {
          stream: { job: 'billing' },
          values: [
            ['1700000001000000000', 'charged'],
            ['1700000002500000000', 'refunded'],
          ],
        },
        { stream: { service_name: 'checkout' }, values: [['1700000003000000000', 'paid']] },
        { stream: { host: 'h1' }, values: [['1700000004000000000', 'orphan']] },
      ],
    });
    expect(res.status).toBe(204);
    expect(sink.entries).toEqual([
      {
        source: 'web',
        timestampMs: 1700000000123,
        line: 'GET /a 200',
        labels: { source: 'web', job: 'ignored', env: 'prod' },
      },
      { source: 'billing', timestampMs: 1700000001000, line: 'charged', labels: { job: 'billing' } },
      { source: 'billing', timestampMs: 1700000002500, line: 'refunded', labels: { job: 'billing' } },
      { source: 'checkout', timestampMs: 1700000003000, line: 'paid', labels: { service_name: 'checkout' } },
      { source: 'loki', timestampMs: 1700000004000, line: 'orphan', labels: { host: 'h1' } },
    ]);
    expect(sink.batches).toHaveLength(1); // one request, one all-or-nothing batch
  });

  it('lets ?source= override the labels and merges structured metadata under the stream labels', async () => {
    const res = await post(
      JSON.stringify({
        streams: [
          {
            stream: { job: 'api', level: 'info' },
            values: [['1700000000000000000', 'x', { trace_id: 'abc', level: 'debug' }]],
          },
        ],
      }),
      { 'Content-Type': 'application/json; charset=utf-8' },
      '?source=override'
    );
    expect(res.status).toBe(204);
    expect(sink.entries[0].source).toBe('override');
    expect(sink.entries[0].labels).toEqual({ trace_id: 'abc', job: 'api', level: 'info' });
  });

  it('accepts gzip-compressed JSON (Content-Encoding: gzip)', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} äöü`);
    const body = gzipSync(
      JSON.stringify({
        streams: [{ stream: { job: 'gz' }, values: lines.map((l, i) => [`${1700000000000 + i}000000`, l]) }],
      })
    );
    const res = await post(body, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(204);
    expect(sink.lines()).toEqual(lines);
    expect(sink.entries[49].timestampMs).toBe(1700000000049);
  });
});

describe('Loki protobuf push (snappy logproto.PushRequest built from the documented schema)', () => {
  it('decodes labels with escapes, timestamps, lines and structured metadata', async () => {
    const body = snappyProtobuf({
      streams: [
        {
          labels: '{job="payments", source="pay\\"ments v2", path=`C:\\tmp`, esc="a\\\\b\\u00e9", note="tab\\there"}',
          entries: [
            { timestamp: { seconds: 1700000000, nanos: 987654321 }, line: 'payment ok ✓' },
            {
              timestamp: { seconds: 1700000001, nanos: 0 },
              line: 'payment failed',
              structuredMetadata: [{ name: 'trace', value: 't-1' }],
            },
          ],
        },
      ],
    });
    const res = await post(body, { 'Content-Type': 'application/x-protobuf' });
    expect(res.status).toBe(204);
    const labels = { job: 'payments', source: 'pay"ments v2', path: 'C:\\tmp', esc: 'a\\bé', note: 'tab\there' };
    expect(sink.entries).toEqual([
      { source: 'pay"ments v2', timestampMs: 1700000000987, line: 'payment ok ✓', labels },
      {
        source: 'pay"ments v2',
        timestampMs: 1700000001000,
        line: 'payment failed',
        labels: { trace: 't-1', ...labels },
      },
    ]);
  });

  it('accepts snappy protobuf inside Content-Encoding: gzip too', async () => {
    const body = gzipSync(
      snappyProtobuf({
        streams: [{ labels: '{job="gz-proto"}', entries: [{ timestamp: { seconds: 2 }, line: 'zipped twice' }] }],
      })
    );
    const res = await post(body, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(204);
    expect(sink.entries).toEqual([
      { source: 'gz-proto', timestampMs: 2000, line: 'zipped twice', labels: { job: 'gz-proto' } },
    ]);
  });

  it('treats a body without Content-Type as protobuf, as Loki does', async () => {
    const body = snappyProtobuf({
      streams: [{ labels: '{app="noct"}', entries: [{ timestamp: { seconds: 1 }, line: 'hello' }] }],
    });
    const res = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', body: new Blob([body]) });
    expect(res.status).toBe(204);
    expect(sink.entries).toEqual([{ source: 'noct', timestampMs: 1000, line: 'hello', labels: { app: 'noct' } }]);
  });
});

describe('edge cases', () => {
  it('turns label values that are not usable source names into usable ones instead of refusing them', async () => {
    const res = await json({
      streams: [
        { stream: { job: 'default/nginx' }, values: [['1000000', 'k8s style job']] },
        { stream: { source: '..' }, values: [['1000000', 'dots']] },
        { stream: { app: 'x'.repeat(300) }, values: [['1000000', 'long']] },
      ],
    });
    expect(res.status).toBe(204);
    expect(sink.entries.map((e) => e.source)).toEqual(['default_nginx', '_', 'x'.repeat(128)]);
    expect(sink.entries[0].labels).toEqual({ job: 'default/nginx' }); // the labels themselves are untouched
  });

  it('turns unpaired surrogates into _ (JSON escapes, or a pair split by the length cut): they made a 500 on every push', async () => {
    // The service names a source's model directory with encodeURIComponent, which throws URIError on these.
    const res = await json({
      streams: [
        { stream: { job: 'a\ud800b' }, values: [['1000000', 'escaped surrogate']] },
        { stream: { job: 'x' + '🔥'.repeat(100) }, values: [['1000000', 'pair cut at 128']] },
      ],
    });
    expect(res.status).toBe(204);
    const [escaped, cut] = sink.entries.map((e) => e.source);
    expect(escaped).toBe('a_b');
    expect(cut).toBe('x' + '🔥'.repeat(63) + '_');
    expect(() => sink.entries.map((e) => encodeURIComponent(e.source))).not.toThrow();
  });

  it('refuses ?source= with an unpaired surrogate (it cannot come from the URL, but configured names share the check)', () => {
    expect(sourceNameProblem('a\udc00')).toMatch(/unpaired surrogate/);
    expect(sourceNameProblem('🔥')).toBeNull();
  });

  it('answers 204 to an empty push without calling the sink', async () => {
    expect((await json({ streams: [] })).status).toBe(204);
    expect((await json({ streams: [{ stream: { job: 'x' }, values: [] }] })).status).toBe(204);
    expect((await post(snappyProtobuf({ streams: [] }), { 'Content-Type': 'application/x-protobuf' })).status).toBe(
      204
    );
    expect(sink.pushCalls).toBe(0);
  });

  it('stamps a protobuf entry without a timestamp with the receive time', async () => {
    const before = Date.now();
    const res = await post(snappyProtobuf({ streams: [{ labels: '{job="t"}', entries: [{ line: 'no time' }] }] }), {
      'Content-Type': 'application/x-protobuf',
    });
    expect(res.status).toBe(204);
    expect(sink.entries[0].timestampMs).toBeGreaterThanOrEqual(before);
    expect(sink.entries[0].timestampMs).toBeLessThanOrEqual(Date.now());
  });

  it('decodes timestamps beyond 2^32 seconds and nanosecond strings beyond 2^53', async () => {
    await post(
      snappyProtobuf({
        streams: [
          {
            labels: '{job="t"}',
            entries: [{ timestamp: { seconds: 5_000_000_000, nanos: 1_000_000 }, line: 'far future' }],
          },
        ],
      }),
      {
        'Content-Type': 'application/x-protobuf',
      }
    );
    await json({ streams: [{ stream: { job: 't' }, values: [['9007199254740993123', 'big ns']] }] });
    expect(sink.entries.map((e) => e.timestampMs)).toEqual([5_000_000_000_001, 9007199254740]);
  });
});

describe('bad input answers 4xx JSON and accepts nothing', () => {
  const validStream = { stream: { job: 'ok' }, values: [['1700000000000000000', 'fine']] };
  const cases: Array<[string, () => Promise<Response>, number, string | undefined]> = [
    [
      'bad ?source=',
      () => post(JSON.stringify({ streams: [validStream] }), { 'Content-Type': 'application/json' }, '?source=..'),
      400,
      'source',
    ],
    [
      'invalid label name in JSON',
      () => json({ streams: [{ stream: { 'bad-name': 'x' }, values: [['1', 'l']] }] }),
      400,
      'streams.0.stream.bad-name',
    ],
    ['empty body', () => post('', { 'Content-Type': 'application/json' }), 400, 'body'],
    [
      'gzip bomb: small on the wire, over the limit once inflated',
      () =>
        post(gzipSync(Buffer.alloc(1024 * 1024, 0x20)), {
          'Content-Type': 'application/json',
          'Content-Encoding': 'gzip',
        }),
      413,
      undefined,
    ],
    [
      '?source= twice',
      () =>
        post(JSON.stringify({ streams: [validStream] }), { 'Content-Type': 'application/json' }, '?source=a&source=b'),
      400,
      'source',
    ],
    ['empty protobuf body', () => post(Buffer.alloc(0), { 'Content-Type': 'application/x-protobuf' }), 400, 'body'],
    ['malformed JSON', () => post('{"streams": [', { 'Content-Type': 'application/json' }), 400, 'body'],
    // refused before JSON.parse builds it (the schema would name streams.0 after building every array)
    [
      'JSON nested deeper than 64 levels',
      () => post(`{"streams":${'['.repeat(100)}${']'.repeat(100)}}`, { 'Content-Type': 'application/json' }),
      400,
      'body',
    ],
    ['streams not an array', () => json({ streams: { job: 'x' } }), 400, 'streams'],
    [
      'numeric timestamp',
      () => json({ streams: [{ stream: { job: 'x' }, values: [[1700000000, 'l']] }] }),
      400,
      'streams.0.values.0.0',
    ],
    [
      'non-string line',
      () => json({ streams: [validStream, { stream: { job: 'x' }, values: [['1', 42]] }] }),
      400,
      'streams.1.values.0.1',
    ],
    [
      'non-string label value',
      () => json({ streams: [{ stream: { job: 3 }, values: [] }] }),
      400,
      'streams.0.stream.job',
    ],
    [
      'line over the limit',
      () => json({ streams: [validStream, { stream: { job: 'x' }, values: [['1', 'x'.repeat(2000)]] }] }),
      400,
      'streams.1.values.0.1',
    ],
    [
      'invalid UTF-8 JSON',
      () =>
        post(
          Buffer.concat([
            Buffer.from('{"streams":[{"stream":{"job":"a"},"values":[["1","'),
            Buffer.from([0xc3, 0x28]),
            Buffer.from('"]]}]}'),
          ]),
          { 'Content-Type': 'application/json' }
        ),
      400,
      'body',
    ],
    [
      'bad gzip',
      () =>
        post(Buffer.from('definitely not gzip'), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }),
      400,
      undefined,
    ],
    [
      'unknown Content-Encoding',
      () => post('{}', { 'Content-Type': 'application/json', 'Content-Encoding': 'zstd-ish' }),
      415,
      undefined,
    ],
    ['unsupported Content-Type', () => post('a line', { 'Content-Type': 'text/csv' }), 415, undefined],
    [
      'bad snappy',
      () => post(Buffer.from([0x05, 0xff, 0xff, 0xff, 0x01]), { 'Content-Type': 'application/x-protobuf' }),
      400,
      'body',
    ],
    [
      // snappyjs looped forever on this 6-byte block (a literal whose length wraps negative) and hung the process.
      'snappy with a literal length that wraps negative',
      () => post(Buffer.from([0x01, 0xfc, 0xfa, 0xff, 0xff, 0xff]), { 'Content-Type': 'application/x-protobuf' }),
      400,
      'body',
    ],
    [
      'snappy of something that is not a PushRequest',
      () =>
        post(Buffer.from(compressSync(Buffer.from([0x0f, 0xff, 0xff, 0xff, 0xff, 0xff]))), {
          'Content-Type': 'application/x-protobuf',
        }),
      400,
      'body',
    ],
    [
      'invalid UTF-8 in a protobuf line',
      () => {
        const good = PushRequest.encode({ streams: [{ labels: '{job="x"}', entries: [{ line: 'AAAA' }] }] }).finish();
        const bytes = Buffer.from(good);
        bytes.set([0xff, 0xfe], bytes.indexOf(Buffer.from('AAAA')));
        return post(Buffer.from(compressSync(bytes)), { 'Content-Type': 'application/x-protobuf' });
      },
      400,
      'streams.0.entries.0.line',
    ],
    [
      'unparseable label string',
      () =>
        post(snappyProtobuf({ streams: [{ labels: '{job="unterminated}', entries: [{ line: 'l' }] }] }), {
          'Content-Type': 'application/x-protobuf',
        }),
      400,
      'streams.0.labels',
    ],
    [
      'duplicate label',
      () =>
        post(snappyProtobuf({ streams: [{ labels: '{job="a", job="b"}', entries: [{ line: 'l' }] }] }), {
          'Content-Type': 'application/x-protobuf',
        }),
      400,
      'streams.0.labels',
    ],
    [
      'body over the limit',
      () =>
        json({
          streams: [{ stream: { job: 'x' }, values: Array.from({ length: 200 }, () => ['1', 'y'.repeat(500)]) }],
        }),
      413,
      undefined,
    ],
    // Labels were bounded by the body only, and are kept with every line in memory.
    [
      'JSON stream labels longer than a line may be',
      () => json({ streams: [{ stream: { job: 'ok', a: 'v'.repeat(1100) }, values: [['1', 'l']] }] }),
      400,
      'streams.0.stream',
    ],
    [
      'JSON structured metadata making the labels longer than a line may be',
      () => json({ streams: [validStream, { stream: { job: 'ok' }, values: [['1', 'l'], ['2', 'l', { trace: 't'.repeat(1100) }]] }] }),
      400,
      'streams.1.values.1.2',
    ],
    [
      'protobuf stream labels, 257 of them',
      () =>
        post(snappyProtobuf({ streams: [{ labels: `{${Array.from({ length: 257 }, (_, i) => `k${i}=""`).join(',')}}`, entries: [{ line: 'l' }] }] }), {
          'Content-Type': 'application/x-protobuf',
        }),
      400,
      'streams.0.labels',
    ],
    [
      'protobuf structured metadata longer than a line may be',
      () =>
        post(snappyProtobuf({ streams: [{ labels: '{job="t"}', entries: [{ line: 'l', structuredMetadata: [{ name: 'trace', value: 't'.repeat(1100) }] }] }] }), {
          'Content-Type': 'application/x-protobuf',
        }),
      400,
      'streams.0.entries.0.structuredMetadata',
    ],
    // Answered 204 before, and no query could find the line (its time is beyond a Date's).
    [
      'protobuf timestamp beyond a Date',
      () =>
        post(snappyProtobuf({ streams: [{ labels: '{job="t"}', entries: [{ line: 'ok' }, { timestamp: { seconds: 2 ** 62, nanos: 0 }, line: 'far' }] }] }), {
          'Content-Type': 'application/x-protobuf',
        }),
      400,
      'streams.0.entries.1.timestamp',
    ],
    [
      'snappy claiming a huge decompressed size',
      () => post(Buffer.from([0x80, 0x80, 0x80, 0x40, 0x00]), { 'Content-Type': 'application/x-protobuf' }),
      413,
      'body', // as every other 413 (a gzip bomb's); it named no field
    ],
  ];

  it.each(cases)('%s', async (_name, send, status, field) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { error: string; field?: string };
    expect(body.error).toEqual(expect.any(String));
    expect(body.error.length).toBeGreaterThan(5);
    if (field !== undefined) {
      expect(body.field).toBe(field);
    }
    expect(sink.entries).toHaveLength(0);
    // and the server keeps serving
    expect((await json({ streams: [validStream] })).status).toBe(204);
    expect(sink.lines()).toEqual(['fine']);
  });
});

describe('backpressure', () => {
  it('answers 429 with Retry-After when the sink is saturated, accepts nothing, and accepts again after', async () => {
    sink.retryAfterSeconds = 7;
    sink.saturate();
    const body = snappyProtobuf({ streams: [{ labels: '{job="x"}', entries: [{ line: 'a' }, { line: 'b' }] }] });
    const res = await post(body, { 'Content-Type': 'application/x-protobuf' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(((await res.json()) as { error: string }).error).toMatch(/saturated/);
    expect(sink.entries).toHaveLength(0);
    sink.drain();
    expect((await post(body, { 'Content-Type': 'application/x-protobuf' })).status).toBe(204);
    expect(sink.lines()).toEqual(['a', 'b']);
  });
});
