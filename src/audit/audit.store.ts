import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { type Db, rows } from '../db/client.js';
import { groupMembers } from '../groups/groups.tables.js';
import { type ChainEntry, GENESIS_HASH, type SubjectKind } from './audit.chain.js';
import { type AuditEntryRow, type AuditHeadRow, auditEntries, auditHeads } from './audit.tables.js';

/**
 * The subject's head, locked FOR UPDATE until the transaction ends; an empty one (length 0) is
 * created first when the chain is new. Two transactions creating the same head meet on the primary
 * key: the second waits for the first to commit, then locks its row. Appends to one chain are
 * thereby serialized, and appends to other chains never wait.
 */
export async function lockHead(tx: Db, subjectId: string, subjectKind: SubjectKind): Promise<AuditHeadRow> {
  await tx
    .insert(auditHeads)
    .values({ subjectId, subjectKind, length: 0, hash: GENESIS_HASH })
    .onConflictDoNothing({ target: auditHeads.subjectId });
  const [head] = await tx.select().from(auditHeads).where(eq(auditHeads.subjectId, subjectId)).for('update');
  return head!;
}

/** Writes an entry and moves its chain's head onto it (the head is locked: `lockHead`). */
export async function insertEntry(tx: Db, e: ChainEntry): Promise<AuditEntryRow> {
  const [row] = await tx.insert(auditEntries).values(e).returning();
  await tx
    .update(auditHeads)
    .set({ length: e.seq, hash: e.hash })
    .where(eq(auditHeads.subjectId, e.subjectId));
  return row!;
}

/** The chain's head, if it has one. */
export async function findHead(db: Db, subjectId: string): Promise<AuditHeadRow | undefined> {
  const [head] = await db.select().from(auditHeads).where(eq(auditHeads.subjectId, subjectId));
  return head;
}

/** Whether the subject has a chain: a head, or entries (whose head was removed). */
export async function chainExists(db: Db, subjectId: string): Promise<boolean> {
  const [r] = await rows<{ found: boolean }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM ${auditHeads} WHERE ${auditHeads.subjectId} = ${subjectId})
        OR EXISTS (SELECT 1 FROM ${auditEntries} WHERE ${auditEntries.subjectId} = ${subjectId}) AS found`,
  );
  return r?.found === true;
}

/** Up to `limit` entries of the chain with seq above `afterSeq`, oldest first (by the primary key). */
export async function listEntries(
  db: Db,
  subjectId: string,
  afterSeq: number,
  limit: number,
): Promise<AuditEntryRow[]> {
  return db
    .select()
    .from(auditEntries)
    .where(and(eq(auditEntries.subjectId, subjectId), gt(auditEntries.seq, afterSeq)))
    .orderBy(asc(auditEntries.seq))
    .limit(limit);
}

/** Whose chains a verification walks: every chain, or those of the groups a user is a member of. */
export type ChainScope = { all: true } | { all: false; memberId: string };

/**
 * Up to `limit` subjects with a chain (a head or entries) in `scope`, after `after` in id order.
 * Every chain: the heads, plus any subject whose entries lost their head, found by skipping
 * through the primary key's index one subject at a time (never a scan of every entry).
 */
export async function chainSubjects(
  db: Db,
  scope: ChainScope,
  after: string | null,
  limit: number,
): Promise<string[]> {
  const afterId = sql`${after}::uuid`;
  const query = scope.all
    ? sql`
      WITH RECURSIVE e(id) AS (
        (SELECT subject_id FROM audit_entries WHERE ${afterId} IS NULL OR subject_id > ${afterId}
         ORDER BY subject_id LIMIT 1)
        UNION ALL
        SELECT (SELECT a.subject_id FROM audit_entries a WHERE a.subject_id > e.id
                ORDER BY a.subject_id LIMIT 1)
        FROM e WHERE e.id IS NOT NULL
      )
      SELECT id FROM (
        (SELECT id FROM e WHERE id IS NOT NULL LIMIT ${limit})
        UNION
        (SELECT subject_id FROM audit_heads WHERE ${afterId} IS NULL OR subject_id > ${afterId}
         ORDER BY subject_id LIMIT ${limit})
      ) u ORDER BY id LIMIT ${limit}`
    : sql`
      SELECT m.group_id AS id FROM group_members m
      WHERE m.user_id = ${scope.memberId} AND (${afterId} IS NULL OR m.group_id > ${afterId})
        AND (EXISTS (SELECT 1 FROM audit_heads h WHERE h.subject_id = m.group_id)
             OR EXISTS (SELECT 1 FROM audit_entries a WHERE a.subject_id = m.group_id))
      ORDER BY m.group_id LIMIT ${limit}`;
  return (await rows<{ id: string }>(db, query)).map((r) => r.id);
}

/**
 * Whether the user has a row in the group's members. A dissolved group keeps its member rows, so
 * the members at dissolution stay members here; someone who left or was removed before does not.
 */
export async function isGroupMember(db: Db, groupId: string, userId: string): Promise<boolean> {
  const [r] = await db
    .select({ userId: groupMembers.userId })
    .from(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
  return r !== undefined;
}
