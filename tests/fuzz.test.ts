/**
 * Seeded fuzz of every HTTP endpoint of the built service (child process), with fast-check generating the
 * requests: LAD_FUZZ_RUNS inputs per endpoint (10,000 by default, what CI runs), LAD_FUZZ_SEED to replay.
 * Every input is a client's (valid or a mistake), so the service must answer each one: 0 crashes, 0 5xx, 0
 * answers slower than 5 s, and its RSS stays bounded. A failure prints the seed and the request.
 * The syslog parser and TCP de-framer are also driven directly (in process) with arbitrary bytes, cut into
 * arbitrary chunks: no throw escapes, no input takes long, the output is bounded by the input and maxMessageBytes,
 * and the frames do not depend on where the stream was cut.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { compressSync } from 'snappy';
import { SyslogFramer } from '../backend/sources/syslog-framing';
import { FACILITY_NAMES, parseSyslog, SEVERITY_NAMES } from '../backend/sources/syslog-parse';
import { startBuiltServer, type BuiltServer } from '../backend/testing/built-server';
import { removeDir, tempDir } from './service-helpers';

const RUNS = Number(process.env.LAD_FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.LAD_FUZZ_SEED ?? 20_261_127);
const CONCURRENCY = 8;
const HANG_MS = 5000;
/** RSS bound for the whole run: the service idles at ~100 MB; a leak or an unbounded allocation shows here. */
const MAX_RSS_MB = 600;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

// ---- building blocks -------------------------------------------------------------------------------------

/** Strings that break naive parsers: bad percent-encoding, prototype keys, huge numbers, control characters. */
const NASTY = ['', '%', '%ff', '%E0%A4%A', '%00', '..', '../..', '__proto__', 'constructor', '[]', '{}', 'null', '-1', '1e309', 'NaN', '\u0000', '\ud800', 'a'.repeat(5000), '*', ' '];
const nasty = fc.constantFrom(...NASTY);
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 200 }), nasty, fc.constantFrom('web', 'demo', 'loki', 'a'));
/** encodeURIComponent, lone surrogates (which it refuses) replaced first. */
const encode = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
/** A path segment or query value: encoded properly, or raw (possibly malformed percent-encoding). */
const urlPart = fc.oneof(
  text.map(encode),
  nasty.map((s) => s.replace(/[\s#?/]/g, '')),
  fc.stringMatching(/^[A-Za-z0-9%._~-]{0,12}$/)
);
const queryString = (keys: string[]) =>
  fc.array(fc.tuple(fc.oneof(fc.constantFrom(...keys), urlPart), urlPart), { maxLength: 4 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
const time = fc.oneof(fc.integer(), fc.double(), fc.constantFrom('now', 'now-1h', '2026-01-01T00:00:00Z', '', 'x'), fc.constant(Date.now()), fc.integer({ min: -1e15, max: 1e15 }));
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/x-ndjson', 'application/x-protobuf', 'application/json; charset=latin1', 'multipart/form-data', 'x/y', ''];
const ENCODINGS = ['', '', '', 'gzip', 'deflate', 'br', 'identity', 'zstd', 'gzip, gzip', 'x'];
const headers = fc.record({
  type: fc.oneof(fc.constantFrom(...CONTENT_TYPES), fc.stringMatching(/^[a-z/+;= -]{0,20}$/)),
  encoding: fc.constantFrom(...ENCODINGS),
  auth: fc.constantFrom('', '', 'Bearer x', 'Basic eDp5'),
});
type Headers = { type: string; encoding: string; auth: string };

/** The body as bytes; sometimes honestly compressed as its Content-Encoding says, sometimes not. */
function request(method: string, path: string, h: Headers, body?: Buffer, compressHonestly = false): FuzzRequest {
  const out: Record<string, string> = {};
  if (h.type) out['content-type'] = h.type;
  if (h.encoding) out['content-encoding'] = h.encoding;
  if (h.auth) out.authorization = h.auth;
  let bytes = body;
  if (bytes && compressHonestly) {
    out['content-encoding'] = 'gzip';
    bytes = gzipSync(bytes);
  }
  return { method, path, headers: out, body: bytes };
}

/** A JSON document: fast-check's arbitrary JSON, or `shape` (a near-valid body) serialised. */
const jsonBody = (shape: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 3, arbitrary: shape.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 1, arbitrary: fc.json().map((s) => Buffer.from(s)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: shape.chain((v) => fc.nat().map((cut) => { const s = JSON.stringify(v) ?? ''; return Buffer.from(s.slice(0, cut % (s.length + 1))); })) }
  );

const withBody = (method: string, path: fc.Arbitrary<string>, body: fc.Arbitrary<Buffer>) =>
  fc.tuple(path, headers, body, fc.boolean()).map(([p, h, b, gz]) => request(method, p, h, b, gz));
const noBody = (method: string, path: fc.Arbitrary<string>) => fc.tuple(path, headers).map(([p, h]) => request(method, p, h));

// ---- near-valid shapes per endpoint ------------------------------------------------------------------------

const source = fc.oneof(text, fc.array(text, { maxLength: 5 }), fc.integer());
const target = fc.record(
  {
    refId: fc.oneof(fc.constant('A'), text),
    queryType: fc.oneof(fc.constantFrom('anomalies', 'rate', 'templates', 'feedback'), text),
    source,
    minScore: fc.oneof(fc.double(), text),
    includeSuppressed: fc.oneof(fc.boolean(), text),
    search: text,
    limit: fc.oneof(fc.integer(), fc.double()),
    kind: fc.oneof(fc.constantFrom('false_positive', 'confirmed'), text),
    hide: fc.boolean(),
  },
  { requiredKeys: [] }
);
const queryShape = fc.record(
  {
    range: fc.oneof(fc.record({ from: time, to: time }, { requiredKeys: [] }), text),
    targets: fc.oneof(fc.array(target, { maxLength: 6 }), text),
    intervalMs: fc.oneof(fc.double(), fc.integer()),
    maxDataPoints: fc.oneof(fc.integer(), fc.double()),
  },
  { requiredKeys: [] }
);
const feedbackShape = fc.record(
  {
    message: text,
    // Mostly invalid: every valid one is an fsynced write of the whole file.
    kind: fc.oneof({ weight: 1, arbitrary: fc.constantFrom('false_positive', 'confirmed') }, { weight: 12, arbitrary: fc.oneof(text, fc.integer()) }),
    source: text,
    template: text,
    score: fc.oneof(fc.double(), text),
    comment: text,
    user: text,
    anomalyId: text,
  },
  { requiredKeys: ['kind'] }
);
const lokiJsonShape = fc.record(
  {
    streams: fc.oneof(
      fc.array(
        fc.record(
          {
            stream: fc.oneof(fc.dictionary(fc.oneof(fc.constantFrom('job', 'app', 'service_name'), text), text, { maxKeys: 3 }), text),
            values: fc.array(fc.oneof(fc.tuple(fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String), text, fc.integer()), text), fc.array(text, { maxLength: 4 }), text), { maxLength: 5 }),
          },
          { requiredKeys: [] }
        ),
        { maxLength: 4 }
      ),
      text
    ),
  },
  { requiredKeys: [] }
);

/** A Loki protobuf PushRequest written field by field (streams → labels, entries → timestamp, line). */
function lokiProto(streams: Array<{ labels: string; lines: string[]; seconds: number }>): Buffer {
  const w = protobuf.Writer.create();
  for (const s of streams) {
    const sw = protobuf.Writer.create().uint32(10).string(s.labels);
    for (const line of s.lines) {
      const ts = protobuf.Writer.create().uint32(8).int64(s.seconds).uint32(16).int32(0).finish();
      const entry = protobuf.Writer.create().uint32(10).bytes(ts).uint32(18).string(line).finish();
      sw.uint32(18).bytes(entry);
    }
    w.uint32(10).bytes(sw.finish());
  }
  return Buffer.from(w.finish());
}
const protoStreams = fc.array(
  fc.record({ labels: fc.oneof(fc.constant('{job="web"}'), fc.constant('{app="a", x="y"}'), text), lines: fc.array(text, { maxLength: 4 }), seconds: fc.integer({ min: -1e12, max: 1e12 }) }),
  { maxLength: 3 }
);
/** Snappy blocks: valid, with a byte flipped, truncated, or random bytes (the 6-byte hang of issue 10 among them). */
const snappyBody = fc.oneof(
  protoStreams.map((s) => Buffer.from(compressSync(lokiProto(s)))),
  fc.tuple(protoStreams, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([s, at, x]) => {
    const b = Buffer.from(compressSync(lokiProto(s)));
    if (b.length > 0) b[at % b.length] ^= x;
    return b;
  }),
  fc.tuple(protoStreams, fc.nat()).map(([s, cut]) => {
    const b = Buffer.from(compressSync(lokiProto(s)));
    return b.subarray(0, cut % (b.length + 1));
  }),
  fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.from([0x01, 0xfc, 0xfa, 0xff, 0xff, 0xff])),
  protoStreams.map(lokiProto)
);
const linesBody = fc.oneof(
  fc.array(text, { maxLength: 8 }).map((ls) => Buffer.from(ls.join('\n'))),
  fc.array(fc.record({ line: fc.oneof(text, fc.integer()), time: time, labels: fc.oneof(fc.dictionary(text, text, { maxKeys: 2 }), text) }, { requiredKeys: [] }), { maxLength: 5 }).map((es) => Buffer.from(es.map((e) => JSON.stringify(e)).join('\n'))),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a))
);

const ENDPOINTS: Record<string, fc.Arbitrary<FuzzRequest>> = {
  'GET /api/health': noBody('GET', queryString(['x'])).map((r) => ({ ...r, path: `/api/health${r.path}` })),
  'GET /api/sources': noBody('GET', queryString(['source'])).map((r) => ({ ...r, path: `/api/sources${r.path}` })),
  'GET /metrics': noBody('GET', queryString(['name[]'])).map((r) => ({ ...r, path: `/metrics${r.path}` })),
  'GET /api/anomalies/:id/context': noBody('GET', fc.tuple(urlPart, queryString(['before', 'after'])).map(([id, q]) => `/api/anomalies/${id || 'x'}/context${q}`)),
  'GET /api/feedback': noBody('GET', queryString(['source', 'kind', 'from', 'to'])).map((r) => ({ ...r, path: `/api/feedback${r.path}` })),
  'DELETE /api/feedback/:id': noBody('DELETE', urlPart.map((id) => `/api/feedback/${id || 'x'}`)),
  'POST /api/query': withBody('POST', queryString(['x']).map((q) => `/api/query${q}`), jsonBody(queryShape)),
  'POST /api/feedback': withBody('POST', fc.constant('/api/feedback'), jsonBody(feedbackShape)),
  'POST /api/push': withBody('POST', queryString(['source', 'source']).map((q) => `/api/push${q}`), linesBody),
  'POST /loki/api/v1/push': fc.oneof(
    withBody('POST', queryString(['source']).map((q) => `/loki/api/v1/push${q}`), jsonBody(lokiJsonShape)),
    fc.tuple(snappyBody, fc.constantFrom('application/x-protobuf', 'application/x-protobuf', 'application/octet-stream'), queryString(['source'])).map(([body, type, q]) => ({
      method: 'POST',
      path: `/loki/api/v1/push${q}`,
      headers: { 'content-type': type },
      body,
    }))
  ),
};

// ---- the run -----------------------------------------------------------------------------------------------

interface Failure {
  what: string;
  request: FuzzRequest;
}

function describeRequest(r: FuzzRequest): string {
  return JSON.stringify({ ...r, body: r.body === undefined ? undefined : r.body.toString('base64') });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Keep-alive sockets: node:http costs a fraction of fetch's CPU per request, which matters on 2 shared cores. */
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** The answer's status, or the failure (no answer within HANG_MS, connection refused or reset: a crash). */
function send(port: number, r: FuzzRequest): Promise<Failure | null> {
  return new Promise((resolve) => {
    let req: http.ClientRequest;
    try {
      const headers = { ...r.headers, ...(r.body ? { 'content-length': String(r.body.length) } : {}) };
      req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent, timeout: HANG_MS }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode! >= 500 ? { what: `answered ${res.statusCode}`, request: r } : null));
        res.on('error', (err) => resolve({ what: `response failed: ${err.message}`, request: r }));
      });
    } catch {
      // A request node:http itself refuses to send (a header it will not encode) is not the service's doing.
      resolve(null);
      return;
    }
    req.on('timeout', () => {
      req.destroy();
      resolve({ what: `no answer within ${HANG_MS} ms`, request: r });
    });
    req.on('error', (err) => resolve({ what: `request failed: ${err.message}`, request: r }));
    req.end(r.body);
  });
}

/** Sends every request with CONCURRENCY in flight; returns the failures. */
async function runAll(port: number, requests: FuzzRequest[]): Promise<Failure[]> {
  const failures: Failure[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const failure = await send(port, requests[next++]);
        if (failure) failures.push(failure);
      }
    })
  );
  return failures;
}

describe(`fuzz: ${RUNS} requests per endpoint against the built service (seed ${SEED})`, () => {
  let dir: string;
  let server: BuiltServer;
  const rss: Record<string, number> = {};
  beforeAll(async () => {
    dir = tempDir('lad-fuzz-');
    // No training during the run (a window it cannot fill): the fuzz is about requests, and the CPU is shared.
    server = await startBuiltServer({ env: { LAD_DATA_DIR: dir, LAD_DEMO: 'false', LAD_LOG_LEVEL: 'info', LAD_TRAIN_LINES: '10000000', LAD_TRAIN_SECONDS: '3600' }, keepOutputChars: 200_000 });
    rss.start = rssMb(server.child.pid!);
  });
  afterAll(async () => {
    console.log(`fuzz RSS (MB): ${Object.entries(rss).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
    agent.destroy();
    await server.stop();
    removeDir(dir);
  });

  test.each(Object.keys(ENDPOINTS))('%s', async (name) => {
    const started = Date.now();
    const logMark = server.output().length;
    const requests = fc.sample(ENDPOINTS[name], { numRuns: RUNS, seed: SEED });
    const failures = await runAll(server.port, requests);
    rss[name] = rssMb(server.child.pid!);
    const ms = Date.now() - started;
    console.log(`${name}: ${requests.length} requests in ${ms} ms, ${failures.length} failures, RSS ${rss[name].toFixed(0)} MB`);
    expect(server.child.exitCode).toBeNull();
    expect(failures.slice(0, 3).map((f) => `${f.what}: ${describeRequest(f.request).slice(0, 600)}`)).toEqual([]);
    // Only this endpoint's share of the log: an error-level line is a request the service took for its own fault.
    expect(server.output().slice(logMark)).not.toContain('"level":50');
    expect(rss[name]).toBeLessThan(MAX_RSS_MB);
  }, 120_000);
});

// ---- syslog, in process ------------------------------------------------------------------------------------

/** Bytes that look like syslog often enough to get past the first checks: PRI, versions, dates, SD, lengths. */
const syslogPiece = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.constantFrom('<', '>', '<13>', '<191>', '<999>', '<0>1 ', '1 ', '- ', '[', ']', '[a b="c\\"]"]', '="', '\\', '\n', '\r\n', '\u0000', ' ', '2026-11-27T10:00:00.123456+02:00 ', 'Nov 27 10:00:00 ', 'Feb 30 25:61:61 ', 'host ', 'app[12]: ', 'app: ', '\ufeff', '\ud800').map((t) => Buffer.from(t)),
  fc.integer({ min: 0, max: 99_999_999_999 }).map((n) => Buffer.from(`${n} `)),
  fc.string({ maxLength: 80 }).map((t) => Buffer.from(t))
);
const syslogStream = fc.oneof(fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)), fc.array(syslogPiece, { maxLength: 60 }).map((parts) => Buffer.concat(parts)));

/** Frames `bytes` fed in the given chunk sizes (cycled), then ended: the messages, the oversize count, the largest buffer held. */
function frame(bytes: Buffer, maxMessageBytes: number, cuts: number[]): { messages: string[]; oversize: number; maxBuffered: number } {
  const messages: string[] = [];
  let oversize = 0;
  let maxBuffered = 0;
  const framer = new SyslogFramer(maxMessageBytes, { onMessage: (m) => messages.push(m), onOversize: () => void oversize++ });
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const size = cuts.length > 0 ? Math.max(1, cuts[i % cuts.length]) : bytes.length;
    framer.push(bytes.subarray(pos, pos + size));
    maxBuffered = Math.max(maxBuffered, framer.bufferedBytes);
    pos += size;
  }
  framer.end();
  return { messages, oversize, maxBuffered };
}

/** A property's check without jest's expect (10,000 inputs × several checks: expect's cost dominated the run). */
function holds(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

describe(`fuzz: syslog parser and framer, ${RUNS} inputs each (seed ${SEED})`, () => {
  const SLOW_MS = 1000;

  test('parseSyslog: any string gives a bounded message with known severity and facility, never a throw', () => {
    let slowest = 0;
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 2000 }), syslogStream.map((b) => b.toString('utf8'))), fc.integer({ min: 0, max: 4_102_444_800_000 }), (raw, now) => {
        const started = performance.now();
        const msg = parseSyslog(raw, now);
        slowest = Math.max(slowest, performance.now() - started);
        holds(msg.message.length <= raw.length, 'message longer than the input');
        for (const field of [msg.host, msg.app, msg.procId, msg.msgId, msg.structuredData]) holds((field ?? '').length <= raw.length, 'a field longer than the input');
        holds((SEVERITY_NAMES as readonly string[]).includes(msg.severity), `severity ${msg.severity}`);
        holds((FACILITY_NAMES as readonly string[]).includes(msg.facility), `facility ${msg.facility}`);
        holds(msg.timestampMs === null || Number.isFinite(msg.timestampMs), `timestamp ${msg.timestampMs}`);
      }),
      { numRuns: RUNS, seed: SEED }
    );
    expect(slowest).toBeLessThan(SLOW_MS);
  });

  test('SyslogFramer: arbitrary bytes in arbitrary chunks give the same bounded frames as in one piece, never a throw', () => {
    let slowest = 0;
    fc.assert(
      fc.property(syslogStream, fc.integer({ min: 1, max: 600 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), (bytes, maxMessageBytes, cuts) => {
        const started = performance.now();
        const whole = frame(bytes, maxMessageBytes, []);
        const chunked = frame(bytes, maxMessageBytes, cuts);
        slowest = Math.max(slowest, performance.now() - started);
        holds(JSON.stringify(chunked.messages) === JSON.stringify(whole.messages), `frames depend on the cuts: ${JSON.stringify(chunked.messages).slice(0, 300)} vs ${JSON.stringify(whole.messages).slice(0, 300)}`);
        holds(chunked.oversize === whole.oversize, `oversize ${chunked.oversize} vs ${whole.oversize}`);
        let total = 0;
        for (const m of whole.messages) {
          const size = Buffer.byteLength(m);
          total += size;
          // U+FFFD replacing an invalid byte can take 3 bytes for 1
          holds(size <= 3 * maxMessageBytes, `a frame of ${size} bytes`);
          holds(parseSyslog(m, 0).message.length <= m.length, 'parsed message longer than its frame');
        }
        holds(total <= 3 * bytes.length, `${total} bytes of frames from ${bytes.length}`);
        // what the framer holds between chunks: one frame at most, plus its length prefix
        holds(chunked.maxBuffered <= maxMessageBytes + 12, `held ${chunked.maxBuffered} bytes`);
      }),
      { numRuns: RUNS, seed: SEED }
    );
    expect(slowest).toBeLessThan(SLOW_MS);
  });
});
