import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
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

export type GroupRow = typeof groups.$inferSelect;
export type GroupMemberRow = typeof groupMembers.$inferSelect;
export type TransferRow = typeof ownershipTransfers.$inferSelect;
