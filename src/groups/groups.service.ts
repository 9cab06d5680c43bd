// Group use cases (SPEC §2 G1, G2; R7). Each mutation runs in one transaction holding the group row
// FOR UPDATE, asks the permission table (groups.rules.ts) before it changes anything, and writes
// its notices in the same transaction (N2) to the members entitled to them (N3).
import { sql } from 'drizzle-orm';
import type { Viewer } from '../auth.js';
import type { Db } from '../db/client.js';
import { createGroupConversation } from '../messages/messages.store.js';
import { publish } from '../notices/notices.outbox.js';
import type { NewNotice } from '../notices/notices.store.js';
import { refreshT2 } from '../retention/retention.store.js';
import type { Deps } from '../shared/deps.js';
import { isUserId, isUuid, malformedId, requireId } from '../shared/ids.js';
import { ok, onField, type Result, refuse } from '../shared/result.js';
import { fitsText } from '../shared/text.js';
import { dissolvedAt, GROUP_DISSOLVED } from './dissolution.rules.js';
import { inForceDissolution } from './dissolution.store.js';
import {
  checkProtectionKind,
  checkSize,
  decideTransferStep,
  type GroupAction,
  type GroupKind,
  type GroupRole,
  MAX_GROUP_NAME,
  permit,
  type Standing,
} from './groups.rules.js';
import {
  addMembers,
  findGroupOf,
  findTransfer,
  insertGroup,
  insertTransfer,
  lockGroup,
  memberIds,
  pendingTransfer,
  removeMember,
  setProtection,
  setRole,
  settleTransfer,
  standingIn,
  standingsIn,
  unknownUsers,
} from './groups.store.js';
import type { GroupMemberRow, GroupRow, TransferRow } from './groups.tables.js';

/** What a membership notice says changed. */
export type MemberChange = 'JOINED' | 'LEFT' | 'REMOVED' | 'ROLE_CHANGED';

/** GroupMemberChanged, to `recipientIds` (the members after the change, plus whoever left). */
const memberNotice = (
  recipientIds: string[],
  groupId: string,
  change: MemberChange,
  userIds: string[],
  byUserId: string,
  role: GroupRole | null,
): NewNotice => ({
  recipientIds,
  kind: 'GroupMemberChanged',
  payload: { groupId, change, userIds, byUserId, role },
});

/** OwnershipTransferChanged, to the two parties of the transfer. */
const transferNotice = (t: TransferRow): NewNotice => ({
  recipientIds: [t.fromUserId, t.toUserId],
  kind: 'OwnershipTransferChanged',
  payload: {
    transferId: t.id,
    groupId: t.groupId,
    fromUserId: t.fromUserId,
    toUserId: t.toUserId,
    status: t.status,
  },
});

/** Ids from the client: well-formed, distinct, existing users (NOT_FOUND names the field). */
async function checkUsers(tx: Db, ids: readonly string[], field: string[]): Promise<Result<string[]>> {
  const distinct = [...new Set(ids)];
  if (!distinct.every(isUserId)) return refuse('BAD_USER_INPUT', 'Not a well-formed user id.', field);
  const unknown = await unknownUsers(tx, distinct);
  if (unknown.length > 0) return refuse('NOT_FOUND', `No such user: ${unknown[0]}.`, field);
  return ok(distinct);
}

export interface Locked {
  tx: Db;
  group: GroupRow;
  /** The actor's role (they are a member: `withGroup` refused otherwise). */
  role: GroupRole;
  now: Date;
}

/**
 * Runs `fn` in a transaction holding the group FOR UPDATE, once the actor may do `action` at all
 * (a non-member: NOT_FOUND on `input.groupId`, so a group's existence is not told; a member
 * refused: FORBIDDEN) and the group is not DISSOLVED (G3: read-only, GROUP_DISSOLVED; dissolving
 * again says the same). A refusal from `fn` rolls nothing back because nothing was written yet.
 */
export async function withGroup<T>(
  deps: Deps,
  actorId: string,
  groupId: string,
  action: GroupAction,
  fn: (l: Locked) => Promise<Result<T>>,
): Promise<Result<T>> {
  const field = ['input', 'groupId'];
  const malformed = malformedId('uuid', groupId, field);
  if (malformed) return malformed;
  return deps.db.transaction(async (tx) => {
    const group = await lockGroup(tx, groupId, 'update');
    const role = group ? await standingIn(tx, groupId, actorId) : null;
    const allowed = permit(role, action);
    if (!allowed.ok) return onField(allowed, field);
    const now = deps.clock.now();
    if (dissolvedAt(await inForceDissolution(tx, groupId), now)) return onField(GROUP_DISSOLVED, field);
    return fn({ tx, group: group!, role: role!, now });
  });
}

// --- G1: groups and members --------------------------------------------------------------------

export interface CreateGroupInput {
  name: string;
  kind: GroupKind;
  memberIds: readonly string[];
  guardianId?: string | null;
}

/**
 * `createGroup`: the creator is OWNER, `memberIds` (existing users; duplicates and the creator
 * ignored) are MEMBERs; an EDUCATION group needs a guardian who is an existing user and not a
 * member (G9), other kinds take none. One GROUP conversation is created with it.
 */
export async function createGroup(
  deps: Deps,
  viewer: Viewer,
  input: CreateGroupInput,
): Promise<Result<{ group: GroupRow }>> {
  const name = input.name.trim();
  if (!name || !fitsText(name, MAX_GROUP_NAME)) {
    return refuse('BAD_USER_INPUT', `A group name has 1 to ${MAX_GROUP_NAME} characters.`, ['input', 'name']);
  }
  const guardianField = ['input', 'guardianId'];
  const guardianId = input.guardianId ?? null;
  if (input.kind === 'EDUCATION' && guardianId === null) {
    return refuse('BAD_USER_INPUT', 'An EDUCATION group needs a guardian (G9).', guardianField);
  }
  if (input.kind !== 'EDUCATION' && guardianId !== null) {
    return refuse('BAD_USER_INPUT', 'Only an EDUCATION group has a guardian.', guardianField);
  }
  return deps.db.transaction(async (tx) => {
    const members = await checkUsers(tx, input.memberIds, ['input', 'memberIds']);
    if (!members.ok) return members;
    const others = members.value.filter((id) => id !== viewer.userId);
    const size = checkSize(1, others.length);
    if (!size.ok) return onField(size, ['input', 'memberIds']);
    if (guardianId !== null) {
      const guardian = await checkUsers(tx, [guardianId], guardianField);
      if (!guardian.ok) return guardian;
      if (guardianId === viewer.userId || others.includes(guardianId)) {
        return refuse('BAD_USER_INPUT', 'The guardian cannot be a member of the group.', guardianField);
      }
    }
    const now = deps.clock.now();
    const group = await insertGroup(tx, {
      name,
      kind: input.kind,
      guardianId,
      createdBy: viewer.userId,
      now,
    });
    await addMembers(
      tx,
      group.id,
      [
        { userId: viewer.userId, role: 'OWNER' },
        ...others.map((userId) => ({ userId, role: 'MEMBER' as const })),
      ],
      now,
    );
    await createGroupConversation(tx, group.id, now);
    await refreshT2(tx, sql`c.group_id = ${group.id}`, now); // T2: the members' periods
    const all = [viewer.userId, ...others];
    await publish(tx, [memberNotice(all, group.id, 'JOINED', all, viewer.userId, null)], now);
    return ok({ group: { ...group, memberCount: all.length } });
  });
}

/**
 * `inviteToGroup` (any member, G1): the users join at once as MEMBERs; those already in are left
 * as they are; unknown ids → NOT_FOUND on `input.userIds`; the guardian cannot join.
 */
export function inviteToGroup(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string; userIds: readonly string[] },
): Promise<Result<{ group: GroupRow }>> {
  return withGroup(deps, viewer.userId, input.groupId, 'INVITE', async ({ tx, group, now }) => {
    const field = ['input', 'userIds'];
    const users = await checkUsers(tx, input.userIds, field);
    if (!users.ok) return users;
    if (group.guardianId !== null && users.value.includes(group.guardianId)) {
      return refuse('BAD_USER_INPUT', 'The guardian cannot be a member of the group.', field);
    }
    const standings = await standingsIn(tx, group.id, users.value);
    const joining = users.value.filter((u) => standings.get(u) === null);
    const size = checkSize(group.memberCount, joining.length);
    if (!size.ok) return onField(size, field);
    const joined = await addMembers(
      tx,
      group.id,
      joining.map((userId) => ({ userId, role: 'MEMBER' as const })),
      now,
    );
    if (joined.length > 0) {
      await refreshT2(tx, sql`c.group_id = ${group.id}`, now); // T2: the newcomers' periods count
      const audience = await memberIds(tx, group.id);
      await publish(tx, [memberNotice(audience, group.id, 'JOINED', joined, viewer.userId, 'MEMBER')], now);
    }
    return ok({ group: { ...group, memberCount: group.memberCount + joined.length } });
  });
}

/** The target's role, or NOT_FOUND on `field` when the target is not a member. */
async function targetRole(
  tx: Db,
  groupId: string,
  userId: string,
  field: string[],
): Promise<Result<GroupRole>> {
  const malformed = malformedId('user', userId, field);
  if (malformed) return malformed;
  const role: Standing = await standingIn(tx, groupId, userId);
  return role ? ok(role) : refuse('NOT_FOUND', 'This user is not a member of the group.', field);
}

/** A pending transfer to `userId` lapses when they stop being a member (G2). */
async function lapseTransfersTo(tx: Db, groupId: string, userId: string, now: Date): Promise<NewNotice[]> {
  const t = await pendingTransfer(tx, groupId);
  if (!t || t.toUserId !== userId) return [];
  return [transferNotice(await settleTransfer(tx, t.id, 'LAPSED', now))];
}

/**
 * `removeFromGroup` (G1: admins remove MEMBERs, the owner anyone but itself). The removed user
 * stops seeing the group at once and is told once; a pending transfer to them lapses.
 */
export function removeFromGroup(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string; userId: string },
): Promise<Result<{ group: GroupRow }>> {
  return withGroup(deps, viewer.userId, input.groupId, 'REMOVE', async ({ tx, group, role, now }) => {
    const field = ['input', 'userId'];
    const target = await targetRole(tx, group.id, input.userId, field);
    if (!target.ok) return target;
    const allowed = permit(role, 'REMOVE', target.value);
    if (!allowed.ok) return onField(allowed, field);
    await removeMember(tx, group.id, input.userId, now);
    await refreshT2(tx, sql`c.group_id = ${group.id}`, now); // T2: they keep nothing alive now
    const lapsed = await lapseTransfersTo(tx, group.id, input.userId, now);
    const audience = [...(await memberIds(tx, group.id)), input.userId];
    await publish(
      tx,
      [memberNotice(audience, group.id, 'REMOVED', [input.userId], viewer.userId, null), ...lapsed],
      now,
    );
    return ok({ group: { ...group, memberCount: group.memberCount - 1 } });
  });
}

/** `leaveGroup` (anyone but the owner, who must transfer first — G1/G2). */
export function leaveGroup(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string },
): Promise<Result<{ groupId: string }>> {
  return withGroup(deps, viewer.userId, input.groupId, 'LEAVE', async ({ tx, group, now }) => {
    await removeMember(tx, group.id, viewer.userId, now);
    await refreshT2(tx, sql`c.group_id = ${group.id}`, now); // T2: they keep nothing alive now
    const lapsed = await lapseTransfersTo(tx, group.id, viewer.userId, now);
    const audience = [...(await memberIds(tx, group.id)), viewer.userId];
    await publish(
      tx,
      [memberNotice(audience, group.id, 'LEFT', [viewer.userId], viewer.userId, null), ...lapsed],
      now,
    );
    return ok({ groupId: group.id });
  });
}

/** `setMemberRole` (owner only, G1): ADMIN or MEMBER for a member other than the owner. */
export function setMemberRole(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string; userId: string; role: 'ADMIN' | 'MEMBER' },
): Promise<Result<{ member: GroupMemberRow }>> {
  return withGroup(deps, viewer.userId, input.groupId, 'SET_ROLE', async ({ tx, group, role, now }) => {
    const field = ['input', 'userId'];
    const target = await targetRole(tx, group.id, input.userId, field);
    if (!target.ok) return target;
    const allowed = permit(role, 'SET_ROLE', target.value);
    if (!allowed.ok) return onField(allowed, field);
    const member = await setRole(tx, group.id, input.userId, input.role);
    if (target.value !== input.role) {
      const audience = await memberIds(tx, group.id);
      await publish(
        tx,
        [memberNotice(audience, group.id, 'ROLE_CHANGED', [input.userId], viewer.userId, input.role)],
        now,
      );
    }
    return ok({ member });
  });
}

/** `setDissolutionProtection` (owner only, ENTERPRISE only — G4). */
export function setDissolutionProtection(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string; enabled: boolean },
): Promise<Result<{ group: GroupRow }>> {
  return withGroup(deps, viewer.userId, input.groupId, 'SET_PROTECTION', async ({ tx, group }) => {
    const kind = checkProtectionKind(group.kind);
    if (!kind.ok) return onField(kind, ['input', 'groupId']);
    return ok({ group: await setProtection(tx, group.id, input.enabled) });
  });
}

// --- G2: ownership transfer ----------------------------------------------------------------------

/** `transferOwnership` (owner only): a PENDING transfer to a member; one at a time. */
export function transferOwnership(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string; toUserId: string },
): Promise<Result<{ transfer: TransferRow }>> {
  return withGroup(deps, viewer.userId, input.groupId, 'TRANSFER', async ({ tx, group, role, now }) => {
    const field = ['input', 'toUserId'];
    const target = await targetRole(tx, group.id, input.toUserId, field);
    if (!target.ok) return target;
    const allowed = permit(role, 'TRANSFER', target.value);
    if (!allowed.ok) return onField(allowed, field);
    if (await pendingTransfer(tx, group.id)) {
      return refuse('ALREADY_EXISTS', 'A transfer is pending already; cancel it first.', [
        'input',
        'groupId',
      ]);
    }
    const transfer = await insertTransfer(tx, {
      groupId: group.id,
      fromUserId: viewer.userId,
      toUserId: input.toUserId,
      now,
    });
    await publish(tx, [transferNotice(transfer)], now);
    return ok({ transfer });
  });
}

/**
 * A step on a transfer by its target (accept/decline) or its owner (cancel), under the group lock.
 * Someone who is neither party gets NOT_FOUND: a transfer is visible to its two parties only.
 */
async function stepTransfer<T>(
  deps: Deps,
  viewer: Viewer,
  transferId: string,
  step: 'ACCEPT' | 'DECLINE' | 'CANCEL',
  fn: (tx: Db, t: TransferRow, now: Date) => Promise<T>,
): Promise<Result<T>> {
  const field = ['input', 'transferId'];
  const malformed = malformedId('uuid', transferId, field);
  if (malformed) return malformed;
  return deps.db.transaction(async (tx): Promise<Result<T>> => {
    const seen = await findTransfer(tx, transferId);
    if (!seen) return refuse('NOT_FOUND', 'No such transfer.', field);
    await lockGroup(tx, seen.groupId, 'update');
    const t = (await findTransfer(tx, transferId))!; // as of the lock
    const d = decideTransferStep(t, viewer.userId, step);
    if (!d.ok) return onField(d, field);
    const now = deps.clock.now();
    // G3: a dissolved group is read-only, its pending transfer too (a restore finds it as it was).
    if (dissolvedAt(await inForceDissolution(tx, t.groupId), now)) return onField(GROUP_DISSOLVED, field);
    const settled = await settleTransfer(tx, t.id, d.status, now);
    return ok(await fn(tx, settled, now));
  });
}

/**
 * `respondToOwnershipTransfer` by its target: on accept, in one transaction, the target is OWNER
 * and the old owner MEMBER (G2); on decline nothing else changes.
 */
export function respondToOwnershipTransfer(
  deps: Deps,
  viewer: Viewer,
  input: { transferId: string; accept: boolean },
): Promise<Result<{ group: GroupRow; transfer: TransferRow }>> {
  return stepTransfer(
    deps,
    viewer,
    input.transferId,
    input.accept ? 'ACCEPT' : 'DECLINE',
    async (tx, t, now) => {
      const notices = [transferNotice(t)];
      if (t.status === 'ACCEPTED') {
        await setRole(tx, t.groupId, t.fromUserId, 'MEMBER'); // first: one OWNER at a time
        await setRole(tx, t.groupId, t.toUserId, 'OWNER');
        const audience = await memberIds(tx, t.groupId);
        notices.push(
          memberNotice(audience, t.groupId, 'ROLE_CHANGED', [t.fromUserId], t.toUserId, 'MEMBER'),
          memberNotice(audience, t.groupId, 'ROLE_CHANGED', [t.toUserId], t.toUserId, 'OWNER'),
        );
      }
      await publish(tx, notices, now);
      const group = (await findGroupOf(tx, t.groupId, viewer.userId))!.group;
      return { group, transfer: t };
    },
  );
}

/** `cancelOwnershipTransfer` by the owner who made it, while it is pending. */
export function cancelOwnershipTransfer(
  deps: Deps,
  viewer: Viewer,
  input: { transferId: string },
): Promise<Result<{ transfer: TransferRow }>> {
  return stepTransfer(deps, viewer, input.transferId, 'CANCEL', async (tx, t, now) => {
    await publish(tx, [transferNotice(t)], now);
    return { transfer: t };
  });
}

// --- reads ---------------------------------------------------------------------------------------

/** A group the viewer is a member of, or null; BAD_USER_INPUT for a malformed id. */
export async function getGroup(db: Db, viewerId: string, id: string): Promise<GroupRow | null> {
  requireId('uuid', id);
  return (await findGroupOf(db, id, viewerId))?.group ?? null;
}

/** A transfer, for its two parties only (null otherwise). */
export async function findTransferFor(db: Db, viewerId: string, id: string): Promise<TransferRow | null> {
  if (!isUuid(id)) return null;
  const t = await findTransfer(db, id);
  return t && (t.fromUserId === viewerId || t.toUserId === viewerId) ? t : null;
}
