import { and, asc, desc, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { users } from '../users/users.tables.js';
import type { GroupKind, GroupRole, Standing, TransferStatus } from './groups.rules.js';
import {
  type GroupMemberRow,
  type GroupRow,
  groupDepartures,
  groupMembers,
  groups,
  ownershipTransfers,
  type TransferRow,
} from './groups.tables.js';

/**
 * The group row, locked for the rest of the transaction: `update` for membership and role
 * changes, `share` for sends (they run side by side, and never beside a membership change).
 */
export async function lockGroup(tx: Db, id: string, mode: 'update' | 'share'): Promise<GroupRow | undefined> {
  const q = tx.select().from(groups).where(eq(groups.id, id));
  const [row] = await (mode === 'update' ? q.for('update') : q.for('share'));
  return row;
}

/** The group, if the user is a member now; with the user's role. */
export async function findGroupOf(
  db: Db,
  id: string,
  userId: string,
): Promise<{ group: GroupRow; role: GroupRole } | undefined> {
  const [row] = await db
    .select({ group: groups, role: groupMembers.role })
    .from(groups)
    .innerJoin(groupMembers, and(eq(groupMembers.groupId, groups.id), eq(groupMembers.userId, userId)))
    .where(eq(groups.id, id));
  return row;
}

/** The groups with these ids that the user is a member of, in one statement; the others are left out. */
export async function findGroupsOf(db: Db, ids: readonly string[], userId: string): Promise<GroupRow[]> {
  return db
    .select({ group: groups })
    .from(groups)
    .innerJoin(groupMembers, and(eq(groupMembers.groupId, groups.id), eq(groupMembers.userId, userId)))
    .where(sql`${groups.id} = ANY(${sql.param([...ids])})`)
    .then((rs) => rs.map((r) => r.group));
}

/** Each user's role in the group (null: not a member), in one statement. */
export async function standingsIn(
  db: Db,
  groupId: string,
  userIds: string[],
): Promise<Map<string, Standing>> {
  const found = userIds.length
    ? await db
        .select({ userId: groupMembers.userId, role: groupMembers.role })
        .from(groupMembers)
        .where(and(eq(groupMembers.groupId, groupId), inArray(groupMembers.userId, userIds)))
    : [];
  const roles = new Map(found.map((r) => [r.userId, r.role] as const));
  return new Map(userIds.map((u) => [u, roles.get(u) ?? null]));
}

/** The user's role in the group, or null when not a member now. */
export async function standingIn(db: Db, groupId: string, userId: string): Promise<Standing> {
  return (await standingsIn(db, groupId, [userId])).get(userId) ?? null;
}

/** Every current member's id (the audience of a group notice). */
export async function memberIds(db: Db, groupId: string): Promise<string[]> {
  const rs = await db
    .select({ userId: groupMembers.userId })
    .from(groupMembers)
    .where(eq(groupMembers.groupId, groupId));
  return rs.map((r) => r.userId);
}

/** The ids among `ids` that name no user. */
export async function unknownUsers(db: Db, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const found = await db.select({ id: users.id }).from(users).where(inArray(users.id, ids));
  const known = new Set(found.map((r) => r.id));
  return ids.filter((id) => !known.has(id));
}

export async function insertGroup(
  tx: Db,
  g: { name: string; kind: GroupKind; guardianId: string | null; createdBy: string; now: Date },
): Promise<GroupRow> {
  const [row] = await tx
    .insert(groups)
    .values({
      name: g.name,
      kind: g.kind,
      guardianId: g.guardianId,
      createdBy: g.createdBy,
      createdAt: g.now,
      memberCount: 0,
    })
    .returning();
  return row!;
}

/**
 * Adds members (those already in are left as they are) and keeps `memberCount`; returns the ids
 * that joined now.
 */
export async function addMembers(
  tx: Db,
  groupId: string,
  members: { userId: string; role: GroupRole }[],
  now: Date,
): Promise<string[]> {
  if (members.length === 0) return [];
  const added = await tx
    .insert(groupMembers)
    .values(members.map((m) => ({ groupId, userId: m.userId, role: m.role, joinedAt: now })))
    .onConflictDoNothing()
    .returning({ userId: groupMembers.userId });
  if (added.length > 0) await bumpCount(tx, groupId, added.length);
  return added.map((a) => a.userId);
}

/**
 * Removes a member, keeps `memberCount`, and records the departure (T3: a hold on a user covers
 * the groups they were in); true when it was one.
 */
export async function removeMember(tx: Db, groupId: string, userId: string, now: Date): Promise<boolean> {
  const gone = await tx
    .delete(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)))
    .returning({ userId: groupMembers.userId });
  if (gone.length === 0) return false;
  await bumpCount(tx, groupId, -gone.length);
  await tx.insert(groupDepartures).values({ groupId, userId, leftAt: now });
  return true;
}

async function bumpCount(tx: Db, groupId: string, delta: number): Promise<void> {
  await tx
    .update(groups)
    .set({ memberCount: sql`${groups.memberCount} + ${delta}` })
    .where(eq(groups.id, groupId));
}

export async function setRole(
  tx: Db,
  groupId: string,
  userId: string,
  role: GroupRole,
): Promise<GroupMemberRow> {
  const [row] = await tx
    .update(groupMembers)
    .set({ role })
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)))
    .returning();
  return row!;
}

export async function setProtection(tx: Db, groupId: string, enabled: boolean): Promise<GroupRow> {
  const [row] = await tx
    .update(groups)
    .set({ dissolutionProtection: enabled })
    .where(eq(groups.id, groupId))
    .returning();
  return row!;
}

export async function findMember(
  db: Db,
  groupId: string,
  userId: string,
): Promise<GroupMemberRow | undefined> {
  const [row] = await db
    .select()
    .from(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
  return row;
}

const anyOf = (ids: readonly string[]) => sql`${groupMembers.groupId} = ANY(${sql.param([...ids])})`;

/** The owners of these groups (their member rows), in one statement. */
export async function ownersOf(db: Db, groupIds: readonly string[]): Promise<GroupMemberRow[]> {
  return db
    .select()
    .from(groupMembers)
    .where(and(anyOf(groupIds), eq(groupMembers.role, 'OWNER')));
}

/** The user's member rows in these groups (those they are in), in one statement. */
export async function membershipsOf(
  db: Db,
  groupIds: readonly string[],
  userId: string,
): Promise<GroupMemberRow[]> {
  return db
    .select()
    .from(groupMembers)
    .where(and(anyOf(groupIds), eq(groupMembers.userId, userId)));
}

/** The user's groups, most recently joined first (keyset on joinedAt, group id). */
export async function listGroupsOf(
  db: Db,
  userId: string,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<(GroupRow & { joinedAt: Date })[]> {
  const m = groupMembers;
  const rs = await db
    .select({ group: groups, joinedAt: m.joinedAt })
    .from(m)
    .innerJoin(groups, eq(groups.id, m.groupId))
    .where(
      and(
        eq(m.userId, userId),
        after
          ? or(lt(m.joinedAt, after.at), and(eq(m.joinedAt, after.at), lt(m.groupId, after.id)))
          : undefined,
      ),
    )
    .orderBy(desc(m.joinedAt), desc(m.groupId))
    .limit(limit);
  return rs.map((r) => ({ ...r.group, joinedAt: r.joinedAt }));
}

/** R7: groups both users are members of now, newest first (keyset on createdAt, id). */
export async function listCommonGroups(
  db: Db,
  a: string,
  b: string,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<GroupRow[]> {
  const ma = alias(groupMembers, 'ma');
  const mb = alias(groupMembers, 'mb');
  const rs = await db
    .select({ group: groups })
    .from(ma)
    .innerJoin(mb, and(eq(mb.groupId, ma.groupId), eq(mb.userId, b)))
    .innerJoin(groups, eq(groups.id, ma.groupId))
    .where(
      and(
        eq(ma.userId, a),
        after
          ? or(lt(groups.createdAt, after.at), and(eq(groups.createdAt, after.at), lt(groups.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(desc(groups.createdAt), desc(groups.id))
    .limit(limit);
  return rs.map((r) => r.group);
}

/** A page of a group's members in joining order (keyset on joinedAt, user id). */
export async function listMembers(
  db: Db,
  groupId: string,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<GroupMemberRow[]> {
  const m = groupMembers;
  return db
    .select()
    .from(m)
    .where(
      and(
        eq(m.groupId, groupId),
        after
          ? or(gt(m.joinedAt, after.at), and(eq(m.joinedAt, after.at), gt(m.userId, after.id)))
          : undefined,
      ),
    )
    .orderBy(asc(m.joinedAt), asc(m.userId))
    .limit(limit);
}

// --- G2 transfers ------------------------------------------------------------------------------

export async function insertTransfer(
  tx: Db,
  t: { groupId: string; fromUserId: string; toUserId: string; now: Date },
): Promise<TransferRow> {
  const [row] = await tx
    .insert(ownershipTransfers)
    .values({
      groupId: t.groupId,
      fromUserId: t.fromUserId,
      toUserId: t.toUserId,
      status: 'PENDING',
      createdAt: t.now,
    })
    .returning();
  return row!;
}

export async function findTransfer(db: Db, id: string): Promise<TransferRow | undefined> {
  const [row] = await db.select().from(ownershipTransfers).where(eq(ownershipTransfers.id, id));
  return row;
}

/** The pending transfers of these groups, in one statement. */
export async function pendingTransfers(db: Db, groupIds: readonly string[]): Promise<TransferRow[]> {
  return db
    .select()
    .from(ownershipTransfers)
    .where(
      and(
        sql`${ownershipTransfers.groupId} = ANY(${sql.param([...groupIds])})`,
        eq(ownershipTransfers.status, 'PENDING'),
      ),
    );
}

/** The group's pending transfer, if any. */
export async function pendingTransfer(db: Db, groupId: string): Promise<TransferRow | undefined> {
  const [row] = await db
    .select()
    .from(ownershipTransfers)
    .where(and(eq(ownershipTransfers.groupId, groupId), eq(ownershipTransfers.status, 'PENDING')));
  return row;
}

export async function settleTransfer(
  tx: Db,
  id: string,
  status: TransferStatus,
  now: Date,
): Promise<TransferRow> {
  const [row] = await tx
    .update(ownershipTransfers)
    .set({ status, settledAt: now })
    .where(eq(ownershipTransfers.id, id))
    .returning();
  return row!;
}
