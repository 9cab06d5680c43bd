import { and, desc, eq, lt, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import type { ConversationRow } from '../messages/messages.tables.js';
import { conversations } from '../messages/messages.tables.js';
import { type ConversationFacts, type Entry, NO_CONVERSATION, type PurgeRule } from './contacts.rules.js';
import {
  type ContactEntryRow,
  contactEntries,
  type FriendRequestRow,
  friendRequests,
} from './contacts.tables.js';

/**
 * The canonical key of a pair: the same whichever side asks, and never the same for two pairs (the
 * lower id is length-prefixed, so no separator can be forged). Postgres text refuses U+0000, so the
 * key must not contain it.
 */
export const pairKey = (a: string, b: string): string => {
  const [low, high] = a < b ? [a, b] : [b, a];
  return `${low.length}:${low}:${high}`;
};

/**
 * Serialises every change to one pair (DESIGN.md: one advisory lock on the pair key), held until
 * the transaction ends. `shared` for readers that must not interleave with a change (sending).
 */
export async function lockPair(tx: Db, a: string, b: string, mode: 'exclusive' | 'shared' = 'exclusive') {
  const key = pairKey(a, b);
  if (mode === 'shared')
    await tx.execute(sql`SELECT pg_advisory_xact_lock_shared(hashtextextended(${key}, 0))`);
  else await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
}

export const toEntry = (r: ContactEntryRow | null | undefined): Entry | null =>
  r ? { state: r.state, since: r.since, stateBeforeBlock: r.stateBeforeBlock } : null;

/** Both directed entries of a pair: `a → b` and `b → a`. */
export async function loadEntries(
  db: Db,
  a: string,
  b: string,
): Promise<{ ab: Entry | null; ba: Entry | null }> {
  const found = await db
    .select()
    .from(contactEntries)
    .where(
      or(
        and(eq(contactEntries.ownerId, a), eq(contactEntries.peerId, b)),
        and(eq(contactEntries.ownerId, b), eq(contactEntries.peerId, a)),
      ),
    );
  return {
    ab: toEntry(found.find((r) => r.ownerId === a)),
    ba: toEntry(found.find((r) => r.ownerId === b)),
  };
}

/** Writes `owner → peer` (null deletes the entry). */
export async function saveEntry(db: Db, ownerId: string, peerId: string, e: Entry | null): Promise<void> {
  if (!e) {
    await db
      .delete(contactEntries)
      .where(and(eq(contactEntries.ownerId, ownerId), eq(contactEntries.peerId, peerId)));
    return;
  }
  const values = { state: e.state, since: e.since, stateBeforeBlock: e.stateBeforeBlock };
  await db
    .insert(contactEntries)
    .values({ ownerId, peerId, ...values })
    .onConflictDoUpdate({ target: [contactEntries.ownerId, contactEntries.peerId], set: values });
}

export interface ContactListRow {
  entry: ContactEntryRow;
  peerEntry: ContactEntryRow | null;
  conversationId: string | null;
}

/** The owner's entries with the peer's entry and the pair's conversation, newest change first. */
export async function listContacts(
  db: Db,
  ownerId: string,
  after: { since: Date; peerId: string } | null,
  limit: number,
): Promise<ContactListRow[]> {
  const mine = contactEntries;
  const theirs = alias(contactEntries, 'theirs');
  const rows = await db
    .select({ entry: mine, peerEntry: theirs, conversationId: conversations.id })
    .from(mine)
    .leftJoin(theirs, and(eq(theirs.ownerId, mine.peerId), eq(theirs.peerId, mine.ownerId)))
    .leftJoin(
      conversations,
      and(
        eq(conversations.userLow, sql`least(${mine.ownerId}, ${mine.peerId})`),
        eq(conversations.userHigh, sql`greatest(${mine.ownerId}, ${mine.peerId})`),
      ),
    )
    .where(
      and(
        eq(mine.ownerId, ownerId),
        after
          ? or(lt(mine.since, after.since), and(eq(mine.since, after.since), lt(mine.peerId, after.peerId)))
          : undefined,
      ),
    )
    .orderBy(desc(mine.since), desc(mine.peerId))
    .limit(limit);
  return rows;
}

// --- friend requests ---------------------------------------------------------------------------

/** The pending request `from → to`, if any (at most one exists: a partial unique index). */
export async function findPending(
  db: Db,
  fromId: string,
  toId: string,
): Promise<FriendRequestRow | undefined> {
  const [r] = await db
    .select()
    .from(friendRequests)
    .where(
      and(
        eq(friendRequests.fromId, fromId),
        eq(friendRequests.toId, toId),
        eq(friendRequests.status, 'PENDING'),
      ),
    );
  return r;
}

export async function findRequest(db: Db, id: string): Promise<FriendRequestRow | undefined> {
  const [r] = await db.select().from(friendRequests).where(eq(friendRequests.id, id));
  return r;
}

export async function insertRequest(
  db: Db,
  r: Pick<
    FriendRequestRow,
    'fromId' | 'toId' | 'greeting' | 'status' | 'hidden' | 'createdAt' | 'respondedAt'
  >,
): Promise<FriendRequestRow> {
  const [row] = await db.insert(friendRequests).values(r).returning();
  return row!;
}

export async function updateRequest(
  db: Db,
  id: string,
  set: Partial<Pick<FriendRequestRow, 'status' | 'hidden' | 'respondedAt'>>,
): Promise<FriendRequestRow> {
  const [row] = await db.update(friendRequests).set(set).where(eq(friendRequests.id, id)).returning();
  return row!;
}

/**
 * R1/R4: on a block, the blocked user's pending request to the blocker is hidden (looks sent,
 * never shown). The blocker's own pending request stays as it is: taking it away would tell the
 * blocked user of the block; accepting it later befriends only the accepting side (`befriend`).
 */
export async function settleRequestsOnBlock(db: Db, blockerId: string, blockedId: string): Promise<void> {
  await db
    .update(friendRequests)
    .set({ hidden: true })
    .where(
      and(
        eq(friendRequests.fromId, blockedId),
        eq(friendRequests.toId, blockerId),
        eq(friendRequests.status, 'PENDING'),
      ),
    );
}

/**
 * Pending requests for one side, newest first: INCOMING never includes hidden ones (R1);
 * OUTGOING shows them to their sender as pending.
 */
export async function listPending(
  db: Db,
  userId: string,
  direction: 'INCOMING' | 'OUTGOING',
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<FriendRequestRow[]> {
  const r = friendRequests;
  const side = direction === 'INCOMING' ? and(eq(r.toId, userId), eq(r.hidden, false)) : eq(r.fromId, userId);
  return db
    .select()
    .from(r)
    .where(
      and(
        side,
        eq(r.status, 'PENDING'),
        after ? or(lt(r.createdAt, after.at), and(eq(r.createdAt, after.at), lt(r.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(r.createdAt), desc(r.id))
    .limit(limit);
}

/** The R3 facts of a pair's conversation row (none yet: the facts of no conversation). */
export const factsOf = (c: ConversationRow | undefined): ConversationFacts =>
  c
    ? {
        mutualSince: c.mutualSince,
        purgeAt: c.purgeAt,
        purgedAt: c.purgedAt,
        purgedBy: c.purgedBy as PurgeRule | null,
      }
    : NO_CONVERSATION;
