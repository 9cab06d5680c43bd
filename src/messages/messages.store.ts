import { and, asc, count, desc, eq, lt, lte, or, sql } from 'drizzle-orm';
import { contactEntries } from '../contacts/contacts.tables.js';
import { type Db, rows } from '../db/client.js';
import { groupMembers } from '../groups/groups.tables.js';
import { type ConversationRow, conversations, type MessageRow, messages } from './messages.tables.js';

const ordered = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);

/**
 * Who sees a conversation. DIRECT (R1/R4): a party, only while it holds an entry about the peer —
 * blocking a stranger creates the pair's (empty) conversation for the blocker's contact; shown to
 * the stranger, it would tell them they were blocked (R1: a blocked request must look sent).
 * GROUP: a current member of its group (one who left or was removed sees it no more, T2/N3).
 */
const partyOf = (userId: string) =>
  sql`((${conversations.kind} = 'DIRECT'
        AND (${conversations.userLow} = ${userId} OR ${conversations.userHigh} = ${userId})
        AND EXISTS (
          SELECT 1 FROM ${contactEntries}
          WHERE ${contactEntries.ownerId} = ${userId}
            AND ${contactEntries.peerId} = CASE WHEN ${conversations.userLow} = ${userId}
                                                THEN ${conversations.userHigh} ELSE ${conversations.userLow} END))
      OR (${conversations.kind} = 'GROUP' AND EXISTS (
          SELECT 1 FROM ${groupMembers}
          WHERE ${groupMembers.groupId} = ${conversations.groupId} AND ${groupMembers.userId} = ${userId})))`;

/** Creates a group's one GROUP conversation (in the transaction that creates the group). */
export async function createGroupConversation(db: Db, groupId: string, now: Date): Promise<ConversationRow> {
  const [row] = await db.insert(conversations).values({ kind: 'GROUP', groupId, createdAt: now }).returning();
  return row!;
}

/** The conversations of these groups, in one statement. */
export async function findGroupConversations(
  db: Db,
  groupIds: readonly string[],
): Promise<ConversationRow[]> {
  return db
    .select()
    .from(conversations)
    .where(sql`${conversations.groupId} = ANY(${sql.param([...groupIds])})`);
}

/** The pair's direct conversation, locked for the rest of the transaction; undefined if none yet. */
export async function findDirectForUpdate(
  db: Db,
  a: string,
  b: string,
): Promise<ConversationRow | undefined> {
  const [low, high] = ordered(a, b);
  const [row] = await db
    .select()
    .from(conversations)
    .where(and(eq(conversations.userLow, low), eq(conversations.userHigh, high)))
    .for('update');
  return row;
}

/** The pair's direct conversation, unlocked (queries). */
export async function findDirect(db: Db, a: string, b: string): Promise<ConversationRow | undefined> {
  const [low, high] = ordered(a, b);
  const [row] = await db
    .select()
    .from(conversations)
    .where(and(eq(conversations.userLow, low), eq(conversations.userHigh, high)));
  return row;
}

/** The pair's one direct conversation, created on first need (the pair lock is held). */
export async function createDirect(db: Db, a: string, b: string, now: Date): Promise<ConversationRow> {
  const [low, high] = ordered(a, b);
  const [row] = await db
    .insert(conversations)
    .values({ kind: 'DIRECT', userLow: low, userHigh: high, createdAt: now })
    .returning();
  return row!;
}

export type RetentionColumns = Pick<ConversationRow, 'mutualSince' | 'purgeAt' | 'purgedAt' | 'purgedBy'>;

export async function updateRetention(db: Db, id: string, set: RetentionColumns): Promise<ConversationRow> {
  const [row] = await db.update(conversations).set(set).where(eq(conversations.id, id)).returning();
  return row!;
}

/** A conversation the user is a party of and may see (`partyOf`). */
export async function findConversationOf(
  db: Db,
  id: string,
  userId: string,
): Promise<ConversationRow | undefined> {
  const [row] = await findConversationsOf(db, [id], userId);
  return row;
}

/**
 * The conversations with these ids that the user is a party of and may see (`partyOf`), in one
 * statement (a page's worth: `Loaders.conversation`); the others are left out. Any order.
 */
export async function findConversationsOf(
  db: Db,
  ids: readonly string[],
  userId: string,
): Promise<ConversationRow[]> {
  return db
    .select()
    .from(conversations)
    .where(and(sql`${conversations.id} = ANY(${sql.param([...ids])})`, partyOf(userId)));
}

/** The user's conversations (those `partyOf` lets them see), newest first. */
export async function listConversationsOf(
  db: Db,
  userId: string,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<ConversationRow[]> {
  const c = conversations;
  return db
    .select()
    .from(c)
    .where(
      and(
        partyOf(userId),
        after ? or(lt(c.createdAt, after.at), and(eq(c.createdAt, after.at), lt(c.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(c.createdAt), desc(c.id))
    .limit(limit);
}

export async function insertMessage(
  db: Db,
  m: Pick<MessageRow, 'conversationId' | 'senderId' | 'body' | 'sentAt'>,
): Promise<MessageRow> {
  const [row] = await db.insert(messages).values(m).returning();
  return row!;
}

/** One page request of `listMessagesPages`: a conversation, a keyset bound and a size. */
export interface MessagePageKey {
  conversationId: string;
  beforeSeq: number | null;
  limit: number;
}

/**
 * Pages of messages, newest first, for many conversations in one statement (a page of
 * conversations, each with its `messages`): each key's rows come from its own index range scan
 * (`LATERAL … LIMIT`), so no conversation is read further than its page. Answers one list per
 * key, in the keys' order.
 */
export async function listMessagesPages(db: Db, keys: readonly MessagePageKey[]): Promise<MessageRow[][]> {
  if (keys.length === 0) return [];
  const k = sql`unnest(${sql.param(keys.map((x) => x.conversationId))}::uuid[],
    ${sql.param(keys.map((x) => x.beforeSeq))}::bigint[],
    ${sql.param(keys.map((x) => x.limit))}::int[]) WITH ORDINALITY AS k(conversation_id, before_seq, page_size, i)`;
  const page = db
    .select()
    .from(messages)
    .where(
      and(
        sql`${messages.conversationId} = k.conversation_id`,
        sql`(k.before_seq IS NULL OR ${messages.seq} < k.before_seq)`,
      ),
    )
    .orderBy(desc(messages.seq))
    .limit(sql`k.page_size` as unknown as number)
    .as('m');
  const found = await db
    .select({
      i: sql<string>`k.i`.mapWith(Number),
      id: page.id,
      seq: page.seq,
      conversationId: page.conversationId,
      senderId: page.senderId,
      body: page.body,
      sentAt: page.sentAt,
    })
    .from(k)
    .crossJoinLateral(page)
    .orderBy(sql`k.i`, desc(page.seq));
  const pages = keys.map((): MessageRow[] => []);
  for (const { i, ...message } of found) pages[i - 1]!.push(message);
  return pages;
}

export async function countMessages(db: Db, conversationId: string): Promise<number> {
  const [r] = await db
    .select({ n: count() })
    .from(messages)
    .where(eq(messages.conversationId, conversationId));
  return r?.n ?? 0;
}

/** Stored messages per conversation, for many conversations in one statement (absent: none). */
export async function countMessagesOf(
  db: Db,
  conversationIds: readonly string[],
): Promise<{ conversationId: string; n: number }[]> {
  return db
    .select({ conversationId: messages.conversationId, n: count() })
    .from(messages)
    .where(sql`${messages.conversationId} = ANY(${sql.param([...conversationIds])})`)
    .groupBy(messages.conversationId);
}

export async function findMessage(db: Db, id: string): Promise<MessageRow | undefined> {
  const [row] = await db.select().from(messages).where(eq(messages.id, id));
  return row;
}

/**
 * Physically deletes a conversation's messages ("purged" means deleted rows) and, with them, their
 * files (`files.message_id … ON DELETE CASCADE`); their payments stay in the ledger, their
 * `message_id` set null. One statement: answers how many messages, and how many files went with
 * exactly those messages (counted in the statement's own snapshot, taken before the delete).
 */
export async function purgeMessages(
  db: Db,
  conversationId: string,
): Promise<{ messages: number; files: number }> {
  const [r] = await rows<{ messages: number; files: number }>(
    db,
    sql`WITH gone AS (DELETE FROM messages WHERE conversation_id = ${conversationId} RETURNING id)
        SELECT (SELECT count(*)::int FROM gone) AS messages,
               (SELECT count(*)::int FROM files WHERE message_id IN (SELECT id FROM gone)) AS files`,
  );
  return { messages: r?.messages ?? 0, files: r?.files ?? 0 };
}

/** `purgeMessages`, answering how many messages were deleted. */
export async function deleteMessages(db: Db, conversationId: string): Promise<number> {
  return (await purgeMessages(db, conversationId)).messages;
}

/**
 * T5: direct conversations whose R3 buffer ran out, found by index, locked; rows another sweeper
 * holds are skipped, so instances never purge the same one twice. (A GROUP conversation's purge
 * instant is G3's, purged in batches once its dissolution is final: dissolution.store.ts.)
 */
export async function lockDueConversations(db: Db, now: Date, limit: number): Promise<ConversationRow[]> {
  return db
    .select()
    .from(conversations)
    .where(and(lte(conversations.purgeAt, now), eq(conversations.kind, 'DIRECT')))
    .orderBy(asc(conversations.purgeAt))
    .limit(limit)
    .for('update', { skipLocked: true });
}

/**
 * G3: the purge instant of a group's conversation — its dissolution's `undoUntil` when history is
 * not kept, null when it is kept, cancelled or restored. Reads hide the messages from then on.
 */
export async function setGroupPurgeAt(
  db: Db,
  groupId: string,
  purgeAt: Date | null,
): Promise<ConversationRow> {
  const [row] = await db
    .update(conversations)
    .set({ purgeAt })
    .where(eq(conversations.groupId, groupId))
    .returning();
  return row!;
}
