import { readFileSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import * as engine from '../engine';
import { Metrics } from '../metrics/metrics';
import type { EngineApi } from '../pipeline/engine-port';
import { Pipelines } from '../pipeline/pipelines';
import { DemoSource } from '../sources/demo';
import { createSource, type SourceContext } from '../sources/registry';
import type { LogSource } from '../sources/source';
import { logSourceStatus } from '../sources/status-log';
import { templateVersionOf } from '../engine/drain/config';
import { FactStore } from '../store/fact-store';
import { ResultsStore } from '../store/results-store';
import { Spool } from '../spool/spool';
import { SpooledSink } from '../spool/spooled-sink';
import { createApp } from './app';
import { drainTime, listen } from './listen';
import { connectionCap } from './connections';
import { ensureDataDir } from './data-dir';
import type { Config, SourceConfig } from './config';
import { anomalyChars, recentChars } from './line-budgets';
import { MemoryBudget, memoryChars } from './memory-budget';

export interface Service {
  readonly port: number;
  readonly url: string;
  readonly pipelines: Pipelines;
  readonly facts: FactStore;
  readonly results: ResultsStore;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
  /** Builds a configured source from its config entry and the service's context (the sources registry). */
  buildSource?: (source: SourceConfig, context: SourceContext) => LogSource;
}

export function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'scorpio' && pkg.version) {
        return pkg.version;
      }
    } catch {
      // not here: keep walking up
    }
  }
  return '0.0.0';
}

/** Opens the stores, builds pipelines and sources, and listens. close() shuts everything down in order. */
export async function startService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const startedAt = Date.now();
  const metrics = new Metrics();
  // one bound on line text in memory for every source, shared by the results store and the pipelines
  const budget = new MemoryBudget(memoryChars(config.memory), metrics.memoryEvents);
  metrics.memoryReading = () => budget.reading();
  await ensureDataDir(config.dataDir);
  const facts = await FactStore.open(config.dataDir, { templateVersion: templateVersionOf(config.training.engine.miner), maxChars: config.memory.factStoreChars });
  if (facts.migrated > 0) {
    logger.info({ records: facts.migrated, rederived: facts.rederived, templateVersion: facts.templateVersion }, 'fact-store: stamped feedback records with the current template version');
  }
  const results = await ResultsStore.open({
    dir: path.join(config.dataDir, 'results'),
    retentionMs: config.retention.hours * 3600_000,
    maxBytesPerSource: config.retention.maxBytesPerSource,
    segmentBytes: config.retention.segmentBytes,
    recentLines: config.retention.recentLines,
    recentChars: recentChars(config.retention),
    maxAnomalies: config.retention.maxAnomalies,
    maxAnomalyChars: anomalyChars(config.retention),
    bucketMs: config.retention.bucketSeconds * 1000,
    budget,
    onError: (err, what, repeated) => {
      metrics.resultsWriteErrors.inc();
      // a full disk fails every flush until space returns: one log line per failure, not four a second
      if (!repeated) logger.error({ err: err.message }, what);
    },
  });
  const engineApi: EngineApi = engine;
  const pipelines = new Pipelines({ engine: engineApi, results, facts, metrics, logger, config, budget });

  const build = options.buildSource ?? createSource;
  const sources: LogSource[] = [];
  if (config.demo.enabled) {
    sources.push(
      new DemoSource({
        linesPerSecond: config.demo.linesPerSecond,
        anomalyEvery: config.demo.anomalyEvery,
        // The warm-up fills the initial training window at once, so the demo shows anomalies quickly.
        warmupLines: config.training.windowLines,
      })
    );
  }
  // The service's data dir may come from LAD_CONFIG, which the sources cannot see: hand it to every source.
  const sourceContext: SourceContext = { dataDir: config.dataDir };
  for (const sourceConfig of config.sources) {
    sources.push(build(sourceConfig, sourceContext));
  }
  for (const source of sources) {
    pipelines.addSource(source);
  }
  // After addSource: replayed lines of a configured source go to its own pipeline, not a new push one.
  const spool = config.spool.enabled ? await openSpool(config, results, pipelines, metrics, logger) : null;

  const pushSink = spool ? new SpooledSink(pipelines, spool) : undefined;
  const spoolError = spool ? () => spool.lastError : undefined;
  const app = createApp({ config, logger, pipelines, pushSink, spoolError, facts, results, metrics, templateOf: (line, source) => pipelines.get(source)?.templateOf(line) ?? engine.templateOf(line), version: packageVersion(), startedAt });
  const http = await listen(app, config.host, config.port, { maxConnections: connectionCap(config), drainMs: drainTime(config.queryDeadlineMs) });
  const port = http.port;
  logger.info({ port, host: config.host, dataDir: config.dataDir, sources: sources.map((s) => s.name) }, 'listening');

  // a source's problems reach the log as they start and end, not only /api/health
  const statusLog = logSourceStatus(sources, logger);
  for (const source of sources) {
    // Sources write through the spool too (deliver.ts awaits it): a read position or a pull cursor is saved
    // only once its lines are on disk, and syslog TCP reads on only after its lines are.
    source.start(pushSink ?? pipelines).then(
      () => {
        // e.g. a file that does not exist yet (backend/sources/path-check.ts): the source waits, the log says so
        const { state, lastError } = source.status();
        if (state === 'error' && lastError) {
          logger.warn({ source: source.name, warning: lastError }, 'source started, not yet reading');
          statusLog.logged(source);
        }
      },
      (err: Error) => {
        logger.error({ source: source.name, err: err.message }, 'source failed to start');
      }
    );
  }

  let closing: Promise<void> | null = null;
  return {
    port,
    url: http.url,
    pipelines,
    facts,
    results,
    metrics,
    close() {
      closing ??= (async () => {
        statusLog.stop();
        await http.close();
        await pipelines.stop();
        // after the pipelines stopped: the last checkpoint covers all they scored; the rest stays spooled
        await spool?.close();
        await results.close();
        await facts.flush();
      })();
      return closing;
    },
  };
}

/** Opens <dataDir>/spool and hands what was spooled but not scored before the last stop to the pipelines. */
async function openSpool(config: Config, results: ResultsStore, pipelines: Pipelines, metrics: Metrics, logger: Logger): Promise<Spool> {
  const spool = await Spool.open({
    dir: path.join(config.dataDir, 'spool'),
    fsyncIntervalMs: config.spool.fsyncIntervalMs,
    segmentBytes: config.spool.segmentBytes,
    checkpointIntervalMs: config.spool.checkpointIntervalMs,
    logger,
    metrics,
    results,
    scored: (source) => pipelines.get(source)?.scoredSpoolSeq ?? null,
  });
  for (const entries of spool.takeReplay()) {
    try {
      pipelines.accept(entries);
    } catch (err) {
      // e.g. maxSources lowered since: the lines stay spooled for a start that takes them
      logger.error({ source: entries[0].source, lines: entries.length, err: (err as Error).message }, 'spool: replayed lines refused');
    }
  }
  return spool;
}
