import { and, desc, eq, lt, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type Db, rows } from '../db/client.js';
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

/**
 * `lockPair` (exclusive) and whether `peerId` exists, in one round trip. Users are never deleted,
 * so reading that under the statement's snapshot (taken before the lock) answers the same.
 */
export async function lockPairAndFindPeer(tx: Db, actorId: string, peerId: string): Promise<boolean> {
  const [r] = await rows<{ found: boolean }>(
    tx,
    sql`WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtextextended(${pairKey(actorId, peerId)}, 0)))
        SELECT EXISTS (SELECT 1 FROM users WHERE id = ${peerId}) AS found FROM l`,
  );
  return r?.found === true;
}

interface RawPairRow {
  owner_id: string | null;
  state: Entry['state'] | null;
  since: string | Date | null;
  state_before_block: Entry['state'] | null;
  c_id: string | null;
  c_kind: ConversationRow['kind'] | null;
  c_user_low: string | null;
  c_user_high: string | null;
  c_group_id: string | null;
  c_created_at: string | Date | null;
  c_mutual_since: string | Date | null;
  c_purge_at: string | Date | null;
  c_purged_at: string | Date | null;
  c_purged_by: string | null;
  c_t2_next_at: string | Date | null;
}

const at = (v: string | Date | null): Date | null => (v === null ? null : new Date(v));

/**
 * Both directed entries of a pair and its direct conversation, locked FOR UPDATE, in one round
 * trip (run after the pair lock: a statement's snapshot is taken when it starts, so it must not be
 * the one that waits for the lock).
 */
export async function loadPairForUpdate(
  tx: Db,
  a: string,
  b: string,
): Promise<{ ab: Entry | null; ba: Entry | null; conversation: ConversationRow | undefined }> {
  const [low, high] = a < b ? [a, b] : [b, a];
  const found = await rows<RawPairRow>(
    tx,
    sql`WITH c AS (SELECT * FROM conversations WHERE user_low = ${low} AND user_high = ${high} FOR UPDATE)
        SELECT e.owner_id, e.state, e.since, e.state_before_block,
               c.id AS c_id, c.kind AS c_kind, c.user_low AS c_user_low, c.user_high AS c_user_high,
               c.group_id AS c_group_id, c.created_at AS c_created_at, c.mutual_since AS c_mutual_since,
               c.purge_at AS c_purge_at, c.purged_at AS c_purged_at, c.purged_by AS c_purged_by,
               c.t2_next_at AS c_t2_next_at
        FROM (SELECT 1) AS one
        LEFT JOIN c ON true
        LEFT JOIN contact_entries e
          ON (e.owner_id = ${a} AND e.peer_id = ${b}) OR (e.owner_id = ${b} AND e.peer_id = ${a})`,
  );
  const entry = (owner: string): Entry | null => {
    const r = found.find((x) => x.owner_id === owner);
    return r ? { state: r.state!, since: at(r.since)!, stateBeforeBlock: r.state_before_block } : null;
  };
  const c = found[0];
  const conversation: ConversationRow | undefined =
    c && c.c_id !== null
      ? {
          id: c.c_id,
          kind: c.c_kind!,
          userLow: c.c_user_low,
          userHigh: c.c_user_high,
          groupId: c.c_group_id,
          createdAt: at(c.c_created_at)!,
          mutualSince: at(c.c_mutual_since),
          purgeAt: at(c.c_purge_at),
          purgedAt: at(c.c_purged_at),
          purgedBy: c.c_purged_by,
          t2NextAt: at(c.c_t2_next_at),
        }
      : undefined;
  return { ab: entry(a), ba: entry(b), conversation };
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

/** The pending requests both ways between `a` and `b`, in one round trip. */
export async function findPendingBothWays(
  db: Db,
  a: string,
  b: string,
): Promise<{ fromA: FriendRequestRow | undefined; fromB: FriendRequestRow | undefined }> {
  const found = await db
    .select()
    .from(friendRequests)
    .where(
      and(
        or(
          and(eq(friendRequests.fromId, a), eq(friendRequests.toId, b)),
          and(eq(friendRequests.fromId, b), eq(friendRequests.toId, a)),
        ),
        eq(friendRequests.status, 'PENDING'),
      ),
    );
  return { fromA: found.find((r) => r.fromId === a), fromB: found.find((r) => r.fromId === b) };
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
