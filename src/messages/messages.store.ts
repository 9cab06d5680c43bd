import { and, asc, count, desc, eq, getTableColumns, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import { contactEntries } from '../contacts/contacts.tables.js';
import { type Db, rows } from '../db/client.js';
import { scrubDueAt } from '../groups/dissolution.store.js';
import { groupMembers } from '../groups/groups.tables.js';
import { scrubBody } from '../groups/scrub.rules.js';
import { anyActiveHold, cutoffOf, heldMessage, inViewOf, periodDays } from '../retention/retention.store.js';
import { type ConversationRow, conversations, type MessageRow, messages } from './messages.tables.js';

const ordered = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);

/**
 * A message row as read at `now`: its body scrubbed when G10's scrub is due but not done yet
 * (`scrubDueAt`): reads follow the instant, whenever the sweep runs.
 */
const asRead = ({ scrub, ...m }: MessageRow & { scrub: boolean }): MessageRow =>
  scrub ? { ...m, body: scrubBody(m.body).body } : m;

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

/** Who reads, and when: a page shows what is in that viewer's view at that instant (T1–T3). */
export interface Reader {
  viewerId: string;
  now: Date;
}

/**
 * Pages of messages, newest first, for many conversations in one statement (a page of
 * conversations, each with its `messages`): each key's rows come from its own index range scan
 * (`LATERAL … LIMIT`), so no conversation is read further than its page; each conversation's
 * period cutoff for the reader is computed once. Only messages in the reader's view (`inViewOf`).
 * Answers one list per key, in the keys' order.
 */
export async function listMessagesPages(
  db: Db,
  reader: Reader,
  keys: readonly MessagePageKey[],
): Promise<MessageRow[][]> {
  if (keys.length === 0) return [];
  const found = await rows<MessageRow & { i: number; scrub: boolean }>(
    db,
    sql`SELECT k.i::int AS i, m.id, m.seq::float8 AS seq, m.conversation_id AS "conversationId",
               m.sender_id AS "senderId", m.body, m.sent_at AS "sentAt", m.purged_at AS "purgedAt", v.scrub
        FROM unnest(${sql.param(keys.map((x) => x.conversationId))}::uuid[],
                    ${sql.param(keys.map((x) => x.beforeSeq))}::bigint[],
                    ${sql.param(keys.map((x) => x.limit))}::int[])
               WITH ORDINALITY AS k(conversation_id, before_seq, page_size, i)
        CROSS JOIN LATERAL (SELECT ${cutoffOf(periodDays(sql`${reader.viewerId}`, sql`k.conversation_id`), reader.now)} AS cutoff,
                                   ${scrubDueAt(sql`k.conversation_id`, reader.now)} AS scrub) v
        CROSS JOIN LATERAL (
          SELECT * FROM messages m
          WHERE m.conversation_id = k.conversation_id
            AND m.seq < COALESCE(k.before_seq, 9223372036854775807) -- an index bound, also on the first page
            AND ${inViewOf(sql`m`, reader.viewerId, sql`v.cutoff`)}
          ORDER BY m.seq DESC LIMIT k.page_size) m
        ORDER BY k.i, m.seq DESC`,
  );
  const pages = keys.map((): MessageRow[] => []);
  for (const { i, ...row } of found) {
    const message = asRead(row);
    pages[i - 1]!.push({
      ...message,
      seq: Number(message.seq),
      sentAt: new Date(message.sentAt),
      purgedAt: null,
    });
  }
  return pages;
}

/**
 * T1–T3: how many messages of these conversations are in the reader's view now, one statement
 * (absent: none). The caller checked the reader may read them (and R3's purge instant).
 */
export async function countVisibleOf(
  db: Db,
  reader: Reader,
  conversationIds: readonly string[],
): Promise<{ conversationId: string; n: number }[]> {
  if (conversationIds.length === 0) return [];
  return rows<{ conversationId: string; n: number }>(
    db,
    sql`SELECT k.id AS "conversationId", n.n
        FROM unnest(${sql.param([...conversationIds])}::uuid[]) AS k(id)
        CROSS JOIN LATERAL (SELECT ${cutoffOf(periodDays(sql`${reader.viewerId}`, sql`k.id`), reader.now)} AS cutoff) v
        CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM messages m
          WHERE m.conversation_id = k.id AND ${inViewOf(sql`m`, reader.viewerId, sql`v.cutoff`)}) n`,
  );
}

/** Messages of a conversation not purged (rows a hold keeps are not counted): an operator's count. */
export async function countUnpurged(db: Db, conversationId: string): Promise<number> {
  const [r] = await rows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM messages WHERE conversation_id = ${conversationId} AND purged_at IS NULL`,
  );
  return r?.n ?? 0;
}

/** Any conversation by id (operators' reads; everyone else goes through `findConversationOf`). */
export async function findConversation(db: Db, id: string): Promise<ConversationRow | undefined> {
  const [row] = await db.select().from(conversations).where(eq(conversations.id, id));
  return row;
}

/** `countVisibleOf` for one conversation. */
export async function countVisible(db: Db, reader: Reader, conversationId: string): Promise<number> {
  return (await countVisibleOf(db, reader, [conversationId]))[0]?.n ?? 0;
}

/** Whether message `m` is in the reader's view now (T1–T3; party and R3 checks are the caller's). */
export async function inViewNow(db: Db, reader: Reader, m: MessageRow): Promise<boolean> {
  const [r] = await rows<{ ok: boolean }>(
    db,
    sql`SELECT ${inViewOf(sql`m`, reader.viewerId, cutoffOf(periodDays(sql`${reader.viewerId}`, sql`m.conversation_id`), reader.now))} AS ok
        FROM messages m WHERE m.id = ${m.id}`,
  );
  return r?.ok === true;
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

/** A message by id, as read at `now` (G10: scrubbed once due). */
export async function findMessage(db: Db, id: string, now: Date): Promise<MessageRow | undefined> {
  const [row] = await db
    .select({ ...getTableColumns(messages), scrub: scrubDueAt(messages.conversationId, now) })
    .from(messages)
    .where(eq(messages.id, id));
  return row && asRead(row);
}

/** What a purge did: how many messages left every view, how many files went, how many rows a hold kept. */
export interface Purged {
  /** Messages that left every view now (deleted, or kept under a hold but gone for every reader). */
  messages: number;
  /** Of those messages, rows a legal hold keeps (T3): `purged_at` set instead of deleting them. */
  held: number;
  /** Message rows physically deleted (also rows purged earlier under a hold since released). */
  deleted: number;
  /** File rows deleted with them. */
  deletedFiles: number;
}

/**
 * Purges messages of a conversation (R3, R4, G3, T2): the rows `which` selects (an SQL condition on
 * alias `m`, joined with its conversation `c`; default: all), at most `limit` of them. A row under
 * an active legal hold (T3) is kept with `purged_at` set — gone for every reader exactly as if
 * deleted — and deleted by a later purge once no hold covers it. Files go with their messages
 * (`ON DELETE CASCADE`); payments stay in the ledger (`message_id` set null).
 */
export async function purgeMessages(
  db: Db,
  conversationId: string,
  now: Date,
  opts: { which?: SQL; limit?: number } = {},
): Promise<Purged> {
  const which = opts.which ?? sql`TRUE`;
  const limit = opts.limit ? sql`LIMIT ${opts.limit}` : sql``;
  const holds = await anyActiveHold(db);
  const notHeld = holds ? sql`NOT ${heldMessage(sql`m`, sql`c`)}` : sql`TRUE`;
  const [d] = await rows<{ deleted: number; fresh: number; files: number }>(
    db,
    sql`WITH gone AS (
          DELETE FROM messages WHERE id = ANY(ARRAY(
            SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.conversation_id = ${conversationId} AND ${which} AND ${notHeld}
            ORDER BY m.seq ${limit}))
          RETURNING id, purged_at)
        SELECT (SELECT count(*)::int FROM gone) AS deleted,
               (SELECT count(*)::int FROM gone WHERE purged_at IS NULL) AS fresh,
               (SELECT count(*)::int FROM files WHERE message_id IN (SELECT id FROM gone)) AS files`,
  );
  let held = 0;
  if (holds) {
    const [k] = await rows<{ n: number }>(
      db,
      sql`WITH kept AS (
            UPDATE messages SET purged_at = ${now} WHERE id = ANY(ARRAY(
              SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
              WHERE m.conversation_id = ${conversationId} AND m.purged_at IS NULL AND ${which}
                AND ${heldMessage(sql`m`, sql`c`)}))
            RETURNING 1)
          SELECT count(*)::int AS n FROM kept`,
    );
    held = k?.n ?? 0;
  }
  return { messages: (d?.fresh ?? 0) + held, held, deleted: d?.deleted ?? 0, deletedFiles: d?.files ?? 0 };
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
