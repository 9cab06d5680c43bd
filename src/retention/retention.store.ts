import { and, asc, eq, lte, or, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type ContactEntryRow, contactEntries } from '../contacts/contacts.tables.js';
import { type Database, type Db, rows } from '../db/client.js';
import { type ConversationRow, conversations } from '../messages/messages.tables.js';

export interface RetentionFacts {
  conversation: ConversationRow;
  mine: ContactEntryRow;
  theirs: ContactEntryRow | null;
  /** Messages in the viewer's view now by their period, stars and holds (T1–T3); R3 is the rules'. */
  visibleMessages: number;
}

/**
 * Everything T4 needs about a direct conversation from the viewer's side, in one statement: the
 * conversation (only for a party holding an entry about the peer, as `findConversationOf`), both
 * entries and the stored message count. Undefined when the viewer is no such party.
 */
export async function loadRetentionFacts(
  db: Database,
  conversationId: string,
  viewerId: string,
  now: Date,
): Promise<RetentionFacts | undefined> {
  const [row] = await loadRetentionFactsOf(db, [conversationId], viewerId, now);
  return row;
}

/**
 * `loadRetentionFacts` for many conversations of one viewer, in one statement (a page's worth:
 * `Loaders.retentionFacts`); those the viewer is no party of are left out. Any order.
 */
export async function loadRetentionFactsOf(
  db: Database,
  conversationIds: readonly string[],
  viewerId: string,
  now: Date,
): Promise<RetentionFacts[]> {
  let query = prepared.get(db);
  if (!query) {
    query = prepareRetentionFacts(db);
    prepared.set(db, query);
  }
  return query.execute({ conversationIds: [...conversationIds], viewerId, now });
}

/**
 * The statement, built once per database (a hot read: T4 is asked for on every conversation view).
 * One text for one id or a page of them (`= ANY($ids)`), so the server plans it once.
 */
const prepared = new WeakMap<Database, ReturnType<typeof prepareRetentionFacts>>();

function prepareRetentionFacts(db: Database) {
  const c = conversations;
  const mine = alias(contactEntries, 'mine');
  const theirs = alias(contactEntries, 'theirs');
  const viewerId = sql.placeholder('viewerId');
  const peer = sql`CASE WHEN ${c.userLow} = ${viewerId} THEN ${c.userHigh} ELSE ${c.userLow} END`;
  return db
    .select({
      conversation: c,
      mine,
      theirs,
      visibleMessages: sql<number>`(SELECT count(*)::int FROM messages m
        WHERE m.conversation_id = ${c.id}
          AND ${inViewOf(sql`m`, sql`${viewerId}`, cutoffOf(periodDays(sql`${viewerId}`, sql`${c.id}`), sql`${sql.placeholder('now')}`))})`,
    })
    .from(c)
    .innerJoin(mine, and(eq(mine.ownerId, viewerId), eq(mine.peerId, peer)))
    .leftJoin(theirs, and(eq(theirs.ownerId, peer), eq(theirs.peerId, viewerId)))
    .where(
      and(
        sql`${c.id} = ANY(${sql.placeholder('conversationIds')})`,
        eq(c.kind, 'DIRECT'),
        or(eq(c.userLow, viewerId), eq(c.userHigh, viewerId)),
      ),
    )
    .prepare('ties_retention_facts');
}

// --- T1–T3 as SQL: periods, what a viewer sees, who keeps a message, holds ------------------------

/**
 * T1: `userId`'s period in days for conversation `conversationId` — the conversation's own policy,
 * else the user's default; NULL for FOREVER (also when the user set none). A scalar subquery.
 */
export const periodDays = (userId: SQL, conversationId: SQL): SQL =>
  sql`(SELECT rp.days FROM retention_policies rp
        WHERE rp.user_id = ${userId} AND (rp.conversation_id = ${conversationId} OR rp.conversation_id IS NULL)
        ORDER BY rp.conversation_id IS NULL LIMIT 1)`;

/** The instant before which a message has left a view of `days` (NULL: never). */
export const cutoffOf = (days: SQL, now: Date | SQL): SQL =>
  sql`(${now}::timestamptz - (${days}) * interval '1 day')`;

/**
 * T1/T2/T3: message `m` (an alias of `messages`) is in `viewerId`'s view at `now` given the
 * viewer's cutoff for its conversation (`cutoff`: NULL for FOREVER): not purged under a hold, and
 * sent after the cutoff or starred by the viewer. Party and R3 checks are the callers'.
 */
export const inViewOf = (m: SQL, viewerId: SQL | string, cutoff: SQL): SQL =>
  sql`(${m}.purged_at IS NULL AND (${cutoff} IS NULL OR ${m}.sent_at > ${cutoff}
      OR EXISTS (SELECT 1 FROM stars s WHERE s.message_id = ${m}.id AND s.user_id = ${viewerId})))`;

/**
 * T2 participants of conversation `c` (an alias of `conversations`): both parties of a DIRECT one;
 * the rows of `group_members` of a GROUP one (current members; after a dissolution, its members at
 * dissolution, as a dissolved group keeps them).
 */
export const participantsOf = (c: SQL): SQL =>
  sql`(SELECT u FROM unnest(ARRAY[${c}.user_low, ${c}.user_high]) AS u WHERE ${c}.kind = 'DIRECT' AND u IS NOT NULL
       UNION ALL
       SELECT gm.user_id FROM group_members gm WHERE ${c}.kind = 'GROUP' AND gm.group_id = ${c}.group_id)`;

/**
 * T2: the longest period among the participants of `c`, in days; NULL when anyone keeps FOREVER
 * (then nothing ever leaves every view).
 */
export const longestDays = (c: SQL): SQL =>
  sql`(SELECT CASE WHEN bool_or(x.d IS NULL) THEN NULL ELSE max(x.d) END
        FROM (SELECT ${periodDays(sql`pp.u`, sql`${c}.id`)} AS d FROM ${participantsOf(c)} AS pp(u)) x)`;

/** T2: message `m` of conversation `c` is starred by one of the conversation's participants. */
export const starredByParticipant = (m: SQL, c: SQL): SQL =>
  sql`EXISTS (SELECT 1 FROM stars s WHERE s.message_id = ${m}.id AND s.user_id IN ${participantsOf(c)})`;

/**
 * T3: hold `h` (an alias of `legal_holds`) covers conversation `c`: it is on the conversation, on
 * its group, or on a user who is or was a party of it (a DIRECT party, a member now, or one who left).
 */
export const holdCovers = (h: SQL, c: SQL): SQL =>
  sql`(${h}.conversation_id = ${c}.id
       OR ${h}.group_id = ${c}.group_id
       OR ${h}.user_id = ${c}.user_low OR ${h}.user_id = ${c}.user_high
       OR (${c}.group_id IS NOT NULL AND (
             EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = ${c}.group_id AND gm.user_id = ${h}.user_id)
          OR EXISTS (SELECT 1 FROM group_departures gd WHERE gd.group_id = ${c}.group_id AND gd.user_id = ${h}.user_id))))`;

/** T3: an active legal hold covers message `m` of conversation `c` (its `sent_at` in the hold's range). */
export const heldMessage = (m: SQL, c: SQL): SQL =>
  sql`EXISTS (SELECT 1 FROM legal_holds h
        WHERE h.released_at IS NULL
          AND (h.from_at IS NULL OR ${m}.sent_at >= h.from_at)
          AND (h.to_at IS NULL OR ${m}.sent_at < h.to_at)
          AND ${holdCovers(sql`h`, c)})`;

/** Whether any legal hold is active at all (one index probe; purges skip the hold checks without). */
export async function anyActiveHold(db: Db): Promise<boolean> {
  const [r] = await rows<{ x: number }>(
    db,
    sql`SELECT 1 AS x FROM legal_holds WHERE released_at IS NULL LIMIT 1`,
  );
  return r !== undefined;
}

/**
 * T2/T5: recomputes the sweeper's `t2_next_at` of the conversations `where` selects (an SQL
 * condition on alias `c`): NULL when a participant keeps FOREVER and nothing purged waits for a
 * hold's release; else no later than the first instant a stored message could leave every view
 * (its oldest message + the longest period), or `now` when rows purged under a hold may be free.
 * Run in the transaction that changes a period, a star, a membership or a hold.
 */
export async function refreshT2(db: Db, where: SQL, now: Date): Promise<void> {
  // Lock the rows first, in a statement of its own: the UPDATE below then starts after any
  // concurrent refresh of the same conversation committed and sees its policy (READ COMMITTED
  // takes a new snapshot per statement). Without it two parties changing their periods at once
  // could each count the other as FOREVER and leave t2_next_at NULL for good.
  await db.execute(sql`SELECT 1 FROM conversations c WHERE ${where} ORDER BY c.id FOR NO KEY UPDATE`);
  await db.execute(sql`
    WITH l AS (SELECT c.id, ${longestDays(sql`c`)} AS days FROM conversations c WHERE ${where})
    UPDATE conversations c SET t2_next_at = CASE
        WHEN EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.purged_at IS NOT NULL) THEN ${now}::timestamptz
        WHEN l.days IS NULL THEN NULL
        ELSE coalesce((SELECT min(m.sent_at) FROM messages m WHERE m.conversation_id = c.id AND m.purged_at IS NULL),
                      ${now}::timestamptz) + l.days * interval '1 day'
      END
    FROM l WHERE l.id = c.id`);
}

/** Conversations the user is a party of: direct ones, and groups they are a member of. */
export const conversationsOfUser = (userId: string): SQL =>
  sql`(c.user_low = ${userId} OR c.user_high = ${userId}
       OR (c.group_id IS NOT NULL AND EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = c.group_id AND gm.user_id = ${userId})))`;

/** T5: conversations whose `t2_next_at` has come, locked without blocking sends; held ones skipped. */
export async function lockDueExpiries(db: Db, now: Date, limit: number): Promise<ConversationRow[]> {
  return db
    .select()
    .from(conversations)
    .where(lte(conversations.t2NextAt, now))
    .orderBy(asc(conversations.t2NextAt))
    .limit(limit)
    .for('no key update', { skipLocked: true });
}

/** T2: `longestDays` of one conversation (null: someone keeps FOREVER). */
export async function longestDaysOf(db: Db, conversationId: string): Promise<number | null> {
  const [r] = await rows<{ days: number | null }>(
    db,
    sql`SELECT ${longestDays(sql`c`)} AS days FROM conversations c WHERE c.id = ${conversationId}`,
  );
  return r?.days ?? null;
}

/**
 * After a sweep's pass: `now` again when a batch was full (more is due), else when the oldest
 * message still in someone's view by date leaves the longest view (`now + days` with none; NULL
 * when someone keeps FOREVER). Rows kept by a hold are not waited for: releasing it sets `now`.
 */
export async function setNextExpiry(
  db: Db,
  conversationId: string,
  days: number | null,
  now: Date,
  more: boolean,
): Promise<void> {
  const next = more
    ? sql`${now}::timestamptz`
    : days === null
      ? sql`NULL`
      : sql`coalesce((SELECT min(m.sent_at) FROM messages m WHERE m.conversation_id = ${conversationId}
                        AND m.purged_at IS NULL AND m.sent_at > ${cutoffOf(sql`${days}::int`, now)}),
                     ${now}::timestamptz) + ${days}::int * interval '1 day'`;
  await db.execute(sql`UPDATE conversations SET t2_next_at = ${next} WHERE id = ${conversationId}`);
}

/** T4 beyond the state: the viewer's own period and when their next message leaves their view. */
export interface ViewerRetention {
  conversationId: string;
  period: 'FOREVER' | 'ONE_YEAR' | 'THREE_MONTHS' | 'DAYS';
  days: number | null;
  /** When the viewer's oldest visible, unstarred message leaves the viewer's view (null: never/none). */
  nextExpiryAt: Date | null;
}

/** `ViewerRetention` for many conversations of one reader, one statement (`Loaders.viewerRetention`). */
export async function viewerRetentionOf(
  db: Db,
  reader: { viewerId: string; now: Date },
  conversationIds: readonly string[],
): Promise<ViewerRetention[]> {
  if (conversationIds.length === 0) return [];
  const found = await rows<{
    conversationId: string;
    period: string | null;
    days: number | null;
    next: string | null;
  }>(
    db,
    sql`SELECT k.id AS "conversationId", pol.period, pol.days,
          CASE WHEN pol.days IS NULL THEN NULL ELSE
            (SELECT min(m.sent_at) FROM messages m
              WHERE m.conversation_id = k.id AND m.purged_at IS NULL
                AND m.sent_at > ${cutoffOf(sql`pol.days`, reader.now)}
                AND NOT EXISTS (SELECT 1 FROM stars s WHERE s.message_id = m.id AND s.user_id = ${reader.viewerId}))
            + pol.days * interval '1 day' END AS next
        FROM unnest(${sql.param([...conversationIds])}::uuid[]) AS k(id)
        LEFT JOIN LATERAL (
          SELECT p.period::text AS period, p.days FROM retention_policies p
          WHERE p.user_id = ${reader.viewerId} AND (p.conversation_id = k.id OR p.conversation_id IS NULL)
          ORDER BY p.conversation_id IS NULL LIMIT 1) pol ON TRUE`,
  );
  return found.map((r) => ({
    conversationId: r.conversationId,
    period: (r.period ?? 'FOREVER') as ViewerRetention['period'],
    days: r.days,
    nextExpiryAt: r.next ? new Date(r.next) : null,
  }));
}

/** T2: which of these messages the user starred, one statement. */
export async function starredBy(db: Db, userId: string, messageIds: readonly string[]): Promise<string[]> {
  const found = await rows<{ id: string }>(
    db,
    sql`SELECT message_id AS id FROM stars WHERE user_id = ${userId} AND message_id = ANY(${sql.param([...messageIds])}::uuid[])`,
  );
  return found.map((r) => r.id);
}
