import { sql } from 'drizzle-orm';
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimits } from '../config.js';
import type { Database } from '../db/client.js';
import { rateLimits } from './ratelimits.tables.js';

/** How often a user or an address may ask; `undefined` means go ahead, a number is seconds to wait. */
export interface RateLimiter {
  /** One root mutation field of a signed-in user. */
  mutation(userId: string): Promise<number | undefined>;
  /** One request or socket opening without a valid token, from `address`. */
  anonymous(address: string): Promise<number | undefined>;
}

/**
 * Counters in PostgreSQL (rate-limiter-flexible's Drizzle store, one atomic upsert per hit), so
 * every instance on the database counts against the same limit. A key over its limit is then
 * refused from memory until its window ends (no more writes under a flood); if the database
 * cannot be reached, each instance falls back to counting in its own memory. A limit of 0 is off.
 */
export function createRateLimiter(db: Database, limits: RateLimits): RateLimiter {
  const limiter = (keyPrefix: string, points: number) => {
    if (points <= 0) return undefined;
    const options = { keyPrefix, points, duration: limits.windowSeconds };
    return new RateLimiterDrizzle({
      ...options,
      storeClient: db,
      schema: rateLimits,
      inMemoryBlockOnConsumed: points,
      // The sweeper prunes expired rows (pruneRateLimits); no timer of the library's own.
      clearExpiredByTimeout: false,
      insuranceLimiter: new RateLimiterMemory(options),
    });
  };
  const consume = async (l: ReturnType<typeof limiter>, key: string) => {
    if (!l) return undefined;
    try {
      await l.consume(key);
      return undefined;
    } catch (res) {
      if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw res;
    }
  };
  const mutations = limiter('mutation', limits.mutationsPerUser);
  const anonymous = limiter('anonymous', limits.anonymousPerIp);
  return {
    mutation: (userId) => consume(mutations, userId),
    anonymous: (address) => consume(anonymous, address),
  };
}

/** Deletes counters whose window ended over an hour ago; returns how many. */
export async function pruneRateLimits(db: Database): Promise<number> {
  const gone = await db
    .delete(rateLimits)
    .where(sql`${rateLimits.expire} < now() - interval '1 hour'`)
    .returning({
      key: rateLimits.key,
    });
  return gone.length;
}
