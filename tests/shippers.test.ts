/**
 * Real Loki clients from npm ship to Scorpio's push endpoint over loopback HTTP:
 * - winston-loki with its default wire format (snappy-compressed protobuf),
 * - winston-loki with `json: true`,
 * - pino-loki (JSON, with structured metadata).
 * Every line must arrive, once, with its labels.
 */
import pino from 'pino';
import { pinoLoki } from 'pino-loki';
import { Router } from 'express';
import winston from 'winston';
import LokiTransport from 'winston-loki';
import { createLokiPushRouter } from '../backend/sources/loki-push';
import { RecordingSink, serveRouters, type TestServer } from '../backend/sources/__tests__/recording-sink';

let sink: RecordingSink;
let server: TestServer;
/** Content-Type of every push request: proves which wire format the client really used. */
let contentTypes: string[];

beforeEach(async () => {
  sink = new RecordingSink();
  contentTypes = [];
  const recordContentType = Router().use((req, _res, next) => {
    contentTypes.push(req.get('content-type') ?? '');
    next();
  });
  server = await serveRouters(recordContentType, createLokiPushRouter(sink));
});
afterEach(async () => {
  await server.close();
});

function winstonLogger(json: boolean, connectionErrors: unknown[]): { logger: winston.Logger; transport: LokiTransport } {
  const transport = new LokiTransport({
    host: server.url,
    labels: { job: json ? 'winston-json' : 'winston-proto', env: 'test' },
    json,
    batching: true,
    interval: 60, // only close() sends: one request, deterministic
    gracefulShutdown: false,
    format: winston.format.printf((info) => String(info.message)),
    onConnectionError: (err: unknown) => connectionErrors.push(err),
  });
  const logger = winston.createLogger({ level: 'debug', transports: [transport] });
  return { logger, transport };
}

describe.each([
  ['protobuf + snappy (its default)', false],
  ['JSON', true],
])('winston-loki, %s', (_name, json) => {
  it('delivers every line with its labels', async () => {
    const errors: unknown[] = [];
    const { logger, transport } = winstonLogger(json, errors);
    const lines = Array.from({ length: 120 }, (_, i) => `order ${i} processed in ${i % 17} ms — ✓ "quoted"`);
    const started = Date.now();
    lines.forEach((line, i) => (i % 10 === 9 ? logger.warn(line) : logger.info(line)));
    // close() sends what is batched and stops the client's send loop.
    await transport.close();
    logger.close();
    expect(errors).toEqual([]);
    await sink.waitForEntries(lines.length);

    expect(new Set(contentTypes)).toEqual(new Set([json ? 'application/json' : 'application/x-protobuf']));
    const job = json ? 'winston-json' : 'winston-proto';
    // The client groups entries into one stream per label set (here: per level), keeping order inside each.
    const isWarn = (i: number) => i % 10 === 9;
    expect(sink.lines()).toEqual([...lines.filter((_, i) => !isWarn(i)), ...lines.filter((_, i) => isWarn(i))]);
    expect(sink.entries).toHaveLength(lines.length);
    for (const entry of sink.entries) {
      const i = lines.indexOf(entry.line);
      expect(entry.source).toBe(job); // no `source` label: taken from `job`
      expect(entry.labels).toEqual({ job, env: 'test', level: isWarn(i) ? 'warn' : 'info' });
      expect(entry.timestampMs).toBeGreaterThanOrEqual(started - 1000);
      expect(entry.timestampMs).toBeLessThanOrEqual(Date.now());
    }
  });
});

describe('pino-loki (JSON)', () => {
  it('delivers every line with its labels and structured metadata', async () => {
    const stream = pinoLoki({
      host: `${server.url}/`,
      labels: { source: 'pino-app', team: 'payments' },
      batching: { interval: 60 }, // sent when the stream closes: one request
      propsToLabels: ['component'],
    });
    const closed = new Promise<void>((resolve) => stream.on('close', () => resolve()));
    const logger = pino({ level: 'debug', base: { hostname: 'host-1' } }, stream);
    const count = 80;
    for (let i = 0; i < count; i++) {
      const child = logger.child({ component: i % 2 ? 'db' : 'http' });
      if (i === 40) {
        child.error({ meta: { trace_id: 't-40' } }, `request ${i} failed`);
      } else {
        child.info(`request ${i} ok`);
      }
    }
    logger.flush();
    stream.end();
    await closed;
    await sink.waitForEntries(count);

    expect(sink.entries).toHaveLength(count);
    expect(contentTypes).toEqual(['application/json']);
    sink.entries.forEach((entry, i) => {
      const parsed = JSON.parse(entry.line) as { msg: string; component: string };
      expect(parsed.msg).toBe(i === 40 ? `request ${i} failed` : `request ${i} ok`);
      expect(entry.source).toBe('pino-app');
      const labels: Record<string, string> = {
        source: 'pino-app',
        team: 'payments',
        hostname: 'host-1',
        component: i % 2 ? 'db' : 'http',
        level: i === 40 ? 'error' : 'info',
      };
      if (i === 40) {
        labels.trace_id = 't-40'; // structured metadata travels with the entry
      }
      expect(entry.labels).toEqual(labels);
    });
  });
});
