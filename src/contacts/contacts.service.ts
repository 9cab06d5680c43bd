import { sql } from 'drizzle-orm';
import type { Viewer } from '../auth.js';
import type { Db } from '../db/client.js';
import {
  countVisible,
  createDirect,
  findDirect,
  purgeMessages,
  updateRetention,
} from '../messages/messages.store.js';
import type { ConversationRow } from '../messages/messages.tables.js';
import { publish } from '../notices/notices.outbox.js';
import type { NewNotice } from '../notices/notices.store.js';
import { historyVisible, type RetentionView } from '../retention/retention.rules.js';
import { refreshT2 } from '../retention/retention.store.js';
import type { Deps } from '../shared/deps.js';
import { isUuid, malformedId, requireId } from '../shared/ids.js';
import { ok, onField, type Refusal, type Result, refuse } from '../shared/result.js';
import { userExists } from '../users/users.store.js';
import {
  type ContactAction,
  type ContactState,
  checkGreeting,
  decideAccept,
  decideBlock,
  decideDelete,
  decideRequest,
  decideUnblock,
  type NoticeLevel,
  type Outcome,
  type Pair,
  type Preview,
  preview,
  proofOf,
  retentionOf,
  tellings,
  viewOf,
} from './contacts.rules.js';
import {
  factsOf,
  findPending,
  findPendingBothWays,
  findRequest,
  insertRequest,
  listContacts,
  loadEntries,
  loadPairForUpdate,
  lockPairAndFindPeer,
  saveEntry,
  settleRequestsOnBlock,
  updateRequest,
} from './contacts.store.js';
import type { FriendRequestRow } from './contacts.tables.js';

/** The viewer's view of one pair: what `Contact` resolves from. */
export interface ContactView {
  ownerId: string;
  peerId: string;
  state: ContactState;
  since: Date;
  conversationId: string;
}

/** A pair as the actor sees it, inside the transaction that holds its lock. */
interface Locked {
  tx: Db;
  actorId: string;
  peerId: string;
  pair: Pair;
  conversation: ConversationRow | undefined;
  now: Date;
}

/**
 * Runs one pair use case in one transaction that holds the pair's lock: validates the peer
 * (BAD_USER_INPUT when malformed or the actor, NOT_FOUND when unknown), loads both entries and the
 * conversation (locked), and hands them to `fn`.
 */
async function withPair<T>(
  deps: Deps,
  actorId: string,
  peerId: string,
  fn: (l: Locked) => Promise<Result<T>>,
) {
  const malformed = malformedId('user', peerId, ['input', 'userId']);
  if (malformed) return malformed;
  if (peerId === actorId) return refuse('BAD_USER_INPUT', 'That is you.', ['input', 'userId']);
  return deps.db.transaction(async (tx): Promise<Result<T>> => {
    if (!(await lockPairAndFindPeer(tx, actorId, peerId)))
      return refuse('NOT_FOUND', 'No such user.', ['input', 'userId']);
    const { ab, ba, conversation } = await loadPairForUpdate(tx, actorId, peerId);
    const pair: Pair = { mine: ab, theirs: ba, conversation: factsOf(conversation) };
    return fn({ tx, actorId, peerId, pair, conversation, now: deps.clock.now() });
  });
}

interface Applied {
  conversation: ConversationRow;
  purgedMessages: number;
  notices: NewNotice[];
}

/**
 * Writes an outcome: both entries, the conversation's retention, an R3/R4 purge. Returns the
 * notices each side is entitled to (`tellings`: never the other side's invisible changes, R2, N3).
 */
async function apply(
  l: Locked,
  o: Outcome,
  deviceId: string | undefined,
  level: NoticeLevel = 'SILENT',
): Promise<Applied> {
  const { tx, actorId, peerId, pair, now } = l;
  if (o.pair.mine !== pair.mine) await saveEntry(tx, actorId, peerId, o.pair.mine);
  if (o.pair.theirs !== pair.theirs) await saveEntry(tx, peerId, actorId, o.pair.theirs);
  let conversation = l.conversation;
  if (!conversation) {
    conversation = await createDirect(tx, actorId, peerId, now);
    await refreshT2(tx, sql`c.id = ${conversation.id}`, now); // T2: the parties' default periods
  }
  const purgedMessages = o.purgeNow ? (await purgeMessages(tx, conversation.id, now)).messages : 0;
  const c = o.pair.conversation;
  const b = factsOf(conversation);
  if (
    c.mutualSince !== b.mutualSince ||
    c.purgeAt !== b.purgeAt ||
    c.purgedAt !== b.purgedAt ||
    c.purgedBy !== b.purgedBy
  ) {
    conversation = await updateRetention(tx, conversation.id, c);
  }
  const told = tellings(pair, o, level);
  const notices: NewNotice[] = [];
  if (told.actor) {
    notices.push({
      recipientIds: [actorId],
      kind: 'ContactChanged',
      payload: { peerId, state: told.actor.state, deviceId: deviceId ?? null },
    });
  }
  if (told.peer) {
    notices.push({
      recipientIds: [peerId],
      kind: 'ContactChanged',
      payload: { peerId: actorId, state: told.peer.state, deviceId: null },
    });
  }
  if (told.removedYou) {
    notices.push({ recipientIds: [peerId], kind: 'ContactRemovedYou', payload: { byUserId: actorId } });
  }
  if (o.purgeNow && told.purgeToldTo.length > 0) {
    notices.push({
      recipientIds: told.purgeToldTo.map((side) => (side === 'ACTOR' ? actorId : peerId)),
      kind: 'ConversationPurged',
      payload: { conversationId: conversation.id, reason: o.purgeNow, purgedMessages },
    });
  }
  return { conversation, purgedMessages, notices };
}

function contactView(
  ownerId: string,
  peerId: string,
  pair: Pair,
  conversationId: string,
): ContactView | null {
  const state = viewOf(pair);
  if (!state || !pair.mine) return null;
  return { ownerId, peerId, state, since: pair.mine.since, conversationId };
}

// --- R1 --------------------------------------------------------------------------------------------

/** R1/R2: `sendFriendRequest`. */
export async function sendFriendRequest(
  deps: Deps,
  viewer: Viewer,
  input: { userId: string; greeting?: string | null },
): Promise<Result<{ request: FriendRequestRow; contact: ContactView | null }>> {
  const checked = checkGreeting(input.greeting);
  if (!checked.ok) return onField(checked, ['input', 'greeting']);
  const { greeting } = checked;
  return withPair(deps, viewer.userId, input.userId, async (l) => {
    const { tx, actorId, peerId, now } = l;
    const { fromA: mineOut, fromB: theirsIn } = await findPendingBothWays(tx, actorId, peerId);
    const d = decideRequest({
      pair: l.pair,
      pendingFromMe: mineOut !== undefined,
      pendingFromThem: theirsIn !== undefined && !theirsIn.hidden,
      now,
    });
    if (!d.ok) return onField(d, ['input', 'userId']);
    const notices: NewNotice[] = [];
    let request: FriendRequestRow;
    // The viewer's view afterwards: unchanged by a (possibly hidden) pending request.
    let contact = l.conversation ? contactView(actorId, peerId, l.pair, l.conversation.id) : null;
    if (d.kind === 'DUPLICATE') {
      request = mineOut!;
      // R1: a request hidden by a block that has since been lifted is shown now.
      if (request.hidden && l.pair.theirs?.state !== 'BLOCKED') {
        request = await updateRequest(tx, request.id, { hidden: false });
        notices.push(receivedNotice(request));
      }
    } else if (d.kind === 'REQUEST') {
      request = await insertRequest(tx, {
        fromId: actorId,
        toId: peerId,
        greeting,
        status: 'PENDING',
        hidden: d.hidden,
        createdAt: now,
        respondedAt: null,
      });
      if (!d.hidden) notices.push(receivedNotice(request));
    } else {
      const applied = await apply(l, d.outcome, viewer.deviceId);
      notices.push(...applied.notices);
      if (d.kind === 'ACCEPT_THEIRS') {
        await updateRequest(tx, theirsIn!.id, { status: 'ACCEPTED', respondedAt: now });
        notices.push(acceptedNotice(theirsIn!, actorId, applied.conversation.id));
      }
      if (d.kind === 'ACCEPT_THEIRS' && mineOut) {
        // The actor's own pending request (crossed) is answered by the same friendship.
        request = await updateRequest(tx, mineOut.id, { status: 'ACCEPTED', respondedAt: now });
      } else {
        // R2 restore (or a crossed request): recorded as a request accepted at once.
        request = await insertRequest(tx, {
          fromId: actorId,
          toId: peerId,
          greeting,
          status: 'ACCEPTED',
          hidden: d.kind === 'RESTORE',
          createdAt: now,
          respondedAt: now,
        });
      }
      contact = contactView(actorId, peerId, d.outcome.pair, applied.conversation.id);
    }
    await publish(tx, notices, now);
    return ok({ request, contact });
  });
}

const receivedNotice = (r: FriendRequestRow): NewNotice => ({
  recipientIds: [r.toId],
  kind: 'FriendRequestReceived',
  payload: { requestId: r.id, fromUserId: r.fromId, greeting: r.greeting },
});

const acceptedNotice = (r: FriendRequestRow, byUserId: string, conversationId: string): NewNotice => ({
  recipientIds: [r.fromId],
  kind: 'FriendRequestAccepted',
  payload: { requestId: r.id, byUserId, conversationId },
});

/**
 * R1: the recipient accepts or declines. A malformed id → BAD_USER_INPUT; an unknown, hidden or
 * someone else's request → NOT_FOUND.
 */
export async function respondToFriendRequest(
  deps: Deps,
  viewer: Viewer,
  input: { requestId: string; accept: boolean },
): Promise<Result<{ request: FriendRequestRow; contact: ContactView | null }>> {
  const field = ['input', 'requestId'];
  const malformed = malformedId('uuid', input.requestId, field);
  if (malformed) return malformed;
  const peek = await findRequest(deps.db, input.requestId);
  if (!peek || peek.toId !== viewer.userId || peek.hidden)
    return refuse('NOT_FOUND', 'No such friend request.', field);
  return withPair(deps, viewer.userId, peek.fromId, async (l) => {
    const { tx, actorId, peerId, now } = l;
    const request = (await findRequest(tx, input.requestId))!;
    if (request.hidden) return refuse('NOT_FOUND', 'No such friend request.', field);
    if (request.status !== 'PENDING')
      return refuse('ALREADY_EXISTS', 'This request was answered already.', field);
    if (!input.accept) {
      const declined = await updateRequest(tx, request.id, { status: 'DECLINED', respondedAt: now });
      return ok({ request: declined, contact: null });
    }
    const d = decideAccept(l.pair, now);
    if (!d.ok) return onField(d, field);
    const applied = await apply(l, d, viewer.deviceId);
    const accepted = await updateRequest(tx, request.id, { status: 'ACCEPTED', respondedAt: now });
    // The actor's own outgoing request (crossed), if any, is answered by the same friendship.
    const mine = await findPending(tx, actorId, peerId);
    if (mine) await updateRequest(tx, mine.id, { status: 'ACCEPTED', respondedAt: now });
    await publish(tx, [...applied.notices, acceptedNotice(request, actorId, applied.conversation.id)], now);
    return ok({ request: accepted, contact: contactView(actorId, peerId, d.pair, applied.conversation.id) });
  });
}

// --- R2/R3/R6, R4 -----------------------------------------------------------------------------------

export interface PairChange {
  contact: ContactView | null;
  retention: RetentionView;
}

async function changePair(
  deps: Deps,
  viewer: Viewer,
  peerId: string,
  decide: (pair: Pair, now: Date) => Outcome | Refusal,
  opts: { level?: NoticeLevel; extra?: (l: Locked) => Promise<void> } = {},
): Promise<Result<PairChange>> {
  return withPair(deps, viewer.userId, peerId, async (l) => {
    const d = decide(l.pair, l.now);
    if (!d.ok) return onField(d, ['input', 'userId']);
    const applied = await apply(l, d, viewer.deviceId, opts.level);
    await opts.extra?.(l);
    await publish(l.tx, applied.notices, l.now);
    const id = applied.conversation.id;
    const reader = { viewerId: l.actorId, now: l.now };
    const visibleMessages = historyVisible(applied.conversation, l.now)
      ? await countVisible(l.tx, reader, id)
      : 0;
    return ok({
      contact: contactView(l.actorId, l.peerId, d.pair, id),
      retention: { ...retentionOf(d.pair, l.now), conversationId: id, visibleMessages },
    });
  });
}

/** R2/R3/R6: `deleteContact`; `notice` NOTIFY tells the peer at once (R6), SILENT tells no one but the deleter. */
export function deleteContact(deps: Deps, viewer: Viewer, input: { userId: string; notice: NoticeLevel }) {
  return changePair(deps, viewer, input.userId, decideDelete, { level: input.notice });
}

/** R4: `blockContact` (with `deleteHistory`: block and delete, purged in this transaction). */
export function blockContact(deps: Deps, viewer: Viewer, input: { userId: string; deleteHistory: boolean }) {
  return changePair(deps, viewer, input.userId, (pair, now) => decideBlock(pair, input.deleteHistory, now), {
    extra: (l) => settleRequestsOnBlock(l.tx, l.actorId, l.peerId),
  });
}

/** R4: `unblockContact`. */
export async function unblockContact(deps: Deps, viewer: Viewer, input: { userId: string }) {
  const r = await changePair(deps, viewer, input.userId, decideUnblock);
  return r.ok ? ok({ contact: r.value.contact }) : r;
}

// --- reads -------------------------------------------------------------------------------------------

/** The viewer's pair with `peerId` (a well-formed user id: `isUserId`), read without locks (queries). */
export async function readPair(db: Db, viewerId: string, peerId: string) {
  const { ab, ba } = await loadEntries(db, viewerId, peerId);
  const conversation = await findDirect(db, viewerId, peerId);
  return { pair: { mine: ab, theirs: ba, conversation: factsOf(conversation) } as Pair, conversation };
}

/** `contacts`: the viewer's views, most recently changed first, after `(since, peerId)`. */
export async function listContactViews(
  db: Db,
  viewerId: string,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<ContactView[]> {
  const rows = await listContacts(db, viewerId, after && { since: after.at, peerId: after.id }, limit);
  return rows.map((r) => ({
    ownerId: r.entry.ownerId,
    peerId: r.entry.peerId,
    state: viewOf({ mine: r.entry, theirs: r.peerEntry })!,
    since: r.entry.since,
    conversationId: r.conversationId!,
  }));
}

/** `contact(userId)`: the viewer's view, or null; throws BAD_USER_INPUT for a malformed user id. */
export async function getContact(deps: Deps, viewer: Viewer, peerId: string): Promise<ContactView | null> {
  requireId('user', peerId);
  const { pair, conversation } = await readPair(deps.db, viewer.userId, peerId);
  return conversation ? contactView(viewer.userId, peerId, pair, conversation.id) : null;
}

/** R8: `deletionPreview`. Malformed user id or the viewer → BAD_USER_INPUT; unknown user → NOT_FOUND. */
export async function deletionPreview(
  deps: Deps,
  viewer: Viewer,
  peerId: string,
  action: ContactAction,
): Promise<Result<Preview>> {
  const malformed = malformedId('user', peerId, ['userId']);
  if (malformed) return malformed;
  if (peerId === viewer.userId) return refuse('BAD_USER_INPUT', 'That is you.', ['userId']);
  if (!(await userExists(deps.db, peerId))) return refuse('NOT_FOUND', 'No such user.', ['userId']);
  const { pair, conversation } = await readPair(deps.db, viewer.userId, peerId);
  const now = deps.clock.now();
  const visible =
    conversation && historyVisible(conversation, now)
      ? await countVisible(deps.db, { viewerId: viewer.userId, now }, conversation.id)
      : 0;
  return ok(preview(pair, action, visible, now));
}

/** R5: `requestDeletionProof`. */
export async function requestDeletionProof(
  deps: Deps,
  viewer: Viewer,
  input: { userId: string },
): Promise<Result<{ proof: string }>> {
  const malformed = malformedId('user', input.userId, ['input', 'userId']);
  if (malformed) return malformed;
  if (input.userId === viewer.userId) return refuse('BAD_USER_INPUT', 'That is you.', ['input', 'userId']);
  const { pair, conversation } = await readPair(deps.db, viewer.userId, input.userId);
  const facts = proofOf(pair);
  if ('ok' in facts) return onField(facts, ['input', 'userId']);
  const now = deps.clock.now();
  const proof = await deps.proof.sign(
    {
      typ: 'deletion-proof',
      parties: [viewer.userId, input.userId].sort(),
      requestedBy: viewer.userId,
      conversationId: conversation!.id,
      state: facts.state,
      since: facts.since.toISOString(),
      ...(facts.purgeAt ? { purgeAt: facts.purgeAt.toISOString() } : {}),
      ...(facts.purgedAt ? { purgedAt: facts.purgedAt.toISOString() } : {}),
      issuedAt: now.toISOString(),
    },
    now,
  );
  return ok({ proof });
}

/** The request if the viewer may see it (sender, or recipient when not hidden). */
export async function findRequestFor(db: Db, viewerId: string, id: string): Promise<FriendRequestRow | null> {
  if (!isUuid(id)) return null;
  const r = await findRequest(db, id);
  if (!r) return null;
  if (r.fromId === viewerId || (r.toId === viewerId && !r.hidden)) return r;
  return null;
}
