import type { Viewer } from '../auth.js';
import { retentionOf } from '../contacts/contacts.rules.js';
import { factsOf, toEntry } from '../contacts/contacts.store.js';
import type { Loaders } from '../graphql/context.js';
import { inForce, purgeAtOf, stateAt } from '../groups/dissolution.rules.js';
import { inForceDissolution } from '../groups/dissolution.store.js';
import type { DissolutionRow } from '../groups/groups.tables.js';
import {
  countMessages,
  findConversationOf,
  lockDueConversations,
  purgeMessages,
  updateRetention,
} from '../messages/messages.store.js';
import type { ConversationRow } from '../messages/messages.tables.js';
import { publish } from '../notices/notices.outbox.js';
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
    if (c?.kind === 'GROUP') {
      const d = await inForceDissolution(deps.db, c.groupId!);
      return ok(groupStatus(c, await countMessages(deps.db, c.id), d, deps.clock.now()));
    }
  }
  return statusOf(facts, deps.clock.now());
}

/**
 * T4 for a group's conversation, as a member sees it (SPEC G3, G5, G6): ACTIVE under T1; with a
 * dissolution scheduled, still ACTIVE (reason G5), with the planned purge instant when history is
 * not kept; DISSOLVED from `effectiveAt` (reason G3), restorable until `undoUntil` (G6); once
 * final without kept history, no message is visible (they are purged at `undoUntil`).
 */
export function groupStatus(
  c: ConversationRow,
  storedMessages: number,
  dissolution: DissolutionRow | null | undefined,
  now: Date,
): RetentionView {
  const base: RetentionView = {
    conversationId: c.id,
    state: 'ACTIVE',
    purgeAt: null,
    purgedAt: null,
    restorable: false,
    restorableUntil: null,
    reason: 'T1',
    visibleMessages: historyVisible(c, now) ? storedMessages : 0,
  };
  if (!dissolution || !inForce(dissolution)) return base;
  const state = stateAt(dissolution, now);
  const purgeAt = purgeAtOf(dissolution);
  if (state === 'SCHEDULED') return { ...base, purgeAt, reason: 'G5' };
  const open = state === 'EFFECTIVE';
  return {
    ...base,
    state: 'DISSOLVED',
    purgeAt,
    purgedAt: purgeAt && !open ? purgeAt : null,
    restorable: open,
    restorableUntil: open ? dissolution.undoUntil : null,
    reason: 'G3',
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

export interface ConversationPurges {
  purgedMessages: number;
  purgedFiles: number;
  purgedConversations: number;
}

const SWEEP_BATCH = 100; // conversations per transaction

/**
 * R3/T5: purges every direct conversation whose buffer ran out (found by index, one batch per
 * transaction, `SKIP LOCKED` so instances never double-purge). Idempotent: a second run finds
 * nothing due. Never purges early: due means `purge_at <= now`.
 */
export async function purgeDueConversations(deps: Deps, now: Date): Promise<ConversationPurges> {
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
  return { purgedMessages, purgedFiles, purgedConversations };
}
