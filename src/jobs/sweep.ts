// T5, one engine for all due work: R3's purge of direct conversations, the timed steps of group
// dissolutions (G3, G5, G6) and their batched purges, then the housekeeping prunes. Every part finds
// its due rows by index on a stored instant, claims them `FOR UPDATE SKIP LOCKED` and makes each
// step once, so any number of instances may sweep at once and a second run finds nothing to do.

import { sql } from 'drizzle-orm';
import { appendAudit } from '../audit/audit.service.js';
import { type Db, rows } from '../db/client.js';
import { advanceDissolutions, NO_DISSOLUTION_WORK } from '../groups/dissolution.service.js';
import { IDEMPOTENCY_WINDOW_MS, pruneIdempotencyKeys } from '../idempotency/idempotency.js';
import { NOTICE_RETENTION_MS, pruneNotices } from '../notices/notices.outbox.js';
import { pruneRateLimits } from '../ratelimits/ratelimits.js';
import { expireDueMessages, purgeDueConversations } from '../retention/retention.service.js';
import type { Deps } from '../shared/deps.js';

/** What one sweep did (`runRetentionSweep`'s `SweepRun`, `npm run sweep`'s JSON). */
export interface SweepCounts {
  /** Message rows deleted: R3 buffers that ran out, finalized dissolutions without kept history, T2 expiries. */
  purgedMessages: number;
  /** Files deleted: with those messages, and the files of finalized dissolutions (G3). */
  purgedFiles: number;
  /** Direct conversations whose R3 buffer ran out. */
  purgedConversations: number;
  /** G9: dissolutions whose guardian did not answer in 72 hours. */
  dissolutionsLapsed: number;
  /** Scheduled dissolutions that took effect (G5). */
  dissolutionsEffective: number;
  /** Dissolutions whose undo window ended (G3, G6). */
  dissolutionsFinalized: number;
  /** Payment records that left their dissolved group (G3); the ledgers keep them. */
  paymentsDetached: number;
  /** Message rows a legal hold kept (T3): gone for every reader, deleted once released. */
  heldBack: number;
  prunedNotices: number;
  prunedRateLimits: number;
  prunedIdempotencyKeys: number;
  durationMs: number;
}

/** One sweep at the clock's `now`; logs a line when it did anything. */
export async function runSweep(deps: Deps): Promise<SweepCounts> {
  const started = process.hrtime.bigint();
  const now = deps.clock.now();
  // One statement first: which kinds of work are due at all (an index probe each). An idle run
  // ends here; the parts below open transactions only for what is due.
  const due = await probeDue(deps.db, now);
  const direct = due.direct ? await purgeDueConversations(deps, now) : NO_PURGES;
  const groups = due.groups ? await advanceDissolutions(deps, now) : NO_DISSOLUTION_WORK;
  const expiries = due.expiries ? await expireDueMessages(deps, now) : NO_EXPIRIES;
  const prunedNotices = due.notices ? await pruneNotices(deps.db, now) : 0;
  const prunedRateLimits = due.rateLimits ? await pruneRateLimits(deps.db) : 0;
  const prunedIdempotencyKeys = due.idempotencyKeys ? await pruneIdempotencyKeys(deps.db, now) : 0;
  const counts: SweepCounts = {
    purgedMessages: direct.purgedMessages + groups.purgedMessages + expiries.expiredMessages,
    purgedFiles: direct.purgedFiles + groups.purgedFiles + groups.filesDeleted + expiries.expiredFiles,
    purgedConversations: direct.purgedConversations,
    dissolutionsLapsed: groups.dissolutionsLapsed,
    dissolutionsEffective: groups.dissolutionsEffective,
    dissolutionsFinalized: groups.dissolutionsFinalized,
    paymentsDetached: groups.paymentsDetached,
    heldBack: direct.heldBack + groups.heldBack + expiries.heldBack,
    prunedNotices,
    prunedRateLimits,
    prunedIdempotencyKeys,
    durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
  };
  deps.metrics.sweep({ ...counts });
  const { durationMs: _, ...work } = counts;
  if (Object.values(work).some((n) => n > 0)) {
    deps.logger.info({ ...counts, now }, 'retention sweep');
    await auditSweep(deps, counts, now);
  }
  return counts;
}

/** The subject of the sweeper's own audit chain (T5): one chain, read by operators. */
export const SWEEP_SUBJECT = '00000000-0000-4000-8000-000000005eed';

/** T5: a run that did anything appends its counts to the sweeper's chain (G11). */
async function auditSweep(deps: Deps, counts: SweepCounts, now: Date): Promise<void> {
  await deps.db.transaction((tx) =>
    appendAudit(tx, {
      subjectId: SWEEP_SUBJECT,
      subjectKind: 'SWEEP',
      kind: 'SWEEP_RUN',
      actorId: null,
      data: { ...counts },
      at: now,
    }),
  );
}

const NO_PURGES = { purgedMessages: 0, purgedFiles: 0, purgedConversations: 0, heldBack: 0 };
const NO_EXPIRIES = { expiredMessages: 0, expiredFiles: 0, heldBack: 0, conversations: 0 };

/**
 * Which kinds of due work exist at `now`, in one statement of index probes (each `EXISTS … <=
 * now` on the partial or plain index of its stored instant): R3 buffers, dissolution steps and
 * finalized group purges, T2 expiries, and the three prunes.
 */
async function probeDue(db: Db, now: Date) {
  const cutoff = new Date(now.getTime() - NOTICE_RETENTION_MS);
  const keysBefore = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
  const [r] = await rows<
    Record<'direct' | 'groups' | 'expiries' | 'notices' | 'rateLimits' | 'idempotencyKeys', boolean>
  >(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM conversations WHERE purge_at <= ${now} AND kind = 'DIRECT') AS direct,
               (EXISTS (SELECT 1 FROM dissolutions WHERE next_due_at <= ${now})
                OR EXISTS (SELECT 1 FROM conversations WHERE purge_at <= ${now} AND kind = 'GROUP')) AS groups,
               EXISTS (SELECT 1 FROM conversations WHERE t2_next_at <= ${now}) AS expiries,
               EXISTS (SELECT 1 FROM notices WHERE at < ${cutoff}) AS notices,
               EXISTS (SELECT 1 FROM rate_limits WHERE expire < now() - interval '1 hour') AS "rateLimits",
               EXISTS (SELECT 1 FROM idempotency_keys WHERE created_at < ${keysBefore}) AS "idempotencyKeys"`,
  );
  return r!;
}
