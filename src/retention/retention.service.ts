import { sql } from 'drizzle-orm';
import type { Viewer } from '../auth.js';
import { retentionOf } from '../contacts/contacts.rules.js';
import { factsOf, toEntry } from '../contacts/contacts.store.js';
import type { Loaders } from '../graphql/context.js';
import { inForce, purgeAtOf, stateAt } from '../groups/dissolution.rules.js';
import { inForceDissolution } from '../groups/dissolution.store.js';
import type { DissolutionRow } from '../groups/groups.tables.js';
import {
  countUnpurged,
  countVisible,
  findConversation,
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
import { directRetention, historyVisible, type RetentionView } from './retention.rules.js';
import {
  cutoffOf,
  loadRetentionFacts,
  lockDueExpiries,
  longestDaysOf,
  type RetentionFacts,
  setNextExpiry,
  starredByParticipant,
} from './retention.store.js';

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
  const now = deps.clock.now();
  const facts = await loadRetentionFacts(deps.db, conversationId, viewer.userId, now);
  if (!facts) {
    const c = await findConversationOf(deps.db, conversationId, viewer.userId);
    if (c?.kind === 'GROUP') {
      const d = await inForceDissolution(deps.db, c.groupId!);
      const visible = await countVisible(deps.db, { viewerId: viewer.userId, now }, c.id);
      return ok(groupStatus(c, visible, d, now));
    }
    if (!c && viewer.operator) {
      const any = await findConversation(deps.db, conversationId);
      if (any) return ok(await conversationWide(deps, any, now));
    }
  }
  return statusOf(facts, deps.clock.now());
}

/**
 * T4 for an operator who is no party: the conversation-wide state (R3's buffer or purge, a
 * dissolution), as nobody's view — no period of theirs applies, `visibleMessages` counts what is
 * not purged. `holds` (resolved for operators) says what is frozen.
 */
async function conversationWide(deps: Deps, c: ConversationRow, now: Date): Promise<RetentionView> {
  const stored = await countUnpurged(deps.db, c.id);
  if (c.kind === 'GROUP') return groupStatus(c, stored, await inForceDissolution(deps.db, c.groupId!), now);
  const view = c.purgedAt || c.purgeAt ? 'MUTUALLY_DELETED' : 'FRIEND';
  const visibleMessages = historyVisible(c, now) ? stored : 0;
  return { ...directRetention(view, factsOf(c), now), conversationId: c.id, visibleMessages };
}

/**
 * T4 for a group's conversation, as a member sees it (G3, G5, G6, G9): ACTIVE under T1; while a
 * dissolution waits for the guardian, ACTIVE with reason G9 and nothing planned; with a
 * dissolution scheduled, still ACTIVE (reason G5), with the planned purge instant when history is
 * not kept; DISSOLVED from `effectiveAt` (reason G3), restorable until `undoUntil` (G6); once
 * final without kept history, no message is visible (they are purged at `undoUntil`).
 */
export function groupStatus(
  c: ConversationRow,
  visibleMessages: number,
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
    visibleMessages: historyVisible(c, now) ? visibleMessages : 0,
  };
  if (!dissolution || !inForce(dissolution)) return base;
  const state = stateAt(dissolution, now);
  // G9: nothing is planned while the guardian has not confirmed, nor after the request lapsed
  // (before the sweeper records it): the group is alive.
  if (state === 'PENDING_CONFIRMATION') return { ...base, reason: 'G9' };
  if (state === 'CANCELLED') return base;
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
  const visibleMessages = historyVisible(conversation, now) ? facts.visibleMessages : 0;
  return ok({ ...retentionOf(pair, now), conversationId: conversation.id, visibleMessages });
}

export interface ConversationPurges {
  /** Message rows deleted. */
  purgedMessages: number;
  /** File rows deleted with them. */
  purgedFiles: number;
  purgedConversations: number;
  /** Message rows a legal hold kept (T3), gone for every reader all the same. */
  heldBack: number;
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
  let heldBack = 0;
  for (;;) {
    const n = await deps.db.transaction(async (tx) => {
      const due = await lockDueConversations(tx, now, SWEEP_BATCH);
      for (const c of due) {
        const { messages: gone, held, deleted, deletedFiles } = await purgeMessages(tx, c.id, now);
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
        purgedMessages += deleted;
        purgedFiles += deletedFiles;
        heldBack += held;
      }
      return due.length;
    });
    purgedConversations += n;
    if (n < SWEEP_BATCH) break;
  }
  return { purgedMessages, purgedFiles, purgedConversations, heldBack };
}

export interface Expiries {
  /** Message rows deleted because they left every participant's view (T2), or whose hold ended. */
  expiredMessages: number;
  expiredFiles: number;
  /** Rows a legal hold kept (T3). */
  heldBack: number;
  /** Conversations looked at. */
  conversations: number;
}

const T2_CONVERSATIONS = 20; // conversations per transaction
const T2_BATCH = 5_000; // messages per conversation per transaction

/**
 * T2/T5: deletes the messages that left every participant's view — older than the longest period
 * among the participants and starred by none of them — and the rows purged earlier under a hold
 * that no hold covers any more. Due conversations come from the `t2_next_at` index, locked `FOR NO
 * KEY UPDATE SKIP LOCKED` (sends go on meanwhile; two sweepers never take the same one); one batch
 * per conversation per transaction, until nothing is due. A row under a hold is kept with
 * `purged_at` set (gone for every reader all the same). Then `t2_next_at` moves to when the next
 * stored message can leave every view.
 */
export async function expireDueMessages(deps: Deps, now: Date): Promise<Expiries> {
  const out: Expiries = { expiredMessages: 0, expiredFiles: 0, heldBack: 0, conversations: 0 };
  for (;;) {
    const n = await deps.db.transaction(async (tx) => {
      const due = await lockDueExpiries(tx, now, T2_CONVERSATIONS);
      for (const c of due) {
        const days = await longestDaysOf(tx, c.id);
        const expired =
          days === null
            ? sql`FALSE`
            : sql`(m.sent_at <= ${cutoffOf(sql`${days}::int`, now)} AND NOT ${starredByParticipant(sql`m`, sql`c`)})`;
        const gone = await purgeMessages(tx, c.id, now, {
          which: sql`(m.purged_at IS NOT NULL OR ${expired})`,
          limit: T2_BATCH,
        });
        out.expiredMessages += gone.deleted;
        out.expiredFiles += gone.deletedFiles;
        out.heldBack += gone.held;
        await setNextExpiry(tx, c.id, days, now, gone.deleted === T2_BATCH);
      }
      out.conversations += due.length;
      return due.length;
    });
    if (n === 0) return out;
  }
}
