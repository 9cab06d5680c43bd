// `npm run db:migrate`: applies pending migrations to the configured database (PGlite when DATABASE_URL is unset).
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { openDatabaseOrExit } from './client.js';
import { migrateDatabase } from './migrate.js';

const config = loadConfig();
const logger = createLogger(config);
const database = await openDatabaseOrExit({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
  logger,
});
await migrateDatabase(database);
await database.close();
logger.info({ driver: database.driver }, 'migrations applied');
