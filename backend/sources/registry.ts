/**
 * Builds LogSource instances from config entries `{ type, name, ...options }`. Each source type brings a
 * strict zod schema whose `type` is a literal, so a bad entry is reported with the exact key
 * (e.g. `sources.2.path: Invalid input: expected string`), and an unknown `type` lists the known ones.
 *
 * To add a source type: export its schema and class from its own module, then add ONE line to SOURCE_TYPES.
 */
import { basename } from 'node:path';
import { z } from 'zod';
import { DemoSource, demoOptionsSchema } from './demo';
import { FileGlobSource } from './file-glob';
import { FileTailSource, fileTailConfigSchema, hasGlob } from './file-tail';
import type { LogSource } from './source';
import { SyslogSource, SyslogSourceConfigSchema } from './syslog';
import { LokiPullConfigSchema, LokiPullSource } from './loki-pull';
import { ElasticsearchPullConfigSchema, ElasticsearchPullSource } from './elasticsearch-pull';

/** A source type's schema must be a zod object with a literal `type` and a `name`. */
type SourceSchema = z.ZodObject<{ type: z.ZodLiteral<string>; name: z.ZodType<string> }>;

/** What the service tells the sources it builds. */
export interface SourceContext {
  /**
   * The service's data directory (from LAD_DATA_DIR or `dataDir` in LAD_CONFIG): file positions and pull
   * checkpoints go under it unless the entry names its own `dataDir`.
   */
  dataDir?: string;
}

interface SourceType<S extends SourceSchema> {
  schema: S;
  create(config: z.output<S>, context: SourceContext): LogSource;
}

function sourceType<S extends SourceSchema>(
  schema: S,
  create: (config: z.output<S>, context: SourceContext) => LogSource
): SourceType<S> {
  return { schema, create };
}


/** The demo source's options have no `type` of their own (the service also starts it from `demo:`). */
const demoConfigSchema = demoOptionsSchema.extend({ type: z.literal('demo') });

const SOURCE_TYPES = [
  sourceType(demoConfigSchema, ({ type: _type, ...options }) => new DemoSource(options)),
  sourceType(fileTailConfigSchema, (config, context) =>
    hasGlob(basename(config.path)) ? new FileGlobSource(config, context) : new FileTailSource(config, context)
  ),
  sourceType(SyslogSourceConfigSchema, (config) => new SyslogSource(config)),
  sourceType(LokiPullConfigSchema, (config, context) => new LokiPullSource(config, context)),
  sourceType(ElasticsearchPullConfigSchema, (config, context) => new ElasticsearchPullSource(config, context)),
] as const;

type Registered = (typeof SOURCE_TYPES)[number];
export type SourceConfig = z.output<Registered['schema']>;
export type SourceConfigInput = z.input<Registered['schema']>;
export type SourceTypeName = SourceConfig['type'];

function typeName(entry: Registered): string {
  return entry.schema.shape.type.value;
}

const byType = new Map<string, Registered>(SOURCE_TYPES.map((t) => [typeName(t), t]));

/** The names config files may use in `type`. */
export const SOURCE_TYPE_NAMES: readonly string[] = [...byType.keys()];

/** One source entry of the service config; validates the options of whichever `type` it names. */
export const sourceConfigSchema = z.discriminatedUnion(
  'type',
  SOURCE_TYPES.map((t) => t.schema) as unknown as [Registered['schema'], ...Array<Registered['schema']>],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? `unknown source type; known types: ${SOURCE_TYPE_NAMES.join(', ')}` : undefined,
  }
) as unknown as z.ZodType<SourceConfig, SourceConfigInput>;

export class SourceConfigError extends Error {
  constructor(
    message: string,
    /** Path of the bad key inside the entry, e.g. `path` or `multilineFlushMs`. */
    readonly field: string
  ) {
    super(message);
    this.name = 'SourceConfigError';
  }
}

/** Validates one config entry; the error names the bad key (`field`) and says what was wrong. */
export function parseSourceConfig(raw: unknown): SourceConfig {
  const result = sourceConfigSchema.safeParse(raw);
  if (result.success) {
    return result.data;
  }
  const issue = result.error.issues[0];
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    // zod reports unknown keys on the object; name the key itself, it is usually a typo.
    const field = [...path, issue.keys[0]].join('.');
    throw new SourceConfigError(`${field}: unknown option for this source type`, field);
  }
  const field = path.join('.');
  throw new SourceConfigError(field ? `${field}: ${issue.message}` : `source entry: ${issue.message}`, field);
}

/** Builds the source a config entry describes (validating it first when it is raw input). */
export function createSource(config: SourceConfigInput | SourceConfig, context: SourceContext = {}): LogSource {
  const parsed = parseSourceConfig(config);
  const entry = byType.get(parsed.type);
  if (!entry) {
    // Unreachable after parseSourceConfig; kept so a half-registered type fails loudly.
    throw new SourceConfigError(`unknown source type ${parsed.type}`, 'type');
  }
  return (entry.create as (config: SourceConfig, context: SourceContext) => LogSource)(parsed, context);
}
