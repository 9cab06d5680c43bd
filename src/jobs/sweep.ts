// T5, one engine for all due work: R3's purge of direct conversations, the timed steps of group
// dissolutions (G3, G5, G6) and their batched purges, then the housekeeping prunes. Every part finds
// its due rows by index on a stored instant, claims them `FOR UPDATE SKIP LOCKED` and makes each
// step once, so any number of instances may sweep at once and a second run finds nothing to do.
import { advanceDissolutions } from '../groups/dissolution.service.js';
import { pruneIdempotencyKeys } from '../idempotency/idempotency.js';
import { pruneNotices } from '../notices/notices.outbox.js';
import { pruneRateLimits } from '../ratelimits/ratelimits.js';
import { purgeDueConversations } from '../retention/retention.service.js';
import type { Deps } from '../shared/deps.js';

/** What one sweep did (`runRetentionSweep`'s `SweepRun`, `npm run sweep`'s JSON). */
export interface SweepCounts {
  /** Messages deleted: R3 buffers that ran out and finalized dissolutions without kept history. */
  purgedMessages: number;
  /** Files deleted: with those messages, and the files of finalized dissolutions (G3). */
  purgedFiles: number;
  /** Direct conversations whose R3 buffer ran out. */
  purgedConversations: number;
  /** Scheduled dissolutions that took effect (G5). */
  dissolutionsEffective: number;
  /** Dissolutions whose undo window ended (G3, G6). */
  dissolutionsFinalized: number;
  /** Payment records that left their dissolved group (G3); the ledgers keep them. */
  paymentsDetached: number;
  prunedNotices: number;
  prunedRateLimits: number;
  prunedIdempotencyKeys: number;
  durationMs: number;
}

/** One sweep at the clock's `now`; logs a line when it did anything. */
export async function runSweep(deps: Deps): Promise<SweepCounts> {
  const started = process.hrtime.bigint();
  const now = deps.clock.now();
  const direct = await purgeDueConversations(deps, now);
  const groups = await advanceDissolutions(deps, now);
  const prunedNotices = await pruneNotices(deps.db, now);
  const prunedRateLimits = await pruneRateLimits(deps.db);
  const prunedIdempotencyKeys = await pruneIdempotencyKeys(deps.db, now);
  const counts: SweepCounts = {
    purgedMessages: direct.purgedMessages + groups.purgedMessages,
    purgedFiles: direct.purgedFiles + groups.purgedFiles + groups.filesDeleted,
    purgedConversations: direct.purgedConversations,
    dissolutionsEffective: groups.dissolutionsEffective,
    dissolutionsFinalized: groups.dissolutionsFinalized,
    paymentsDetached: groups.paymentsDetached,
    prunedNotices,
    prunedRateLimits,
    prunedIdempotencyKeys,
    durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
  };
  const { durationMs: _, ...work } = counts;
  if (Object.values(work).some((n) => n > 0)) deps.logger.info({ ...counts, now }, 'retention sweep');
  return counts;
}
