import { and, eq, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type ContactEntryRow, contactEntries } from '../contacts/contacts.tables.js';
import type { Database } from '../db/client.js';
import { type ConversationRow, conversations } from '../messages/messages.tables.js';

export interface RetentionFacts {
  conversation: ConversationRow;
  mine: ContactEntryRow;
  theirs: ContactEntryRow | null;
  /** Message rows still stored (the rules decide how many the viewer may read). */
  storedMessages: number;
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
): Promise<RetentionFacts | undefined> {
  const [row] = await loadRetentionFactsOf(db, [conversationId], viewerId);
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
): Promise<RetentionFacts[]> {
  let query = prepared.get(db);
  if (!query) {
    query = prepareRetentionFacts(db);
    prepared.set(db, query);
  }
  return query.execute({ conversationIds: [...conversationIds], viewerId });
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
      storedMessages: sql<number>`(SELECT count(*)::int FROM messages m WHERE m.conversation_id = ${c.id})`,
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
