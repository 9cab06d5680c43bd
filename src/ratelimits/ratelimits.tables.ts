import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Rate-limit counters (rate-limiter-flexible's Drizzle store): one row per key and window, shared
 * by every instance on the database, so a limit holds across instances. Rows past `expire` are
 * dead (the store restarts their count) and are pruned by the sweeper.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    /** `<limit>:<user id or client address>`. */
    key: text('key').primaryKey(),
    /** Points consumed in the current window. */
    points: integer('points').notNull().default(0),
    /** When the current window ends. */
    expire: timestamp('expire', { withTimezone: true, mode: 'date' }),
  },
  // The sweeper finds dead counters by this index (T5: a run with nothing due probes, never scans).
  (t) => [index('rate_limits_expire_idx').on(t.expire)],
);
