import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../users/users.tables.js';

export const groupKind = pgEnum('group_kind', ['STANDARD', 'ENTERPRISE', 'EDUCATION', 'FINANCIAL']);
export const groupRole = pgEnum('group_role', ['OWNER', 'ADMIN', 'MEMBER']);
export const transferStatus = pgEnum('transfer_status', [
  'PENDING',
  'ACCEPTED',
  'DECLINED',
  'CANCELLED',
  'LAPSED',
]);

/**
 * Groups (SPEC §2). The row is also the group's lock: membership changes take it FOR UPDATE and
 * sends FOR SHARE, so who receives a group message is decided in one order with who belongs.
 */
export const groups = pgTable('groups', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  kind: groupKind('kind').notNull(),
  /** G9: an EDUCATION group's guardian (a user who is not a member); null for other kinds. */
  guardianId: text('guardian_id').references(() => users.id, { onDelete: 'restrict' }),
  /** G4: while on (ENTERPRISE only), dissolution is refused. */
  dissolutionProtection: boolean('dissolution_protection').notNull().default(false),
  /** Current members, owner included; kept in the transaction of every membership change. */
  memberCount: integer('member_count').notNull(),
  createdBy: text('created_by')
    .notNull()
    .references(() => users.id, { onDelete: 'restrict' }),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/** Current members and their roles (G1): exactly one OWNER per group, by a partial unique index. */
export const groupMembers = pgTable(
  'group_members',
  {
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: groupRole('role').notNull(),
    joinedAt: timestamp('joined_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.groupId, t.userId] }),
    index('group_members_user_idx').on(t.userId, t.joinedAt),
    index('group_members_page_idx').on(t.groupId, t.joinedAt, t.userId),
    uniqueIndex('group_members_one_owner_idx').on(t.groupId).where(sql`${t.role} = 'OWNER'`),
  ],
);

/**
 * Who left or was removed from a group, and when (T3: a hold on a user covers every conversation
 * they are or were a party of). One row per departure.
 */
export const groupDepartures = pgTable(
  'group_departures',
  {
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    leftAt: timestamp('left_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('group_departures_group_idx').on(t.groupId, t.userId)],
);

/** G2: ownership transfers; at most one PENDING per group. */
export const ownershipTransfers = pgTable(
  'ownership_transfers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    fromUserId: text('from_user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    toUserId: text('to_user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: transferStatus('status').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** When it stopped being PENDING (accepted, declined, cancelled or lapsed). */
    settledAt: timestamp('settled_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('ownership_transfers_one_pending_idx').on(t.groupId).where(sql`${t.status} = 'PENDING'`),
  ],
);

export const dissolutionStatus = pgEnum('dissolution_status', [
  'PENDING_CONFIRMATION',
  'SCHEDULED',
  'EFFECTIVE',
  'CANCELLED',
  'RESTORED',
  'FINALIZED',
]);

/**
 * G3–G6: a group's dissolutions. The instants are decided at request time (dissolution.rules.ts)
 * and never move; the state at any instant follows from them, `status` records which transitions
 * were made physical. At most one in force (not CANCELLED or RESTORED) per group. The group's rows
 * (members, roles, messages, files, payments) are left untouched until the undo window ends, so a
 * restore is exact by construction. `next_due_at` is the sweeper's index key.
 */
export const dissolutions = pgTable(
  'dissolutions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    requestedBy: text('requested_by')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    status: dissolutionStatus('status').notNull(),
    keepHistory: boolean('keep_history').notNull(),
    /** Members when it was requested (G5 decided on it). */
    memberCount: integer('member_count').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date' }).notNull(),
    effectiveAt: timestamp('effective_at', { withTimezone: true, mode: 'date' }).notNull(),
    undoUntil: timestamp('undo_until', { withTimezone: true, mode: 'date' }).notNull(),
    paymentsLeaveAt: timestamp('payments_leave_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** When the payments were detached from the group (null: not yet). */
    paymentsLeftAt: timestamp('payments_left_at', { withTimezone: true, mode: 'date' }),
    /** When it was cancelled (G5) or restored (G6). */
    settledAt: timestamp('settled_at', { withTimezone: true, mode: 'date' }),
    /** When the sweeper next has a step to make (null: none left). */
    nextDueAt: timestamp('next_due_at', { withTimezone: true, mode: 'date' }),
    /** G7: the device the owner asked from (the token's device id; null: none). */
    requestedDevice: text('requested_device'),
    /** G9: until when the guardian may answer (PENDING_CONFIRMATION); it lapses then. */
    confirmBy: timestamp('confirm_by', { withTimezone: true, mode: 'date' }),
    /** Why it ended when it was not the owner's cancel or restore: DECLINED, LAPSED (G9). */
    endReason: text('end_reason'),
    /** G8: the review that approved it, when it came from a batch. */
    reviewId: uuid('review_id'),
  },
  (t) => [
    uniqueIndex('dissolutions_in_force_idx')
      .on(t.groupId)
      .where(sql`${t.status} NOT IN ('CANCELLED', 'RESTORED')`),
    index('dissolutions_due_idx').on(t.nextDueAt).where(sql`${t.nextDueAt} IS NOT NULL`),
    index('dissolutions_group_idx').on(t.groupId, t.requestedAt),
  ],
);

/**
 * G7: one-time verification codes, stored only as a keyed hash (HMAC-SHA256 under a key derived
 * from the server secret): valid 10 minutes, single use, void after 5 wrong tries.
 */
export const verificationCodes = pgTable(
  'verification_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
    tries: integer('tries').notNull().default(0),
  },
  (t) => [index('verification_codes_user_idx').on(t.userId, t.createdAt)],
);

export const reviewStatus = pgEnum('review_status', ['PENDING_REVIEW', 'APPROVED', 'REJECTED']);

/**
 * G8: a batch dissolution waiting for an operator. `items` holds, per group, the outcome of the
 * check at request time and, once decided, of the dissolution at approval.
 */
export const dissolutionReviews = pgTable(
  'dissolution_reviews',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    requestedBy: text('requested_by')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    keepHistory: boolean('keep_history').notNull(),
    status: reviewStatus('status').notNull(),
    items: jsonb('items').$type<ReviewItem[]>().notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date' }).notNull(),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('dissolution_reviews_pending_idx').on(t.requestedAt).where(sql`${t.status} = 'PENDING_REVIEW'`),
  ],
);

/** One group of a batch: refused at request or approval (with why), or dissolved. */
export interface ReviewItem {
  groupId: string;
  /** Null while it can go ahead; the refusal code otherwise. */
  error: string | null;
  message: string | null;
  /** The dissolution made at approval. */
  dissolutionId: string | null;
}

export type GroupRow = typeof groups.$inferSelect;
export type VerificationCodeRow = typeof verificationCodes.$inferSelect;
export type ReviewRow = typeof dissolutionReviews.$inferSelect;
export type DissolutionRow = typeof dissolutions.$inferSelect;
export type GroupMemberRow = typeof groupMembers.$inferSelect;
export type TransferRow = typeof ownershipTransfers.$inferSelect;
