// Dissolution use cases (SPEC §2 G3–G6, G11): dissolve, cancel, restore, preview, and the sweeper's
// timed steps. Every step runs in one transaction that also appends its G11 audit entry and writes
// its GroupDissolutionChanged notice to every member (N2). Until the undo window ends nothing of the
// group is touched — members, roles, messages, files, payments, protection, a pending transfer stay
// as they are, only refused (read-only) — so a restore is exact by construction.

import { appendAudit } from '../audit/audit.service.js';
import type { Viewer } from '../auth.js';
import type { Db } from '../db/client.js';
import {
  findGroupConversations,
  purgeMessages,
  setGroupPurgeAt,
  updateRetention,
} from '../messages/messages.store.js';
import { publish } from '../notices/notices.outbox.js';
import type { NewNotice } from '../notices/notices.store.js';
import type { Deps } from '../shared/deps.js';
import { malformedId, requireId } from '../shared/ids.js';
import { ok, onField, type Result, type UserError } from '../shared/result.js';
import {
  checkCancel,
  checkDissolve,
  checkRestore,
  type DissolutionFacts,
  type DissolutionStatus,
  dueSteps,
  planDissolution,
  purgeAtOf,
  stateAt,
} from './dissolution.rules.js';
import {
  contentOf,
  deleteFilesOf,
  detachPayments,
  inForceDissolution,
  insertDissolution,
  lockDueDissolutions,
  lockDueGroupPurges,
  updateDissolution,
} from './dissolution.store.js';
import { permit } from './groups.rules.js';
import { withGroup } from './groups.service.js';
import { findGroupOf, lockGroup, memberIds, standingIn } from './groups.store.js';
import type { DissolutionRow, GroupRow } from './groups.tables.js';

/** G11: the kinds of audit entry a dissolution appends to its group's chain. */
export type DissolutionAuditKind =
  | 'DISSOLUTION_REQUESTED'
  | 'DISSOLUTION_SCHEDULED'
  | 'DISSOLUTION_EFFECTIVE'
  | 'DISSOLUTION_CANCELLED'
  | 'GROUP_RESTORED'
  | 'DISSOLUTION_FINALIZED'
  | 'PAYMENTS_LEFT_GROUP'
  | 'HISTORY_PURGED';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The facts of a dissolution every entry and notice carries. */
const factsOf = (d: DissolutionRow) => ({
  dissolutionId: d.id,
  keepHistory: d.keepHistory,
  requestedAt: iso(d.requestedAt),
  effectiveAt: iso(d.effectiveAt),
  undoUntil: iso(d.undoUntil),
  paymentsLeaveAt: iso(d.paymentsLeaveAt),
});

/** Appends one G11 entry about the group, in the caller's transaction. */
function audit(
  tx: Db,
  d: DissolutionRow,
  kind: DissolutionAuditKind,
  actorId: string | null,
  at: Date,
  extra: Record<string, string | number | boolean | null> = {},
) {
  return appendAudit(tx, {
    subjectId: d.groupId,
    subjectKind: 'GROUP',
    kind,
    actorId,
    data: { ...factsOf(d), ...extra },
    at,
  });
}

/** GroupDissolutionChanged, to every member of the group (a dissolved group keeps its members). */
async function tell(tx: Db, d: DissolutionRow, status: DissolutionStatus, byOwnerId: string | null) {
  const recipientIds = await memberIds(tx, d.groupId);
  const notice: NewNotice = {
    recipientIds,
    kind: 'GroupDissolutionChanged',
    payload: {
      groupId: d.groupId,
      dissolutionId: d.id,
      status,
      keepHistory: d.keepHistory,
      effectiveAt: iso(d.effectiveAt),
      undoUntil: iso(d.undoUntil),
      byOwnerId,
    },
  };
  return notice;
}

/**
 * `dissolveGroup` (owner only, G1): refused GROUP_PROTECTED while protection is on (G4),
 * GROUP_DISSOLVED when dissolved or being dissolved. Up to 500 members it is EFFECTIVE at once;
 * above (G5) SCHEDULED, effective 72 hours later. Every member is told at once.
 */
export function dissolveGroup(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string; keepHistory: boolean },
): Promise<Result<{ dissolution: DissolutionRow }>> {
  return withGroup(deps, viewer.userId, input.groupId, 'DISSOLVE', async ({ tx, group, now }) => {
    const can = checkDissolve(group, (await inForceDissolution(tx, group.id)) ?? null);
    if (!can.ok) return onField(can, ['input', 'groupId']);
    const plan = planDissolution(group.memberCount, input.keepHistory, now);
    const d = await insertDissolution(tx, {
      ...plan,
      groupId: group.id,
      requestedBy: viewer.userId,
      memberCount: group.memberCount,
    });
    await setGroupPurgeAt(tx, group.id, purgeAtOf(d));
    await audit(tx, d, 'DISSOLUTION_REQUESTED', viewer.userId, now, { memberCount: group.memberCount });
    const step = d.status === 'SCHEDULED' ? 'DISSOLUTION_SCHEDULED' : 'DISSOLUTION_EFFECTIVE';
    await audit(tx, d, step, viewer.userId, now);
    await publish(tx, [await tell(tx, d, d.status, viewer.userId)], now);
    return ok({ dissolution: d });
  });
}

/**
 * Runs `fn` holding the group's dissolution in force (if any) and then the group, FOR UPDATE, in
 * that order — the sweeper's order — once the actor is the owner (non-member: NOT_FOUND).
 */
async function withDissolution<T>(
  deps: Deps,
  viewer: Viewer,
  groupId: string,
  fn: (tx: Db, group: GroupRow, d: DissolutionRow | null, now: Date) => Promise<Result<T>>,
): Promise<Result<T>> {
  const field = ['input', 'groupId'];
  const malformed = malformedId('uuid', groupId, field);
  if (malformed) return malformed;
  return deps.db.transaction(async (tx) => {
    const d = await inForceDissolution(tx, groupId, true);
    const group = await lockGroup(tx, groupId, 'update');
    const allowed = permit(group ? await standingIn(tx, groupId, viewer.userId) : null, 'DISSOLVE');
    if (!allowed.ok) return onField(allowed, field);
    const r = await fn(tx, group!, d ?? null, deps.clock.now());
    return r.ok ? r : onField(r, field);
  });
}

/** Ends a dissolution before it is final (cancel or restore): history and purge plans as before. */
async function endDissolution(
  tx: Db,
  d: DissolutionRow,
  status: 'CANCELLED' | 'RESTORED',
  viewer: Viewer,
  now: Date,
): Promise<DissolutionRow> {
  const ended = await updateDissolution(tx, d, { status, settledAt: now });
  await setGroupPurgeAt(tx, d.groupId, null);
  await audit(
    tx,
    ended,
    status === 'CANCELLED' ? 'DISSOLUTION_CANCELLED' : 'GROUP_RESTORED',
    viewer.userId,
    now,
  );
  await publish(tx, [await tell(tx, ended, status, viewer.userId)], now);
  return ended;
}

/** `cancelDissolution` (owner, G5): a scheduled dissolution, before it takes effect. */
export function cancelDissolution(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string },
): Promise<Result<{ group: GroupRow; dissolution: DissolutionRow }>> {
  return withDissolution(deps, viewer, input.groupId, async (tx, group, d, now) => {
    const can = checkCancel(d, now);
    if (!can.ok) return can;
    return ok({ group, dissolution: await endDissolution(tx, d!, 'CANCELLED', viewer, now) });
  });
}

/** `restoreGroup` (owner, G6): within 48 hours of taking effect, the group exactly as it was. */
export function restoreGroup(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string },
): Promise<Result<{ group: GroupRow; dissolution: DissolutionRow }>> {
  return withDissolution(deps, viewer, input.groupId, async (tx, group, d, now) => {
    const can = checkRestore(d, now);
    if (!can.ok) return can;
    return ok({ group, dissolution: await endDissolution(tx, d!, 'RESTORED', viewer, now) });
  });
}

// --- preview -------------------------------------------------------------------------------------

/** What `dissolutionPreview` answers: what dissolving now would do, and when; changes nothing. */
export interface DissolutionPreviewView extends DissolutionFacts {
  groupId: string;
  memberCount: number;
  /** G3: when the messages would be purged (null: history kept). */
  purgeAt: Date | null;
  messagesToPurge: number;
  filesToDelete: number;
  paymentsLeaving: number;
  /** Every refusal `dissolveGroup` would answer now (empty: it would go ahead). */
  refusals: UserError[];
}

/**
 * `dissolutionPreview` for a member (NOT_FOUND otherwise, BAD_USER_INPUT for a malformed id): the
 * plan `dissolveGroup` would make at this instant, the rows it would destroy at finalization, and
 * each refusal that applies (FORBIDDEN for a non-owner, GROUP_DISSOLVED, GROUP_PROTECTED).
 */
export async function dissolutionPreview(
  deps: Deps,
  viewer: Viewer,
  groupId: string,
  keepHistory: boolean,
): Promise<DissolutionPreviewView | null> {
  requireId('uuid', groupId);
  return deps.db.transaction(async (tx) => {
    const found = await findGroupOf(tx, groupId, viewer.userId);
    if (!found) return null;
    const { group, role } = found;
    const now = deps.clock.now();
    const plan = planDissolution(group.memberCount, keepHistory, now);
    const [conversation] = await findGroupConversations(tx, [group.id]);
    const content = await contentOf(tx, conversation!.id);
    const refusals: UserError[] = [];
    const allowed = permit(role, 'DISSOLVE');
    if (!allowed.ok) refusals.push(allowed.error);
    const can = checkDissolve(group, (await inForceDissolution(tx, group.id)) ?? null);
    if (!can.ok) refusals.push(can.error);
    return {
      ...plan,
      groupId: group.id,
      memberCount: group.memberCount,
      purgeAt: purgeAtOf(plan),
      messagesToPurge: keepHistory ? 0 : content.messages,
      filesToDelete: content.files,
      paymentsLeaving: content.payments,
      refusals,
    };
  });
}

// --- the sweeper's steps (T5) --------------------------------------------------------------------

export interface DissolutionSweep {
  dissolutionsEffective: number;
  dissolutionsFinalized: number;
  paymentsDetached: number;
  filesDeleted: number;
  purgedMessages: number;
  purgedFiles: number;
  heldBack: number;
}

const DISSOLUTION_BATCH = 50; // dissolutions per transaction
const PURGE_BATCH = 5_000; // messages per transaction

/**
 * Makes every due dissolution step physical, in order and once: SCHEDULED → EFFECTIVE (G5),
 * EFFECTIVE → FINALIZED at `undoUntil` (G3: files deleted; without kept history the messages are
 * then purged in batches), the payments leaving the group at `effectiveAt + 72 h`. Each step appends
 * its audit entry and tells the members in its transaction. Idempotent; rows another transaction
 * holds (a restore, a second sweeper) are skipped until the next run.
 */
export async function advanceDissolutions(deps: Deps, now: Date): Promise<DissolutionSweep> {
  const counts: DissolutionSweep = {
    dissolutionsEffective: 0,
    dissolutionsFinalized: 0,
    paymentsDetached: 0,
    filesDeleted: 0,
    purgedMessages: 0,
    purgedFiles: 0,
    heldBack: 0,
  };
  for (;;) {
    const n = await deps.db.transaction(async (tx) => {
      const due = await lockDueDissolutions(tx, now, DISSOLUTION_BATCH);
      for (const row of due) await step(tx, row, now, counts);
      return due.length;
    });
    if (n < DISSOLUTION_BATCH) break;
  }
  await purgeDissolvedHistory(deps, now, counts);
  return counts;
}

/** The due steps of one locked dissolution. */
async function step(tx: Db, row: DissolutionRow, now: Date, counts: DissolutionSweep): Promise<void> {
  let d = row;
  const [conversation] = await findGroupConversations(tx, [d.groupId]);
  const conversationId = conversation!.id;
  const notices: NewNotice[] = [];
  for (const s of dueSteps(d, now)) {
    if (s === 'EFFECTIVE') {
      d = await updateDissolution(tx, d, { status: 'EFFECTIVE' });
      await audit(tx, d, 'DISSOLUTION_EFFECTIVE', null, now);
      notices.push(await tell(tx, d, 'EFFECTIVE', null));
      counts.dissolutionsEffective++;
    } else if (s === 'FINALIZED') {
      const content = await contentOf(tx, conversationId);
      const files = await deleteFilesOf(tx, conversationId);
      d = await updateDissolution(tx, d, { status: 'FINALIZED' });
      await audit(tx, d, 'DISSOLUTION_FINALIZED', null, now, {
        filesDeleted: files.deleted + files.held, // a hold is not told (T3): the count is what left
        messagesToPurge: d.keepHistory ? 0 : content.messages,
      });
      notices.push(await tell(tx, d, 'FINALIZED', null));
      counts.dissolutionsFinalized++;
      counts.filesDeleted += files.deleted;
    } else {
      const n = await detachPayments(tx, conversationId);
      d = await updateDissolution(tx, d, { paymentsLeftAt: now });
      await audit(tx, d, 'PAYMENTS_LEFT_GROUP', null, now, { payments: n });
      counts.paymentsDetached += n;
    }
  }
  await publish(tx, notices, now);
}

/**
 * G3 without kept history: the messages of finalized groups, deleted in batches of 5,000 per
 * transaction (the group conversation locked `SKIP LOCKED`); the last batch marks the
 * conversation purged (`purgedBy` G3) and appends HISTORY_PURGED. Reads hide the messages from
 * `purgeAt` on, so how long this takes changes no answer.
 */
async function purgeDissolvedHistory(deps: Deps, now: Date, counts: DissolutionSweep): Promise<void> {
  for (;;) {
    const more = await deps.db.transaction(async (tx) => {
      const [c] = await lockDueGroupPurges(tx, now, 1);
      if (!c) return false;
      const gone = await purgeMessages(tx, c.id, now, { limit: PURGE_BATCH });
      counts.purgedMessages += gone.deleted;
      counts.purgedFiles += gone.deletedFiles;
      counts.heldBack += gone.held;
      if (gone.deleted < PURGE_BATCH) {
        await updateRetention(tx, c.id, {
          mutualSince: null,
          purgeAt: null,
          purgedAt: c.purgeAt,
          purgedBy: 'G3',
        });
        const d = (await inForceDissolution(tx, c.groupId!))!;
        await audit(tx, d, 'HISTORY_PURGED', null, now);
      }
      return true;
    });
    if (!more) return;
  }
}

/** The state of a stored dissolution at `now` (what `Dissolution.status` shows). */
export const dissolutionState = (d: DissolutionRow, now: Date): DissolutionStatus => stateAt(d, now);
