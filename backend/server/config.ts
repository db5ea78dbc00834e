import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ConfigError, engineConfigSchema, issuePath } from '../engine/config';
import { parseSourceConfig, SourceConfigError, type SourceConfig } from '../sources/registry';

/**
 * Service configuration. Precedence: built-in defaults < the file at LAD_CONFIG (YAML or JSON) < LAD_* env vars.
 * Everything is optional so `npm start` works with nothing set.
 */
export type { SourceConfig };

export const ConfigSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8080),
    host: z.string().min(1).default('127.0.0.1'),
    dataDir: z.string().min(1).default('./data'),
    apiToken: z.string().min(8, 'at least 8 characters').optional(),
    /** Serve /metrics without the token (for a scraper that cannot send one). Everything else still needs it. */
    metricsPublic: z.boolean().default(false),
    /** Listen beyond loopback without a token anyway: an explicit opt-out of the secure default. */
    allowUnauthenticated: z.boolean().default(false),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Request body limit for JSON API endpoints and push endpoints. */
    maxBodyBytes: z.number().int().min(1024).default(10 * 1024 * 1024),
    /**
     * HTTP connections open at once (server.maxConnections; past it a new connection is closed at once). Default:
     * the process's open-file limit less what the stores and sources may need (connections.ts, connectionCap).
     */
    maxConnections: z.number().int().min(1).optional(),
    /** Longest accepted log line (longer lines are rejected by the push endpoints). */
    maxLineBytes: z.number().int().min(256).default(64 * 1024),
    /** The bundled demo source (replays sample logs with injected anomalies). */
    demo: z
      .object({
        enabled: z.boolean().default(true),
        linesPerSecond: z.number().positive().max(100_000).default(20),
        anomalyEvery: z.number().int().min(2).default(150),
      })
      .strict()
      .prefault({}),
    training: z
      .object({
        /** Initial training window: train once this many lines were collected... */
        windowLines: z.number().int().min(10).default(2000),
        /** ...or once it holds this many characters (default windowLines × 512: line-budgets.ts)... */
        windowChars: z.number().int().min(1024).optional(),
        /** ...or once this much time passed since the first line, if at least minLines were collected. */
        windowSeconds: z.number().positive().default(300),
        minLines: z.number().int().min(10).default(200),
        /** Lines kept (newest) as the training set of the next retraining. */
        retrainLines: z.number().int().min(10).default(20_000),
        /** ...and at most this many characters of them (default retrainLines × 512: line-budgets.ts). */
        retrainChars: z.number().int().min(1024).optional(),
        /** Periodic retraining; 0 disables it. */
        retrainIntervalSeconds: z.number().min(0).default(3600),
        /** Drift: retrain early when the anomaly ratio over the last driftWindowLines exceeds driftRatio. */
        driftWindowLines: z.number().int().min(100).default(5000),
        driftRatio: z.number().min(0).max(1).default(0.05),
        /** Shortest gap between two retrainings of one source (drift can fire often). */
        minRetrainGapSeconds: z.number().min(0).default(300),
        /** Train off the main thread (engine's trainModelInWorker). */
        useWorker: z.boolean().default(true),
        /** The engine's own schema (defaults and bounds live there): errors name e.g. training.engine.neural.dim. */
        engine: engineConfigSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    queue: z
      .object({
        /** Per-source bound of accepted-but-not-yet-scored lines; beyond it pushes get 429. */
        maxLines: z.number().int().min(100).default(200_000),
        /** ...and at most this many characters of them (default maxLines × 512: line-budgets.ts). */
        maxChars: z.number().int().min(1024).optional(),
        /** Lines scored per event-loop turn (keeps queries responsive while ingesting). */
        batchLines: z.number().int().min(1).default(500),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        hours: z.number().positive().default(24),
        /** Per-source bound of scored-line segment files on disk. */
        maxBytesPerSource: z.number().int().min(1024 * 1024).default(512 * 1024 * 1024),
        segmentBytes: z.number().int().min(64 * 1024).default(32 * 1024 * 1024),
        /** Recent scored lines kept in memory per source (context queries). */
        recentLines: z.number().int().min(100).default(20_000),
        /** ...and at most this many characters of them (default recentLines × 512: line-budgets.ts). */
        recentChars: z.number().int().min(1024).optional(),
        /** Anomalies kept in memory per source (queries). */
        maxAnomalies: z.number().int().min(100).default(100_000),
        /** ...and at most this many characters of their lines (default maxAnomalies × 512: line-budgets.ts). */
        maxAnomalyChars: z.number().int().min(1024).optional(),
        /** Width of the per-interval line/anomaly counters. */
        bucketSeconds: z.number().int().min(1).max(3600).default(10),
      })
      .strict()
      .prefault({}),
    /**
     * Write-ahead spool of pushed lines (backend/spool): a push is answered 2xx only once its lines are fsynced
     * to <dataDir>/spool; lines not scored at a crash or a stop are scored after the next start, each once.
     */
    spool: z
      .object({
        enabled: z.boolean().default(true),
        /** Group commit: pushes arriving within this many ms share one write and one fsync. */
        fsyncIntervalMs: z.number().min(0).max(1000).default(2),
        /** A new segment file after this many bytes; segments whose lines are all scored are deleted. */
        segmentBytes: z.number().int().min(64 * 1024).default(64 * 1024 * 1024),
        /** How often the spool records how far each source is scored (and deletes spent segments). */
        checkpointIntervalMs: z.number().int().min(10).max(60_000).default(1000),
      })
      .strict()
      .prefault({}),
    /** POST /api/query stops a request that ran this long and answers 503 naming it (backend/api/query-deadline.ts). */
    queryDeadlineMs: z.number().int().min(100).max(600_000).default(10_000),
    /**
     * Line text held in memory by all sources together (memory-budget.ts): half for lines waiting (queues, first
     * training windows; beyond it 429), half for lines kept after scoring (beyond it the oldest go). Default: a
     * quarter of the heap limit, in characters.
     */
    memory: z
      .object({
        maxChars: z.number().int().min(16 * 1024 * 1024).optional(),
        /**
         * Bytes of request bodies in flight, all requests together (body-budget.ts): a body is reserved before it
         * is read, beyond it 429 + Retry-After. Default: a sixteenth of the heap limit.
         */
        bodyBytes: z.number().int().min(1024 * 1024).optional(),
        /**
         * Characters of JSON the fact-store's records may take (fact-store-bound.ts): past it POST /api/feedback is a
         * 507 and a DELETE makes room. Default: 64 Mi, or a sixteenth of the heap limit when less.
         */
        factStoreChars: z.number().int().min(1024 * 1024).optional(),
      })
      .strict()
      .prefault({}),
    /** Most distinct source names accepted from push endpoints (each gets its own model). */
    maxSources: z.number().int().min(1).default(100),
    /** Configured sources: each entry `{type, name, ...options}` is validated by its type's schema (sources registry). */
    sources: z.array(z.unknown()).default([]),
    /**
     * embedded: one process holds everything (today's behaviour, the default). cluster: the roles below share
     * state through NATS JetStream and PostgreSQL (docs/cluster.md). Other tools start clusters with these names.
     */
    mode: z.enum(['embedded', 'cluster']).default('embedded'),
    /** What this process does in cluster mode; one process may do all three. */
    roles: z
      .array(z.enum(['ingest', 'score', 'query']))
      .min(1, 'at least one of ingest, score, query')
      .transform((roles) => [...new Set(roles)])
      .default(['ingest', 'score', 'query']),
    cluster: z
      .object({
        /** e.g. nats://127.0.0.1:4222 (required in cluster mode). */
        natsUrl: z.string().min(1).optional(),
        /** e.g. postgres://postgres@127.0.0.1:5432/postgres (required in cluster mode). */
        postgresUrl: z.string().min(1).optional(),
        /** A scoring worker's lease on a source lasts this long unless renewed. */
        leaseSeconds: z.number().positive().max(3600).default(10),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type Config = Omit<z.infer<typeof ConfigSchema>, 'sources'> & { sources: SourceConfig[] };

/** The engine's ConfigError: one class for every configuration error, service or engine. */
export { ConfigError };

/** Env variable → config path. Numbers and booleans are converted before validation. */
const ENV_KEYS: Record<string, { path: string[]; type: EnvType }> = {
  LAD_PORT: { path: ['port'], type: 'number' },
  LAD_HOST: { path: ['host'], type: 'string' },
  LAD_DATA_DIR: { path: ['dataDir'], type: 'string' },
  LAD_API_TOKEN: { path: ['apiToken'], type: 'string' },
  LAD_METRICS_PUBLIC: { path: ['metricsPublic'], type: 'boolean' },
  LAD_ALLOW_UNAUTHENTICATED: { path: ['allowUnauthenticated'], type: 'boolean' },
  LAD_LOG_LEVEL: { path: ['logLevel'], type: 'string' },
  LAD_MAX_BODY_BYTES: { path: ['maxBodyBytes'], type: 'number' },
  LAD_MAX_LINE_BYTES: { path: ['maxLineBytes'], type: 'number' },
  LAD_MAX_CONNECTIONS: { path: ['maxConnections'], type: 'number' },
  LAD_DEMO: { path: ['demo', 'enabled'], type: 'boolean' },
  LAD_DEMO_LINES_PER_SECOND: { path: ['demo', 'linesPerSecond'], type: 'number' },
  LAD_TRAIN_LINES: { path: ['training', 'windowLines'], type: 'number' },
  LAD_TRAIN_SECONDS: { path: ['training', 'windowSeconds'], type: 'number' },
  LAD_TRAIN_MIN_LINES: { path: ['training', 'minLines'], type: 'number' },
  LAD_RETRAIN_INTERVAL_SECONDS: { path: ['training', 'retrainIntervalSeconds'], type: 'number' },
  LAD_TRAIN_IN_WORKER: { path: ['training', 'useWorker'], type: 'boolean' },
  LAD_QUEUE_MAX_LINES: { path: ['queue', 'maxLines'], type: 'number' },
  LAD_QUEUE_MAX_CHARS: { path: ['queue', 'maxChars'], type: 'number' },
  LAD_MEMORY_MAX_CHARS: { path: ['memory', 'maxChars'], type: 'number' },
  LAD_MEMORY_BODY_BYTES: { path: ['memory', 'bodyBytes'], type: 'number' },
  LAD_MEMORY_FACT_STORE_CHARS: { path: ['memory', 'factStoreChars'], type: 'number' },
  LAD_RETENTION_HOURS: { path: ['retention', 'hours'], type: 'number' },
  LAD_SPOOL: { path: ['spool', 'enabled'], type: 'boolean' },
  LAD_SPOOL_FSYNC_INTERVAL_MS: { path: ['spool', 'fsyncIntervalMs'], type: 'number' },
  LAD_QUERY_DEADLINE_MS: { path: ['queryDeadlineMs'], type: 'number' },
  LAD_MODE: { path: ['mode'], type: 'string' },
  LAD_ROLES: { path: ['roles'], type: 'list' },
  LAD_NATS_URL: { path: ['cluster', 'natsUrl'], type: 'string' },
  LAD_POSTGRES_URL: { path: ['cluster', 'postgresUrl'], type: 'string' },
  LAD_LEASE_SECONDS: { path: ['cluster', 'leaseSeconds'], type: 'number' },
};

type EnvType = 'string' | 'number' | 'boolean' | 'list';

function envValue(name: string, raw: string, type: EnvType): unknown {
  if (type === 'string') {
    return raw;
  }
  if (type === 'list') {
    // LAD_ROLES=ingest,score,query: comma separated, blanks ignored
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  if (type === 'number') {
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n)) {
      throw new ConfigError(`invalid configuration: ${name}=${JSON.stringify(raw)} is not a number`, name);
    }
    return n;
  }
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) {
    return true;
  }
  if (['0', 'false', 'no', 'off'].includes(v)) {
    return false;
  }
  throw new ConfigError(`invalid configuration: ${name}=${JSON.stringify(raw)} is not a boolean (true/false)`, name);
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let obj = target;
  for (const key of keys.slice(0, -1)) {
    const next = obj[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      obj[key] = {};
    }
    obj = obj[key] as Record<string, unknown>;
  }
  obj[keys[keys.length - 1]] = value;
}

/** Where a YAML syntax error is and what kind it is (the yaml package's code), without any of the text. */
function syntaxErrorPosition(err: unknown): string {
  if (err instanceof YAMLParseError) {
    const at = err.linePos?.[0];
    return `syntax error${at ? ` at line ${at.line}, column ${at.col}` : ''} (${err.code})`;
  }
  return 'syntax error';
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`invalid configuration: LAD_CONFIG=${file} cannot be read (${(err as Error).message})`, 'LAD_CONFIG');
  }
  let parsed: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    parsed = text.trim() === '' ? {} : parseYaml(text);
  } catch (err) {
    // The parser's message quotes the offending line, which may hold apiToken or a pull password: position only.
    throw new ConfigError(`invalid configuration: ${file} is not valid YAML/JSON: ${syntaxErrorPosition(err)} (the line is not shown: it may hold a secret)`, 'LAD_CONFIG');
  }
  if (parsed === null || parsed === undefined) {
    return {};
  }
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`invalid configuration: ${file} must hold an object of settings`, 'LAD_CONFIG');
  }
  return parsed as Record<string, unknown>;
}

/** Env var name for a config path, to name it in errors when it came from the environment. */
function envNameFor(pathKeys: PropertyKey[], env: NodeJS.ProcessEnv): string | undefined {
  const dotted = pathKeys.map(String).join('.');
  // A list variable's issue names an element (roles.0 for LAD_ROLES=querry): the variable holds the whole list.
  const covers = (specPath: readonly string[]): boolean => dotted === specPath.join('.') || dotted.startsWith(`${specPath.join('.')}.`);
  return Object.entries(ENV_KEYS).find(([name, spec]) => covers(spec.path) && env[name] !== undefined)?.[0];
}

/** LAD_API_TOKEN_FILE: the token from a file (container secrets), trimmed. Errors name the file, never its content. */
function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`invalid configuration: LAD_API_TOKEN_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'apiToken');
  }
}

/** Loopback only: 127.0.0.0/8, ::1, localhost. Anything else can be reached from other hosts. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Secure by default: beyond loopback, a token or an explicit opt-out. */
function checkExposure(config: Config): void {
  if (config.apiToken || config.allowUnauthenticated || isLoopback(config.host)) {
    return;
  }
  throw new ConfigError(
    `invalid configuration: host ${config.host} listens beyond loopback without an API token, so anyone who can reach it could push, query and rewrite feedback. ` +
      'Set LAD_API_TOKEN (at least 8 characters, e.g. LAD_API_TOKEN=$(openssl rand -hex 16)) or LAD_API_TOKEN_FILE, ' +
      'or listen on 127.0.0.1, or opt out explicitly with LAD_ALLOW_UNAUTHENTICATED=true (allowUnauthenticated: true).',
    'apiToken'
  );
}

/** Cluster mode cannot start without its two engines: name the missing field (and its env var). */
function checkCluster(config: Config, env: NodeJS.ProcessEnv): void {
  if (config.mode !== 'cluster') {
    return;
  }
  const required = [
    ['natsUrl', 'LAD_NATS_URL', 'nats://127.0.0.1:4222'],
    ['postgresUrl', 'LAD_POSTGRES_URL', 'postgres://postgres@127.0.0.1:5432/postgres'],
  ] as const;
  for (const [field, envName, example] of required) {
    if (config.cluster[field] === undefined) {
      const mode = env.LAD_MODE !== undefined ? ' (LAD_MODE=cluster)' : '';
      throw new ConfigError(
        `invalid configuration: cluster.${field} is required in cluster mode${mode}: set ${envName} (e.g. ${example}) or cluster.${field} in the config file`,
        `cluster.${field}`
      );
    }
  }
}

/**
 * Builds the validated configuration from LAD_CONFIG and the environment.
 * Throws ConfigError naming the offending key (config path and, when it came from there, the env var).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = env.LAD_CONFIG ? readConfigFile(env.LAD_CONFIG) : {};
  for (const [name, spec] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    // An empty LAD_API_TOKEN means "no token", as compose files often pass an empty variable through.
    if (value === undefined || (value === '' && name === 'LAD_API_TOKEN')) {
      continue;
    }
    setPath(raw, spec.path, envValue(name, value, spec.type));
  }
  if (env.LAD_API_TOKEN_FILE && !env.LAD_API_TOKEN) {
    setPath(raw, ['apiToken'], readTokenFile(env.LAD_API_TOKEN_FILE));
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issuePath(issue).join('.') || '(root)';
    const envName = envNameFor(issue.path, env);
    const where = envName ? `${key} (from ${envName})` : key;
    throw new ConfigError(`invalid configuration: ${where}: ${issue.message}`, key);
  }
  const sources = result.data.sources.map((entry, i) => {
    try {
      return parseSourceConfig(entry);
    } catch (err) {
      if (err instanceof SourceConfigError) {
        const key = err.field ? `sources.${i}.${err.field}` : `sources.${i}`;
        throw new ConfigError(`invalid configuration: sources.${i}: ${err.message}`, key);
      }
      throw err;
    }
  });
  const config: Config = { ...result.data, sources };
  const names = new Set<string>();
  for (const [i, source] of config.sources.entries()) {
    if (names.has(source.name) || (config.demo.enabled && source.name === 'demo')) {
      throw new ConfigError(`invalid configuration: sources.${i}.name: duplicate source name "${source.name}"`, `sources.${i}.name`);
    }
    names.add(source.name);
  }
  checkExposure(config);
  checkCluster(config, env);
  return { ...config, dataDir: path.resolve(config.dataDir) };
}
