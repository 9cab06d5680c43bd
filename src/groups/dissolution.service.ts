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
import { ok, onField, type Result, refuse, type UserError } from '../shared/result.js';
import {
  CONFIRM_WINDOW_MS,
  checkCancel,
  checkDissolve,
  checkRestore,
  type DissolutionFacts,
  type DissolutionStatus,
  dueSteps,
  lapsedAt,
  planDissolution,
  purgeAtOf,
  stateAt,
} from './dissolution.rules.js';
import {
  contentOf,
  deleteFilesOf,
  detachPayments,
  findDissolution,
  groupKindOf,
  guardianOf,
  inForceDissolution,
  insertDissolution,
  lockDueDissolutions,
  lockDueGroupPurges,
  scrubConversation,
  updateDissolution,
} from './dissolution.store.js';
import { permit } from './groups.rules.js';
import { findGroupOf, lockGroup, memberIds, standingIn } from './groups.store.js';
import type { DissolutionRow, GroupRow } from './groups.tables.js';
import { spendCode, stepUpFor } from './stepup.service.js';

/** G11: the kinds of audit entry a dissolution appends to its group's chain. */
export type DissolutionAuditKind =
  | 'DISSOLUTION_REQUESTED'
  | 'DISSOLUTION_SCHEDULED'
  | 'DISSOLUTION_EFFECTIVE'
  | 'DISSOLUTION_CANCELLED'
  | 'GROUP_RESTORED'
  | 'DISSOLUTION_FINALIZED'
  | 'PAYMENTS_LEFT_GROUP'
  | 'HISTORY_PURGED'
  | 'CONFIRMATION_REQUESTED'
  | 'GUARDIAN_CONFIRMED';

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

/**
 * GroupDissolutionChanged, to every member of the group (a dissolved group keeps its members) and,
 * for the steps of a guardian's confirmation (G9), to the guardian too.
 */
async function tell(
  tx: Db,
  d: DissolutionRow,
  status: DissolutionStatus,
  byOwnerId: string | null,
  guardianId: string | null = null,
) {
  const recipientIds = await memberIds(tx, d.groupId);
  if (guardianId) recipientIds.push(guardianId);
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
      endReason: d.endReason,
    },
  };
  return notice;
}

/** G3/G5: the dissolution goes ahead now: its instants planned from `now`, audited, told. */
async function goAhead(
  tx: Db,
  d: DissolutionRow,
  memberCount: number,
  actorId: string | null,
  now: Date,
  guardianId: string | null,
): Promise<DissolutionRow> {
  const plan = planDissolution(memberCount, d.keepHistory, now);
  const started = await updateDissolution(tx, d, {
    status: plan.status,
    effectiveAt: plan.effectiveAt,
    undoUntil: plan.undoUntil,
    paymentsLeaveAt: plan.paymentsLeaveAt,
    confirmBy: null,
    memberCount,
  });
  await setGroupPurgeAt(tx, d.groupId, purgeAtOf(started));
  const step = started.status === 'SCHEDULED' ? 'DISSOLUTION_SCHEDULED' : 'DISSOLUTION_EFFECTIVE';
  await audit(tx, started, step, actorId, now);
  await publish(tx, [await tell(tx, started, started.status, actorId, guardianId)], now);
  return started;
}

/**
 * Starts a dissolution of the locked `group` (its checks passed; `current` is its dissolution in
 * force, locked, or null): recorded and audited as requested; an EDUCATION group then waits for
 * its guardian (G9: PENDING_CONFIRMATION for 72 h, the guardian and the members told), any other
 * goes ahead at once (G3, G5).
 */
export async function startDissolution(
  tx: Db,
  group: GroupRow,
  current: DissolutionRow | null,
  requester: Viewer,
  keepHistory: boolean,
  now: Date,
  reviewId: string | null,
): Promise<DissolutionRow> {
  // G9: a request the guardian let lapse is recorded as such first (the sweeper's step, done now),
  // so the group has one dissolution in force. The callers locked `current` before the group.
  if (current && lapsedAt(current, now))
    await endUnconfirmed(tx, current, 'LAPSED', null, now, group.guardianId!);
  const plan = planDissolution(group.memberCount, keepHistory, now);
  const guardian = group.kind === 'EDUCATION' ? group.guardianId : null;
  const d = await insertDissolution(tx, {
    ...plan,
    ...(guardian
      ? { status: 'PENDING_CONFIRMATION' as const, confirmBy: new Date(now.getTime() + CONFIRM_WINDOW_MS) }
      : {}),
    groupId: group.id,
    requestedBy: requester.userId,
    memberCount: group.memberCount,
    requestedDevice: requester.deviceId ?? null,
    reviewId,
  });
  await audit(tx, d, 'DISSOLUTION_REQUESTED', requester.userId, now, {
    memberCount: group.memberCount,
    reviewId,
  });
  if (!guardian) return goAhead(tx, d, group.memberCount, requester.userId, now, null);
  await audit(tx, d, 'CONFIRMATION_REQUESTED', requester.userId, now, { guardianId: guardian });
  await publish(tx, [await tell(tx, d, 'PENDING_CONFIRMATION', requester.userId, guardian)], now);
  return d;
}

/**
 * `dissolveGroup` (owner only, G1): refused GROUP_PROTECTED while protection is on (G4),
 * GROUP_DISSOLVED when dissolved or being dissolved; STEP_UP_REQUIRED / INVALID_CODE when G7 wants
 * a code (the 4th in 24 hours, a new device, an EDUCATION group). Up to 500 members it is
 * EFFECTIVE at once; above (G5) SCHEDULED, effective 72 hours later; an EDUCATION group first waits
 * for its guardian (G9). Every member is told at once.
 */
export function dissolveGroup(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string; keepHistory: boolean; verificationCode?: string | null },
): Promise<Result<{ dissolution: DissolutionRow }>> {
  return withDissolution(deps, viewer, input.groupId, async (tx, group, current, now) => {
    const can = checkDissolve(group, current, now);
    if (!can.ok) return can;
    const reasons = await stepUpFor(tx, viewer, group, now);
    const code = await spendCode(deps, tx, viewer, group, input.verificationCode, reasons, now);
    if (!code.ok) return code;
    return ok({
      dissolution: await startDissolution(tx, group, current, viewer, input.keepHistory, now, null),
    });
  });
}

/**
 * `confirmDissolution` (G9, the group's guardian only — anyone else NOT_FOUND): confirming lets a
 * PENDING_CONFIRMATION dissolution go ahead from now (G3, G5); declining cancels it (reason
 * DECLINED). After 72 hours it has lapsed (WINDOW_CLOSED).
 */
export async function confirmDissolution(
  deps: Deps,
  viewer: Viewer,
  input: { dissolutionId: string; confirm?: boolean | null },
): Promise<Result<{ dissolution: DissolutionRow }>> {
  const field = ['input', 'dissolutionId'];
  const malformed = malformedId('uuid', input.dissolutionId, field);
  if (malformed) return malformed;
  return deps.db.transaction(async (tx): Promise<Result<{ dissolution: DissolutionRow }>> => {
    const d = await findDissolution(tx, input.dissolutionId, true);
    const group = d ? await lockGroup(tx, d.groupId, 'update') : undefined;
    if (!d || !group || group.guardianId !== viewer.userId) {
      return refuse('NOT_FOUND', 'No such dissolution waiting for you.', field);
    }
    const now = deps.clock.now();
    const state = stateAt(d, now);
    if (state !== 'PENDING_CONFIRMATION') {
      return state === 'CANCELLED' && lapsedAt(d, now)
        ? refuse('WINDOW_CLOSED', 'The 72 hours to answer have passed: the dissolution lapsed.', field)
        : refuse('BAD_USER_INPUT', 'This dissolution is not waiting for a confirmation.', field);
    }
    if (input.confirm === false) {
      return ok({
        dissolution: await endUnconfirmed(tx, d, 'DECLINED', viewer.userId, now, group.guardianId!),
      });
    }
    await audit(tx, d, 'GUARDIAN_CONFIRMED', viewer.userId, now);
    return ok({ dissolution: await goAhead(tx, d, group.memberCount, null, now, group.guardianId) });
  });
}

/** G9: a dissolution the guardian declined, or that lapsed: CANCELLED with the reason. */
async function endUnconfirmed(
  tx: Db,
  d: DissolutionRow,
  reason: 'DECLINED' | 'LAPSED',
  actorId: string | null,
  now: Date,
  guardianId: string,
): Promise<DissolutionRow> {
  const ended = await updateDissolution(tx, d, { status: 'CANCELLED', settledAt: now, endReason: reason });
  await audit(tx, ended, 'DISSOLUTION_CANCELLED', actorId, now, { reason });
  await publish(tx, [await tell(tx, ended, 'CANCELLED', null, guardianId)], now);
  return ended;
}

/**
 * Locks the group's dissolution in force (if any) and then the group, FOR UPDATE, in that order —
 * the sweeper's order — and answers them once `userId` may dissolve the group (G1: the owner; a
 * non-member NOT_FOUND, a member FORBIDDEN).
 */
export async function lockForDissolution(
  tx: Db,
  groupId: string,
  userId: string,
): Promise<Result<{ group: GroupRow; current: DissolutionRow | null }>> {
  const current = (await inForceDissolution(tx, groupId, true)) ?? null;
  const group = await lockGroup(tx, groupId, 'update');
  const allowed = permit(group ? await standingIn(tx, groupId, userId) : null, 'DISSOLVE');
  return allowed.ok ? ok({ group: group!, current }) : allowed;
}

/** Runs `fn` in a transaction holding what `lockForDissolution` locks, once the actor may dissolve. */
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
    const locked = await lockForDissolution(tx, groupId, viewer.userId);
    if (!locked.ok) return onField(locked, field);
    const r = await fn(tx, locked.value.group, locked.value.current, deps.clock.now());
    // A refusal about another input (the step-up code) keeps its field; the rest concern the group.
    return r.ok || r.error.field ? r : onField(r, field);
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
  const guardianId = d.status === 'PENDING_CONFIRMATION' ? await guardianOf(tx, d.groupId) : null;
  await audit(
    tx,
    ended,
    status === 'CANCELLED' ? 'DISSOLUTION_CANCELLED' : 'GROUP_RESTORED',
    viewer.userId,
    now,
  );
  await publish(tx, [await tell(tx, ended, status, viewer.userId, guardianId)], now);
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
export interface DissolutionPreviewView extends Omit<DissolutionFacts, 'status'> {
  status: DissolutionStatus;
  groupId: string;
  memberCount: number;
  /** G3: when the messages would be purged (null: history kept). */
  purgeAt: Date | null;
  messagesToPurge: number;
  filesToDelete: number;
  paymentsLeaving: number;
  /** Every refusal `dissolveGroup` would answer now (empty: it would go ahead). */
  refusals: UserError[];
  /** G7: why a verification code would be needed (empty: none). */
  stepUpReasons: string[];
  /** G9: whether the guardian must confirm first. */
  needsGuardian: boolean;
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
    const can = checkDissolve(group, (await inForceDissolution(tx, group.id)) ?? null, now);
    if (!can.ok) refusals.push(can.error);
    const needsGuardian = group.kind === 'EDUCATION';
    return {
      ...plan,
      ...(needsGuardian ? { status: 'PENDING_CONFIRMATION' as const } : {}),
      stepUpReasons: await stepUpFor(tx, viewer, group, now),
      needsGuardian,
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
  /** G9: dissolutions whose guardian did not answer within 72 hours. */
  dissolutionsLapsed: number;
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

/** A dissolution sweep that found nothing due. */
export const NO_DISSOLUTION_WORK: Readonly<DissolutionSweep> = {
  dissolutionsLapsed: 0,
  dissolutionsEffective: 0,
  dissolutionsFinalized: 0,
  paymentsDetached: 0,
  filesDeleted: 0,
  purgedMessages: 0,
  purgedFiles: 0,
  heldBack: 0,
};

/**
 * Makes every due dissolution step physical, in order and once: SCHEDULED → EFFECTIVE (G5),
 * EFFECTIVE → FINALIZED at `undoUntil` (G3: files deleted; without kept history the messages are
 * then purged in batches), the payments leaving the group at `effectiveAt + 72 h`. Each step appends
 * its audit entry and tells the members in its transaction. Idempotent; rows another transaction
 * holds (a restore, a second sweeper) are skipped until the next run.
 */
export async function advanceDissolutions(deps: Deps, now: Date): Promise<DissolutionSweep> {
  const counts: DissolutionSweep = { ...NO_DISSOLUTION_WORK };
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
  const due = dueSteps(d, now);
  // Due with no step left: a released legal hold woke it (T3); finish what the hold had kept.
  if (due.length === 0) d = await finishReleased(tx, d, conversationId, counts);
  for (const s of due) {
    if (s === 'LAPSED') {
      d = await endUnconfirmed(tx, d, 'LAPSED', null, now, (await guardianOf(tx, d.groupId))!);
      counts.dissolutionsLapsed++;
    } else if (s === 'EFFECTIVE') {
      d = await updateDissolution(tx, d, { status: 'EFFECTIVE' });
      await audit(tx, d, 'DISSOLUTION_EFFECTIVE', null, now);
      notices.push(await tell(tx, d, 'EFFECTIVE', null));
      counts.dissolutionsEffective++;
    } else if (s === 'FINALIZED') {
      const content = await contentOf(tx, conversationId);
      const files = await deleteFilesOf(tx, conversationId);
      // G10: a FINANCIAL group's kept history is scrubbed now (not before: the undo stays exact).
      const scrubbed =
        d.keepHistory && (await groupKindOf(tx, d.groupId)) === 'FINANCIAL'
          ? await scrubConversation(tx, conversationId)
          : null;
      d = await updateDissolution(tx, d, { status: 'FINALIZED' });
      await audit(tx, d, 'DISSOLUTION_FINALIZED', null, now, {
        filesDeleted: files.deleted + files.held, // a hold is not told (T3): the count is what left
        messagesToPurge: d.keepHistory ? 0 : content.messages,
        ...(scrubbed
          ? {
              scrubbedMessages: scrubbed.messages,
              maskedBankCards: scrubbed.counts.bankCards,
              maskedResidentIds: scrubbed.counts.residentIds,
              maskedMobiles: scrubbed.counts.mobiles,
            }
          : {}),
      });
      notices.push(await tell(tx, d, 'FINALIZED', null));
      counts.dissolutionsFinalized++;
      counts.filesDeleted += files.deleted;
    } else {
      const left = await detachPayments(tx, conversationId);
      d = await updateDissolution(tx, d, { paymentsLeftAt: now });
      // A hold is not told (T3): the count is what left the group for its members.
      await audit(tx, d, 'PAYMENTS_LEFT_GROUP', null, now, { payments: left.detached + left.held });
      counts.paymentsDetached += left.detached;
    }
  }
  await publish(tx, notices, now);
}

/**
 * T3 after a release: the files a hold kept at finalization are deleted and the payment links it
 * kept are cleared, except what another hold still covers. No audit entry or notice: the ones of
 * the steps already counted what left, so nobody learns there was a hold.
 */
async function finishReleased(
  tx: Db,
  d: DissolutionRow,
  conversationId: string,
  counts: DissolutionSweep,
): Promise<DissolutionRow> {
  if (d.status === 'FINALIZED') counts.filesDeleted += (await deleteFilesOf(tx, conversationId)).deleted;
  if (d.paymentsLeftAt) counts.paymentsDetached += (await detachPayments(tx, conversationId)).detached;
  return updateDissolution(tx, d, {}); // due again only when a step is
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
