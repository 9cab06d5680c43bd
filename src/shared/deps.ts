// What every use case may need, built once per app (no globals): every area's service takes it.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ProofSigner } from '../contacts/contacts.proof.js';
import type { Database } from '../db/client.js';
import type { Metrics } from '../metrics.js';
import type { NoticeBus } from '../notices/notices.bus.js';
import type { RateLimiter } from '../ratelimits/ratelimits.js';

/** What every use case may need; built once per app, no globals. */
export interface Deps {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
  bus: NoticeBus;
  proof: ProofSigner;
  rateLimiter: RateLimiter;
  metrics: Metrics;
}
