import { and, asc, desc, eq, gt, lte, notInArray, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { type Db, rows } from '../db/client.js';
import { files } from '../files/files.tables.js';
import { conversations, messages } from '../messages/messages.tables.js';
import { payments } from '../payments/payments.tables.js';
import { heldMessage } from '../retention/retention.store.js';
import {
  type DissolutionFacts,
  type DissolutionStatus,
  filesGoneAt,
  nextDue,
  UNDER_WAY,
} from './dissolution.rules.js';
import { type DissolutionRow, dissolutions, groups } from './groups.tables.js';
import { addCounts, type ScrubCounts, scrubBody } from './scrub.rules.js';

const IN_FORCE = notInArray(dissolutions.status, ['CANCELLED', 'RESTORED']);

/** The group's dissolution in force (not cancelled or restored), if any; `lock` takes it FOR UPDATE. */
export async function inForceDissolution(
  db: Db,
  groupId: string,
  lock = false,
): Promise<DissolutionRow | undefined> {
  const q = db
    .select()
    .from(dissolutions)
    .where(and(eq(dissolutions.groupId, groupId), IN_FORCE));
  const [row] = await (lock ? q.for('update') : q);
  return row;
}

/** The latest dissolution of each group (in force or not), one statement: what `Group.dissolution` shows. */
export async function latestDissolutions(db: Db, groupIds: readonly string[]): Promise<DissolutionRow[]> {
  if (groupIds.length === 0) return [];
  return db
    .selectDistinctOn([dissolutions.groupId])
    .from(dissolutions)
    .where(sql`${dissolutions.groupId} = ANY(${sql.param([...groupIds])})`)
    .orderBy(dissolutions.groupId, desc(dissolutions.requestedAt), desc(dissolutions.id));
}

export async function insertDissolution(
  tx: Db,
  d: DissolutionFacts & {
    groupId: string;
    requestedBy: string;
    memberCount: number;
    requestedDevice: string | null;
    reviewId: string | null;
  },
): Promise<DissolutionRow> {
  const [row] = await tx
    .insert(dissolutions)
    .values({ ...d, nextDueAt: nextDue({ ...d, paymentsLeftAt: null }) })
    .returning();
  return row!;
}

/** Records a transition (and the next due instant that follows from it). */
export async function updateDissolution(
  tx: Db,
  d: DissolutionRow,
  set: Partial<
    Pick<
      DissolutionRow,
      'effectiveAt' | 'undoUntil' | 'paymentsLeaveAt' | 'confirmBy' | 'endReason' | 'memberCount'
    >
  > & { status?: DissolutionStatus; paymentsLeftAt?: Date; settledAt?: Date },
): Promise<DissolutionRow> {
  const next = { ...d, ...set };
  const [row] = await tx
    .update(dissolutions)
    .set({ ...set, nextDueAt: nextDue(next) })
    .where(eq(dissolutions.id, d.id))
    .returning();
  return row!;
}

/**
 * T5: dissolutions with a step due, found by index, locked together with their group; a row (or a
 * group) another transaction holds is skipped, so two sweepers never make the same step and the
 * sweeper never waits behind a restore or a send (it comes back on its next run).
 */
export async function lockDueDissolutions(db: Db, now: Date, limit: number): Promise<DissolutionRow[]> {
  const found = await db
    .select({ d: dissolutions })
    .from(dissolutions)
    .innerJoin(groups, eq(groups.id, dissolutions.groupId))
    .where(lte(dissolutions.nextDueAt, now))
    .orderBy(asc(dissolutions.nextDueAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  return found.map((r) => r.d);
}

/**
 * G3: deletes the files shared in a conversation (the messages stay), but not those of messages
 * under a legal hold (T3: readers see them gone all the same, by the dissolution's instants);
 * answers how many were deleted and how many a hold kept.
 */
export async function deleteFilesOf(
  db: Db,
  conversationId: string,
): Promise<{ deleted: number; held: number }> {
  const [r] = await rows<{ deleted: number; held: number }>(
    db,
    sql`WITH doomed AS (
          SELECT f.id, ${heldMessage(sql`m`, sql`c`)} AS held
          FROM files f JOIN messages m ON m.id = f.message_id JOIN conversations c ON c.id = m.conversation_id
          WHERE m.conversation_id = ${conversationId}),
        gone AS (DELETE FROM files WHERE id IN (SELECT id FROM doomed WHERE NOT held) RETURNING 1)
        SELECT (SELECT count(*)::int FROM gone) AS deleted, (SELECT count(*)::int FROM doomed WHERE held) AS held`,
  );
  return { deleted: r?.deleted ?? 0, held: r?.held ?? 0 };
}

/**
 * G3: the conversation's payment records leave it (the ledger keeps them), except those of messages
 * under a legal hold (T3: they keep their links; the ledger reads them detached all the same, by
 * the dissolution's instant); answers how many were detached and how many a hold kept linked.
 */
export async function detachPayments(
  db: Db,
  conversationId: string,
): Promise<{ detached: number; held: number }> {
  const [r] = await rows<{ detached: number; held: number }>(
    db,
    sql`WITH leaving AS (
          SELECT p.id, (m.id IS NOT NULL AND ${heldMessage(sql`m`, sql`c`)}) AS held
          FROM payments p JOIN conversations c ON c.id = p.conversation_id
          LEFT JOIN messages m ON m.id = p.message_id
          WHERE p.conversation_id = ${conversationId}),
        gone AS (UPDATE payments SET conversation_id = NULL, message_id = NULL
                 WHERE id IN (SELECT id FROM leaving WHERE NOT held) RETURNING 1)
        SELECT (SELECT count(*)::int FROM gone) AS detached, (SELECT count(*)::int FROM leaving WHERE held) AS held`,
  );
  return { detached: r?.detached ?? 0, held: r?.held ?? 0 };
}

/**
 * T3: a released hold lets go of what it kept through G3's steps (files at finalization, payment
 * links when the payments left): the dissolutions of the groups whose conversation `covered` (an
 * SQL condition on alias `c`) selects, past either step, are due again at `now`, so the next sweep
 * finishes those steps for what no other hold covers.
 */
export async function wakeReleasedDissolutions(tx: Db, covered: SQL, now: Date): Promise<void> {
  await tx.execute(
    sql`UPDATE dissolutions d SET next_due_at = ${now}::timestamptz
        FROM conversations c
        WHERE c.group_id = d.group_id AND (d.status = 'FINALIZED' OR d.payments_left_at IS NOT NULL)
          AND ${covered}`,
  );
}

/** `UNDER_WAY` as an SQL list of literals (constants of our own, never input). */
const UNDER_WAY_SQL = sql.raw(UNDER_WAY.map((s) => `'${s}'`).join(', '));

/**
 * G3 in SQL, as `paymentsGoneAt` reads it: the payments of the conversation `conversationId` (an
 * SQL expression) have left its dissolved group at `now` (a hold may have kept their links).
 */
export const paymentsLeftGroupAt = (conversationId: SQLWrapper, now: Date): SQL<boolean> =>
  sql<boolean>`EXISTS (SELECT 1 FROM conversations lc JOIN dissolutions ld ON ld.group_id = lc.group_id
      WHERE lc.id = ${conversationId} AND ld.status IN (${UNDER_WAY_SQL})
        AND ld.payments_leave_at <= ${now}::timestamptz)`;

/**
 * G10 in SQL: the messages of the conversation `conversationId` (an SQL expression) are a
 * FINANCIAL group's kept history whose undo window had ended at `now` and which the sweeper has
 * not scrubbed yet (it scrubs the rows as it records FINALIZED).
 */
export const scrubDueAt = (conversationId: SQLWrapper, now: Date): SQL<boolean> =>
  sql<boolean>`EXISTS (SELECT 1 FROM conversations sc
      JOIN groups sg ON sg.id = sc.group_id AND sg.kind = 'FINANCIAL'
      JOIN dissolutions sd ON sd.group_id = sc.group_id
      WHERE sc.id = ${conversationId} AND sd.keep_history AND sd.status IN (${UNDER_WAY_SQL})
        AND sd.status <> 'FINALIZED' AND sd.undo_until <= ${now}::timestamptz)`;

export interface Content {
  messages: number;
  files: number;
  payments: number;
}

/** What a dissolution would destroy or detach: the conversation's messages, files and payments now. */
export async function contentOf(db: Db, conversationId: string): Promise<Content> {
  const [r] = await rows<Content>(
    db,
    sql`SELECT (SELECT count(*)::int FROM ${messages} WHERE ${messages.conversationId} = ${conversationId}
                 AND ${messages.purgedAt} IS NULL) AS messages,
               (SELECT count(*)::int FROM ${files} JOIN ${messages} ON ${messages.id} = ${files.messageId}
                 WHERE ${messages.conversationId} = ${conversationId} AND ${messages.purgedAt} IS NULL) AS files,
               (SELECT count(*)::int FROM ${payments} WHERE ${payments.conversationId} = ${conversationId}) AS payments`,
  );
  return { messages: r?.messages ?? 0, files: r?.files ?? 0, payments: r?.payments ?? 0 };
}

/**
 * G3 without kept history: group conversations whose purge instant has passed and whose
 * dissolution is finalized, locked (`SKIP LOCKED`), for the batched purge.
 */
export async function lockDueGroupPurges(db: Db, now: Date, limit: number) {
  return db
    .select({ id: conversations.id, groupId: conversations.groupId, purgeAt: conversations.purgeAt })
    .from(conversations)
    .innerJoin(
      dissolutions,
      and(eq(dissolutions.groupId, conversations.groupId), eq(dissolutions.status, 'FINALIZED')),
    )
    .where(and(eq(conversations.kind, 'GROUP'), lte(conversations.purgeAt, now)))
    .orderBy(asc(conversations.purgeAt))
    .limit(limit)
    .for('update', { of: conversations, skipLocked: true });
}

/** G3: whether the files of this conversation (a dissolved group's) are gone at `now`. */
export async function filesGoneIn(db: Db, conversationId: string, now: Date): Promise<boolean> {
  const found = await db
    .select({ d: dissolutions })
    .from(dissolutions)
    .innerJoin(conversations, eq(conversations.groupId, dissolutions.groupId))
    .where(and(eq(conversations.id, conversationId), IN_FORCE));
  return filesGoneAt(found[0]?.d, now);
}

/** A dissolution by id (`lock`: FOR UPDATE). */
export async function findDissolution(db: Db, id: string, lock = false): Promise<DissolutionRow | undefined> {
  const q = db.select().from(dissolutions).where(eq(dissolutions.id, id));
  const [row] = await (lock ? q.for('update') : q);
  return row;
}

/** G9: the group's guardian (null for a group that has none). */
export async function guardianOf(db: Db, groupId: string): Promise<string | null> {
  const [g] = await db.select({ guardianId: groups.guardianId }).from(groups).where(eq(groups.id, groupId));
  return g?.guardianId ?? null;
}

/** The group's kind. */
export async function groupKindOf(db: Db, groupId: string): Promise<string | undefined> {
  const [g] = await db.select({ kind: groups.kind }).from(groups).where(eq(groups.id, groupId));
  return g?.kind;
}

const SCRUB_BATCH = 1_000;

/**
 * G10: masks bank card, resident ID and mobile numbers in every message body of a conversation,
 * in place, page by page (by seq); answers how many bodies changed and how many numbers of each
 * kind were masked. Rows kept under a legal hold are scrubbed too: a hold stops deletion, and
 * readers must see the same text with or without one (T3).
 */
export async function scrubConversation(
  db: Db,
  conversationId: string,
): Promise<{ messages: number; counts: ScrubCounts }> {
  let counts: ScrubCounts = { bankCards: 0, residentIds: 0, mobiles: 0 };
  let changed = 0;
  let after = 0;
  for (;;) {
    const page = await db
      .select({ id: messages.id, seq: messages.seq, body: messages.body })
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), gt(messages.seq, after)))
      .orderBy(asc(messages.seq))
      .limit(SCRUB_BATCH);
    for (const m of page) {
      const s = scrubBody(m.body);
      if (s.body !== m.body) {
        await db.update(messages).set({ body: s.body }).where(eq(messages.id, m.id));
        changed++;
      }
      counts = addCounts(counts, s.counts);
    }
    if (page.length < SCRUB_BATCH) return { messages: changed, counts };
    after = page.at(-1)!.seq;
  }
}
