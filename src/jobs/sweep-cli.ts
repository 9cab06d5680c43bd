// `npm run sweep`: one retention sweep (T5) against the configured database; prints the counts as JSON.
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { loadProofSigner } from '../contacts/contacts.proof.js';
import { openDatabaseOrExit } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { NoticeBus } from '../notices/notices.bus.js';
import { createRateLimiter } from '../ratelimits/ratelimits.js';
import { runSweep } from './sweep.js';

const config = loadConfig();
const logger = createLogger(config);
const database = await openDatabaseOrExit({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
  logger,
});
await migrateDatabase(database);
const proof = await loadProofSigner(config.proofKey, config.dataDir);
const bus = new NoticeBus(database, logger); // not started: the sweep only writes notices
const counts = await runSweep({
  config,
  db: database.db,
  clock: systemClock,
  logger,
  bus,
  proof,
  rateLimiter: createRateLimiter(database.db, config.rateLimits),
  metrics: createMetrics(bus),
});
await database.close();
process.stdout.write(`${JSON.stringify(counts)}\n`);
