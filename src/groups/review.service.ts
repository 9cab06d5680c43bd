// G8 batch review: dissolving several groups in one request waits for an operator. The request is
// checked group by group as dissolveGroup would (each refusal listed); an operator approves —
// every group still dissolvable then is dissolved (G3; an EDUCATION group waits for its guardian,
// G9) and the rest reported — or rejects, which changes nothing. The requester is told.
import { and, asc, eq, gt, or } from 'drizzle-orm';
import type { Viewer } from '../auth.js';
import type { Db } from '../db/client.js';
import { publish } from '../notices/notices.outbox.js';
import type { Deps } from '../shared/deps.js';
import { isUuid, malformedId } from '../shared/ids.js';
import { ok, type Result, refuse, type UserError } from '../shared/result.js';
import { checkDissolve } from './dissolution.rules.js';
import { lockForDissolution, startDissolution } from './dissolution.service.js';
import {
  type DissolutionRow,
  dissolutionReviews,
  type GroupRow,
  type ReviewItem,
  type ReviewRow,
} from './groups.tables.js';

/** The most groups one batch may name. */
export const MAX_BATCH = 50;

/**
 * Would `dissolveGroup` by `userId` go ahead for this group at `now` (step-up aside)? The refusal
 * if not, else the group and its dissolution in force, both locked — the dissolution first, then
 * the group: the sweeper's order.
 */
async function dissolvable(
  tx: Db,
  userId: string,
  groupId: string,
  now: Date,
): Promise<{ error: UserError } | { group: GroupRow; current: DissolutionRow | null }> {
  const locked = await lockForDissolution(tx, groupId, userId);
  if (!locked.ok) return { error: locked.error };
  const can = checkDissolve(locked.value.group, locked.value.current, now);
  return can.ok ? locked.value : { error: can.error };
}

const item = (groupId: string, e: UserError | null, dissolutionId: string | null = null): ReviewItem => ({
  groupId,
  error: e?.code ?? null,
  message: e?.message ?? null,
  dissolutionId,
});

/**
 * `dissolveGroups` (G8): 2 to 50 distinct groups; one review PENDING_REVIEW listing, per group,
 * why `dissolveGroup` would refuse now (NOT_FOUND for a group the requester is not in, so nothing
 * is told about it). Nothing is dissolved until an operator approves.
 */
export async function dissolveGroups(
  deps: Deps,
  viewer: Viewer,
  input: { groupIds: readonly string[]; keepHistory: boolean },
): Promise<Result<{ review: ReviewRow }>> {
  const field = ['input', 'groupIds'];
  const ids = [...new Set(input.groupIds)];
  if (ids.length < 2 || ids.length > MAX_BATCH) {
    return refuse(
      'BAD_USER_INPUT',
      `A batch names 2 to ${MAX_BATCH} distinct groups (one: dissolveGroup).`,
      field,
    );
  }
  if (!ids.every(isUuid)) return refuse('BAD_USER_INPUT', 'Not a well-formed group id.', field);
  return deps.db.transaction(async (tx) => {
    const now = deps.clock.now();
    const items: ReviewItem[] = [];
    for (const id of [...ids].sort()) {
      const can = await dissolvable(tx, viewer.userId, id, now);
      items.push(item(id, 'error' in can ? can.error : null));
    }
    const [review] = await tx
      .insert(dissolutionReviews)
      .values({
        requestedBy: viewer.userId,
        keepHistory: input.keepHistory,
        status: 'PENDING_REVIEW',
        items,
        requestedAt: now,
      })
      .returning();
    return ok({ review: review! });
  });
}

const OPERATORS_ONLY = refuse('FORBIDDEN', 'Only operators review batch dissolutions.');

/**
 * `reviewDissolution` (G8, operators): approve dissolves, in one transaction, every group of the
 * batch still dissolvable by its requester now (locked in id order) and lists why the others were
 * not; reject changes nothing. Either way the requester gets `DissolutionReviewDecided`.
 */
export async function reviewDissolution(
  deps: Deps,
  viewer: Viewer,
  input: { reviewId: string; approve: boolean },
): Promise<Result<{ review: ReviewRow }>> {
  if (!viewer.operator) return OPERATORS_ONLY;
  const field = ['input', 'reviewId'];
  const malformed = malformedId('uuid', input.reviewId, field);
  if (malformed) return malformed;
  return deps.db.transaction(async (tx) => {
    const [r] = await tx
      .select()
      .from(dissolutionReviews)
      .where(eq(dissolutionReviews.id, input.reviewId))
      .for('update');
    if (!r) return refuse('NOT_FOUND', 'No such review.', field);
    if (r.status !== 'PENDING_REVIEW')
      return refuse('BAD_USER_INPUT', 'This review is decided already.', field);
    const now = deps.clock.now();
    let items = r.items;
    if (input.approve) {
      const requester: Viewer = {
        userId: r.requestedBy,
        name: undefined,
        operator: false,
        deviceId: undefined,
        expiresAt: undefined,
      };
      items = [];
      for (const it of [...r.items].sort((a, b) => (a.groupId < b.groupId ? -1 : 1))) {
        if (it.error) {
          items.push(it);
          continue;
        }
        const can = await dissolvable(tx, r.requestedBy, it.groupId, now);
        if ('error' in can) {
          items.push(item(it.groupId, can.error));
          continue;
        }
        const d = await startDissolution(tx, can.group, can.current, requester, r.keepHistory, now, r.id);
        items.push(item(it.groupId, null, d.id));
      }
    }
    const [decided] = await tx
      .update(dissolutionReviews)
      .set({
        status: input.approve ? 'APPROVED' : 'REJECTED',
        items,
        decidedBy: viewer.userId,
        decidedAt: now,
      })
      .where(eq(dissolutionReviews.id, r.id))
      .returning();
    await publish(
      tx,
      [
        {
          recipientIds: [r.requestedBy],
          kind: 'DissolutionReviewDecided',
          payload: {
            reviewId: r.id,
            status: decided!.status,
            dissolvedGroupIds: items.filter((i) => i.dissolutionId).map((i) => i.groupId),
            refusedGroupIds: items.filter((i) => !i.dissolutionId).map((i) => i.groupId),
          },
        },
      ],
      now,
    );
    return ok({ review: decided! });
  });
}

/** G8, operators: the reviews waiting for a decision, oldest first (keyset on requestedAt, id). */
export async function listPendingReviews(
  db: Db,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<ReviewRow[]> {
  const r = dissolutionReviews;
  return db
    .select()
    .from(r)
    .where(
      and(
        eq(r.status, 'PENDING_REVIEW'),
        after
          ? or(gt(r.requestedAt, after.at), and(eq(r.requestedAt, after.at), gt(r.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(asc(r.requestedAt), asc(r.id))
    .limit(limit);
}

/** A review, for its requester or an operator (null otherwise). */
export async function findReviewFor(db: Db, viewer: Viewer, id: string): Promise<ReviewRow | null> {
  if (!isUuid(id)) return null;
  const [r] = await db.select().from(dissolutionReviews).where(eq(dissolutionReviews.id, id));
  return r && (viewer.operator || r.requestedBy === viewer.userId) ? r : null;
}
