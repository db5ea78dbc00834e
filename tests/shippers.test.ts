/**
 * Real Loki clients from npm ship to Scorpio's push endpoint over loopback HTTP:
 * - winston-loki with its default wire format (snappy-compressed protobuf),
 * - winston-loki with `json: true`,
 * - pino-loki (JSON, with structured metadata).
 * Every line must arrive, once, with its labels: first at a recording sink behind the push router, then at
 * the real service (in-process, ephemeral port), where every line must also be scored and queryable.
 */
import pino from 'pino';
import { pinoLoki } from 'pino-loki';
import { Router } from 'express';
import winston from 'winston';
import LokiTransport from 'winston-loki';
import { createLokiPushRouter } from '../backend/sources/loki-push';
import { RecordingSink, serveRouters, type TestServer } from '../backend/sources/__tests__/recording-sink';
import type { Service } from '../backend/server/service';
import type { LogEntry } from '../backend/sources/source';
import {
  anomalyLines,
  normalLines,
  query,
  removeDir,
  rowsOf,
  startTestService,
  tempDir,
  waitScored,
} from './service-helpers';

let sink: RecordingSink;
let server: TestServer;
/** Content-Type of every push request: proves which wire format the client really used. */
let contentTypes: string[];

describe('at the push router', () => {
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

  function winstonLogger(
    json: boolean,
    connectionErrors: unknown[]
  ): { logger: winston.Logger; transport: LokiTransport } {
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
});

describe('at the running service: every line arrives, scored, with its labels', () => {
  let dir: string;
  let service: Service;
  /** What the service's pipelines accepted (a tap on the real Pipelines.accept, which still does the work; pushes reach it through the spool). */
  let accepted: LogEntry[];

  beforeAll(async () => {
    dir = tempDir('lad-shippers-');
    service = await startTestService(dir);
    accepted = [];
    const realAccept = service.pipelines.accept.bind(service.pipelines);
    service.pipelines.accept = (entries: LogEntry[]) => {
      realAccept(entries);
      accepted.push(...entries);
    };
  });
  afterAll(async () => {
    await service.close();
    removeDir(dir);
  });

  // 400 normal lines fill the 300-line training window; the anomalies come after, among normal lines.
  const shipped = [
    ...normalLines.slice(0, 400),
    anomalyLines[0],
    ...normalLines.slice(400, 420),
    anomalyLines[2],
    ...normalLines.slice(420, 440),
  ];

  async function expectScoredAndFlagged(source: string): Promise<void> {
    await waitScored(service, source, shipped.length);
    expect(service.pipelines.get(source)!.stats().linesScored).toBe(shipped.length);
    const { results } = await query(service.url, [
      { refId: 'R', queryType: 'rate', source },
      { refId: 'A', queryType: 'anomalies', source, limit: 1000 },
    ]);
    const rate = rowsOf(results.R.frames[0]);
    expect(rate.reduce((sum, row) => sum + (row.lines as number), 0)).toBe(shipped.length);
    const flagged = rowsOf(results.A.frames[0]).map((row) => row.line as string);
    expect(flagged).toEqual(expect.arrayContaining([anomalyLines[0], anomalyLines[2]]));
    for (const line of flagged) {
      expect(shipped).toContain(line);
    }
  }

  it('winston-loki (protobuf + snappy)', async () => {
    const errors: unknown[] = [];
    const transport = new LokiTransport({
      host: service.url,
      labels: { job: 'shop-winston', env: 'e2e' },
      interval: 60,
      gracefulShutdown: false,
      format: winston.format.printf((info) => String(info.message)),
      onConnectionError: (err: unknown) => errors.push(err),
    });
    const logger = winston.createLogger({ transports: [transport] });
    shipped.forEach((line) => logger.info(line));
    await transport.close();
    logger.close();
    expect(errors).toEqual([]);

    await expectScoredAndFlagged('shop-winston');
    const mine = accepted.filter((e) => e.source === 'shop-winston');
    expect(mine.map((e) => e.line)).toEqual(shipped);
    mine.forEach((e) => expect(e.labels).toEqual({ job: 'shop-winston', env: 'e2e', level: 'info' }));
  }, 60_000);

  it('pino-loki (JSON)', async () => {
    const stream = pinoLoki({
      host: `${service.url}/`,
      labels: { source: 'shop-pino' },
      batching: { interval: 60 },
      logFormat: '{msg}', // ship the message itself as the line, as a plain-text logger would
    });
    const closed = new Promise<void>((resolve) => stream.on('close', () => resolve()));
    const logger = pino({ base: { hostname: 'web-1' } }, stream);
    shipped.forEach((line) => logger.info(line));
    logger.flush();
    stream.end();
    await closed;

    await expectScoredAndFlagged('shop-pino');
    const mine = accepted.filter((e) => e.source === 'shop-pino');
    expect(mine.map((e) => e.line)).toEqual(shipped);
    mine.forEach((e) => expect(e.labels).toEqual({ source: 'shop-pino', hostname: 'web-1', level: 'info' }));
  }, 60_000);
});
