// T1 periods, T2 stars and T3 legal holds: the use cases that change what stays in whose view and
// what the sweeper may delete. Each runs in one transaction that also moves the affected
// conversations' `t2_next_at` (the sweeper's index key), so due work is found by index only.
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/audit.service.js';
import type { Viewer } from '../auth.js';
import type { Db } from '../db/client.js';
import { wakeReleasedDissolutions } from '../groups/dissolution.store.js';
import { findConversationOf, findMessage, inViewNow } from '../messages/messages.store.js';
import type { MessageRow } from '../messages/messages.tables.js';
import type { Deps } from '../shared/deps.js';
import { isUserId, isUuid, malformedId } from '../shared/ids.js';
import { ok, type Result, refuse } from '../shared/result.js';
import { fitsText } from '../shared/text.js';
import { historyVisible } from './retention.rules.js';
import { conversationsOfUser, holdCovers, refreshT2 } from './retention.store.js';
import { type LegalHoldRow, legalHolds, retentionPolicies, stars } from './retention.tables.js';

export type PeriodName = 'FOREVER' | 'ONE_YEAR' | 'THREE_MONTHS' | 'DAYS';

/** T1: a period in days (null: FOREVER). ONE_YEAR is 365 days, THREE_MONTHS 90. */
export const PERIOD_DAYS: Record<Exclude<PeriodName, 'DAYS'>, number | null> = {
  FOREVER: null,
  ONE_YEAR: 365,
  THREE_MONTHS: 90,
};
export const MAX_DAYS = 36_500;

/** The policy as set: its period and, for DAYS, the number. */
export interface PolicyView {
  conversationId: string | null;
  period: PeriodName;
  days: number | null;
}

/** T1: checks a period and its `days`; answers the period in days (null: FOREVER). */
export function checkPeriod(period: PeriodName, days: number | null | undefined): Result<number | null> {
  const field = ['input', 'days'];
  if (period === 'DAYS') {
    if (days === null || days === undefined || !Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
      return refuse('BAD_USER_INPUT', `DAYS needs days: a whole number from 1 to ${MAX_DAYS}.`, field);
    }
    return ok(days);
  }
  if (days !== null && days !== undefined) {
    return refuse('BAD_USER_INPUT', 'days goes with period DAYS only.', field);
  }
  return ok(PERIOD_DAYS[period]);
}

/**
 * `setRetentionPolicy` (T1): the viewer's period for one conversation they are a party of, or (no
 * conversationId) their default for every conversation without its own. Messages older than it
 * leave the viewer's view at once; the sweeper deletes them once they left every view (T2).
 */
export async function setRetentionPolicy(
  deps: Deps,
  viewer: Viewer,
  input: { conversationId?: string | null; period: PeriodName; days?: number | null },
): Promise<Result<{ policy: PolicyView }>> {
  const checked = checkPeriod(input.period, input.days);
  if (!checked.ok) return checked;
  const conversationId = input.conversationId ?? null;
  const field = ['input', 'conversationId'];
  if (conversationId !== null) {
    const malformed = malformedId('uuid', conversationId, field);
    if (malformed) return malformed;
  }
  return deps.db.transaction(async (tx) => {
    const now = deps.clock.now();
    if (conversationId !== null && !(await findConversationOf(tx, conversationId, viewer.userId))) {
      return refuse('NOT_FOUND', 'No such conversation.', field);
    }
    const values = {
      userId: viewer.userId,
      conversationId,
      period: input.period,
      days: checked.value,
      updatedAt: now,
    };
    const scope =
      conversationId === null
        ? isNull(retentionPolicies.conversationId)
        : eq(retentionPolicies.conversationId, conversationId);
    await tx.delete(retentionPolicies).where(and(eq(retentionPolicies.userId, viewer.userId), scope));
    await tx.insert(retentionPolicies).values(values);
    await refreshT2(
      tx,
      conversationId === null ? conversationsOfUser(viewer.userId) : sql`c.id = ${conversationId}`,
      now,
    );
    return ok({ policy: { conversationId, period: input.period, days: checked.value } });
  });
}

/** The viewer's policy for a conversation (its own, else their default; FOREVER without either). */
export async function policyOf(db: Db, userId: string, conversationId: string | null): Promise<PolicyView> {
  const rowsFound = await db
    .select()
    .from(retentionPolicies)
    .where(
      and(
        eq(retentionPolicies.userId, userId),
        conversationId === null
          ? isNull(retentionPolicies.conversationId)
          : sql`(${retentionPolicies.conversationId} = ${conversationId} OR ${retentionPolicies.conversationId} IS NULL)`,
      ),
    );
  const own =
    rowsFound.find((r) => r.conversationId !== null) ?? rowsFound.find((r) => r.conversationId === null);
  return own
    ? { conversationId, period: own.period, days: own.days }
    : { conversationId, period: 'FOREVER', days: null };
}

/**
 * `starMessage` (T2): a message in the viewer's view now; starred, it stays in their view whatever
 * their period (and keeps its row while they are a participant). Anything else is NOT_FOUND.
 */
export async function starMessage(
  deps: Deps,
  viewer: Viewer,
  input: { messageId: string; starred: boolean },
): Promise<Result<{ message: MessageRow }>> {
  const field = ['input', 'messageId'];
  const malformed = malformedId('uuid', input.messageId, field);
  if (malformed) return malformed;
  return deps.db.transaction(async (tx) => {
    const now = deps.clock.now();
    const m = await findMessage(tx, input.messageId, now);
    if (!m) return refuse('NOT_FOUND', 'No such message.', field);
    // The conversation first, as the sweeper locks it (then its messages): no deadlock with it.
    await tx.execute(sql`SELECT 1 FROM conversations WHERE id = ${m.conversationId} FOR NO KEY UPDATE`);
    const c = await findConversationOf(tx, m.conversationId, viewer.userId);
    const reader = { viewerId: viewer.userId, now };
    if (!c || !historyVisible(c, now) || !(await inViewNow(tx, reader, m))) {
      return refuse('NOT_FOUND', 'No such message.', field);
    }
    if (input.starred) {
      await tx
        .insert(stars)
        .values({ messageId: m.id, userId: viewer.userId, starredAt: now })
        .onConflictDoNothing();
    } else {
      await tx.delete(stars).where(and(eq(stars.messageId, m.id), eq(stars.userId, viewer.userId)));
      await refreshT2(tx, sql`c.id = ${m.conversationId}`, now);
    }
    return ok({ message: m });
  });
}

// --- T3: legal holds ------------------------------------------------------------------------------

export interface HoldInput {
  userId?: string | null;
  conversationId?: string | null;
  groupId?: string | null;
  from?: string | null;
  to?: string | null;
  reason: string;
}

export const MAX_HOLD_REASON = 500;

const OPERATORS_ONLY = refuse('FORBIDDEN', 'Only operators place, release and list legal holds.');

/** The conversations hold `id` covers (SQL on alias `c`). */
const coveredBy = (id: string) =>
  sql`EXISTS (SELECT 1 FROM legal_holds h WHERE h.id = ${id} AND ${holdCovers(sql`h`, sql`c`)})`;

/** G11: a hold's own audit chain (subject: the hold; operators read it). */
const auditHold = (
  tx: Db,
  h: LegalHoldRow,
  kind: 'LEGAL_HOLD_PLACED' | 'LEGAL_HOLD_RELEASED',
  by: string,
  at: Date,
) =>
  appendAudit(tx, {
    subjectId: h.id,
    subjectKind: 'LEGAL_HOLD',
    kind,
    actorId: by,
    data: {
      userId: h.userId,
      conversationId: h.conversationId,
      groupId: h.groupId,
      from: h.fromAt?.toISOString() ?? null,
      to: h.toAt?.toISOString() ?? null,
      reason: h.reason,
    },
    at,
  });

/**
 * `placeLegalHold` (T3, operators only): exactly one of a user, a conversation or a group, an
 * optional [from, to) range of `sentAt`, and a reason. From now on no purge deletes a covered row;
 * nobody else can tell (N3). Ids need not name anything yet: a hold may come first.
 */
export async function placeLegalHold(
  deps: Deps,
  viewer: Viewer,
  input: HoldInput,
): Promise<Result<{ hold: LegalHoldRow }>> {
  if (!viewer.operator) return OPERATORS_ONLY;
  const scopes = [input.userId, input.conversationId, input.groupId].filter(
    (x) => x !== null && x !== undefined,
  );
  if (scopes.length !== 1) {
    return refuse('BAD_USER_INPUT', 'Give exactly one of userId, conversationId, groupId.', ['input']);
  }
  if (input.userId != null && !isUserId(input.userId)) {
    return refuse('BAD_USER_INPUT', 'Not a well-formed user id.', ['input', 'userId']);
  }
  for (const f of ['conversationId', 'groupId'] as const) {
    const v = input[f];
    if (v != null && !isUuid(v)) return refuse('BAD_USER_INPUT', 'Not a well-formed id.', ['input', f]);
  }
  const reason = input.reason.trim();
  if (!reason || !fitsText(reason, MAX_HOLD_REASON)) {
    return refuse('BAD_USER_INPUT', `A reason has 1 to ${MAX_HOLD_REASON} characters.`, ['input', 'reason']);
  }
  const fromAt = input.from ? new Date(input.from) : null;
  const toAt = input.to ? new Date(input.to) : null;
  if (fromAt && toAt && fromAt.getTime() >= toAt.getTime()) {
    return refuse('BAD_USER_INPUT', '`from` must come before `to`.', ['input', 'to']);
  }
  return deps.db.transaction(async (tx) => {
    const now = deps.clock.now();
    const [hold] = await tx
      .insert(legalHolds)
      .values({
        userId: input.userId ?? null,
        conversationId: input.conversationId ?? null,
        groupId: input.groupId ?? null,
        fromAt,
        toAt,
        reason,
        placedBy: viewer.userId,
        placedAt: now,
      })
      .returning();
    await auditHold(tx, hold!, 'LEGAL_HOLD_PLACED', viewer.userId, now);
    return ok({ hold: hold! });
  });
}

/**
 * `releaseLegalHold` (T3, operators only): the normal rules resume — every conversation it
 * covered is due for the next sweep, which deletes what it kept and is no longer covered.
 */
export async function releaseLegalHold(
  deps: Deps,
  viewer: Viewer,
  input: { holdId: string },
): Promise<Result<{ hold: LegalHoldRow }>> {
  if (!viewer.operator) return OPERATORS_ONLY;
  const field = ['input', 'holdId'];
  const malformed = malformedId('uuid', input.holdId, field);
  if (malformed) return malformed;
  return deps.db.transaction(async (tx) => {
    const now = deps.clock.now();
    const [held] = await tx.select().from(legalHolds).where(eq(legalHolds.id, input.holdId)).for('update');
    if (!held) return refuse('NOT_FOUND', 'No such legal hold.', field);
    if (held.releasedAt) return refuse('BAD_USER_INPUT', 'This hold is released already.', field);
    const [hold] = await tx
      .update(legalHolds)
      .set({ releasedAt: now, releasedBy: viewer.userId })
      .where(eq(legalHolds.id, held.id))
      .returning();
    await auditHold(tx, hold!, 'LEGAL_HOLD_RELEASED', viewer.userId, now);
    await refreshT2(tx, coveredBy(hold!.id), now);
    await wakeReleasedDissolutions(tx, coveredBy(hold!.id), now);
    return ok({ hold: hold! });
  });
}

/** Operators: the active holds that cover a conversation (`RetentionStatus.holds`), oldest first. */
export async function holdsCovering(db: Db, conversationId: string): Promise<LegalHoldRow[]> {
  return db
    .select()
    .from(legalHolds)
    .where(
      sql`${legalHolds.releasedAt} IS NULL AND EXISTS (SELECT 1 FROM conversations c
            WHERE c.id = ${conversationId} AND ${holdCovers(sql`legal_holds`, sql`c`)})`,
    )
    .orderBy(legalHolds.placedAt, legalHolds.id);
}

/** Operators: every hold, newest first (keyset on placedAt, id). */
export async function listHolds(
  db: Db,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<LegalHoldRow[]> {
  const h = legalHolds;
  return db
    .select()
    .from(h)
    .where(
      after ? or(lt(h.placedAt, after.at), and(eq(h.placedAt, after.at), lt(h.id, after.id))) : undefined,
    )
    .orderBy(desc(h.placedAt), desc(h.id))
    .limit(limit);
}
