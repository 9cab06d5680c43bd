import type { Viewer } from '../auth.js';
import { retentionOf } from '../contacts/contacts.rules.js';
import { factsOf, toEntry } from '../contacts/contacts.store.js';
import type { Loaders } from '../graphql/context.js';
import { pruneIdempotencyKeys } from '../idempotency/idempotency.js';
import {
  countMessages,
  findConversationOf,
  lockDueConversations,
  purgeMessages,
  updateRetention,
} from '../messages/messages.store.js';
import type { ConversationRow } from '../messages/messages.tables.js';
import { pruneNotices, publish } from '../notices/notices.outbox.js';
import { pruneRateLimits } from '../ratelimits/ratelimits.js';
import type { Deps } from '../shared/deps.js';
import { malformedId } from '../shared/ids.js';
import { ok, type Result, refuse } from '../shared/result.js';
import { historyVisible, type RetentionView } from './retention.rules.js';
import { loadRetentionFacts, type RetentionFacts } from './retention.store.js';

/**
 * T4: the viewer's retention status of a conversation they are a party of (a direct one in one
 * query). A malformed id → BAD_USER_INPUT; one the viewer is no party of → NOT_FOUND.
 */
export async function retentionStatus(
  deps: Deps,
  viewer: Viewer,
  conversationId: string,
): Promise<Result<RetentionView>> {
  const malformed = malformedId('uuid', conversationId, ['conversationId']);
  if (malformed) return malformed;
  const facts = await loadRetentionFacts(deps.db, conversationId, viewer.userId);
  if (!facts) {
    const c = await findConversationOf(deps.db, conversationId, viewer.userId);
    if (c?.kind === 'GROUP') return ok(groupStatus(c, await countMessages(deps.db, c.id)));
  }
  return statusOf(facts, deps.clock.now());
}

/**
 * T4 for a group's conversation, as a current member sees it: ACTIVE under T1 (a group's history
 * changes only by dissolution and per-user retention, which later rules add).
 */
export function groupStatus(c: ConversationRow, storedMessages: number): RetentionView {
  return {
    conversationId: c.id,
    state: 'ACTIVE',
    purgeAt: null,
    purgedAt: null,
    restorable: false,
    restorableUntil: null,
    reason: 'T1',
    visibleMessages: storedMessages,
  };
}

/**
 * T4 as `retentionStatus` answers it, for a conversation the request already holds (a row of a
 * page): its facts come from the request's loader, one statement for the whole page. NOT_FOUND
 * when the viewer is no party.
 */
export async function loadedRetentionStatus(
  deps: Deps,
  loaders: Pick<Loaders, 'retentionFacts'>,
  conversationId: string,
): Promise<Result<RetentionView>> {
  return statusOf(await loaders.retentionFacts.load(conversationId), deps.clock.now());
}

/** T4 from the viewer's facts about one conversation at `now`; NOT_FOUND without facts (no party). */
function statusOf(facts: RetentionFacts | null | undefined, now: Date): Result<RetentionView> {
  if (!facts) return refuse('NOT_FOUND', 'No such conversation.', ['conversationId']);
  const { conversation } = facts;
  const pair = {
    mine: toEntry(facts.mine),
    theirs: toEntry(facts.theirs),
    conversation: factsOf(conversation),
  };
  const visibleMessages = historyVisible(conversation, now) ? facts.storedMessages : 0;
  return ok({ ...retentionOf(pair, now), conversationId: conversation.id, visibleMessages });
}

export interface SweepCounts {
  purgedMessages: number;
  purgedFiles: number;
  purgedConversations: number;
  prunedNotices: number;
  prunedRateLimits: number;
  prunedIdempotencyKeys: number;
  durationMs: number;
}

const SWEEP_BATCH = 100; // conversations per transaction

/**
 * T5: purges every conversation whose R3 buffer ran out (found by index, one batch per
 * transaction, `SKIP LOCKED` so instances never double-purge), then prunes notices older than 7
 * days (N1), rate-limit counters whose window ended over an hour ago and idempotency keys past
 * their 24 hours. Idempotent: a second run finds nothing due. Never purges early: due means `purge_at <= now`.
 */
export async function runSweep(deps: Deps): Promise<SweepCounts> {
  const started = process.hrtime.bigint();
  const now = deps.clock.now();
  let purgedMessages = 0;
  let purgedFiles = 0;
  let purgedConversations = 0;
  for (;;) {
    const n = await deps.db.transaction(async (tx) => {
      const due = await lockDueConversations(tx, now, SWEEP_BATCH);
      for (const c of due) {
        const { messages: gone, files } = await purgeMessages(tx, c.id);
        await updateRetention(tx, c.id, {
          mutualSince: c.mutualSince,
          purgeAt: null,
          purgedAt: c.purgeAt ?? now, // R3: purged as of purgeAt; the sweep only deletes the rows
          purgedBy: 'R3',
        });
        await publish(
          tx,
          [
            {
              recipientIds: [c.userLow!, c.userHigh!],
              kind: 'ConversationPurged',
              payload: { conversationId: c.id, reason: 'R3', purgedMessages: gone },
            },
          ],
          now,
        );
        purgedMessages += gone;
        purgedFiles += files;
      }
      return due.length;
    });
    purgedConversations += n;
    if (n < SWEEP_BATCH) break;
  }
  const prunedNotices = await pruneNotices(deps.db, now);
  const prunedRateLimits = await pruneRateLimits(deps.db);
  const prunedIdempotencyKeys = await pruneIdempotencyKeys(deps.db, now);
  const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const counts = {
    purgedMessages,
    purgedFiles,
    purgedConversations,
    prunedNotices,
    prunedRateLimits,
    prunedIdempotencyKeys,
    durationMs,
  };
  if (purgedConversations + prunedNotices + prunedRateLimits + prunedIdempotencyKeys > 0) {
    deps.logger.info({ ...counts, now }, 'retention sweep');
  }
  return counts;
}
