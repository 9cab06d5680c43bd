import { createApp } from './app.js';
import { OffsetClock, systemClock } from './clock.js';
import { ConfigError, loadConfig } from './config.js';
import { loadProofSigner } from './contacts/contacts.proof.js';
import { openDatabaseOrExit } from './db/client.js';
import { migrateDatabase } from './db/migrate.js';
import { startSweeper } from './jobs/sweeper.js';
import { createLogger } from './logger.js';

/** The process shell: config → database → migrations → app → sweeper; SIGTERM/SIGINT → graceful stop. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ties: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config);
  const clock = config.timeTravel ? new OffsetClock() : systemClock;
  const database = await openDatabaseOrExit({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    logger,
    poolSize: config.databasePoolSize,
  });
  logger.info({ driver: database.driver }, 'database opened');
  await migrateDatabase(database);
  const proof = await loadProofSigner(config.proofKey, config.dataDir);
  const app = createApp({ config, database, clock, logger, proof });
  const url = await app.start(config.port);
  // Once listening, where a person goes next (the log line above carries the same for machines).
  const base = url.replace('127.0.0.1', 'localhost');
  const where = [`${config.graphiql ? 'GraphiQL' : 'GraphQL'} ${base}/graphql`];
  if (config.demo) where.push(`demo ${base}/demo`);
  process.stdout.write(`ties: ${where.join(' · ')}\n`);
  const sweeper = startSweeper(app.deps, config.sweepIntervalSeconds);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: draining requests and sockets');
    const force = setTimeout(() => {
      logger.error(`graceful stop took longer than ${config.stopTimeoutSeconds} s; exiting`);
      process.exit(1);
    }, config.stopTimeoutSeconds * 1000);
    force.unref();
    // Both at once: /readyz must turn 503 now, not after a running sweep's batch.
    await Promise.all([sweeper.stop(), app.stop()]);
    await database.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(
    `ties: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
