import pino from 'pino';
import { ConfigError, loadConfig, type Config } from './config';
import { startClusterService } from '../cluster/cluster-service';
import { startQueryRole } from '../cluster/query-role';
import { startService } from './service';

/** `npm start`: load the configuration (LAD_CONFIG + LAD_* env), start the service, stop cleanly on signals. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lad server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel });
  // cluster mode: the roles in config.roles, sharing state through NATS JetStream and PostgreSQL
  const service = config.mode === 'cluster' ? await startClusterService(config, { logger, query: startQueryRole }) : await startService(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    service.close().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      }
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`lad server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
