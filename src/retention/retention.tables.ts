import { sql } from 'drizzle-orm';
import {
  check,
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
import { conversations, messages } from '../messages/messages.tables.js';
import { users } from '../users/users.tables.js';

export const retentionPeriod = pgEnum('retention_period', ['FOREVER', 'ONE_YEAR', 'THREE_MONTHS', 'DAYS']);

/**
 * T1: a user's own retention period, for one conversation or (conversation null) as their default.
 * No row: FOREVER. `days` is the period in days (null: FOREVER): ONE_YEAR 365, THREE_MONTHS 90.
 */
export const retentionPolicies = pgTable(
  'retention_policies',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Null: the user's default. */
    conversationId: uuid('conversation_id').references(() => conversations.id, { onDelete: 'cascade' }),
    period: retentionPeriod('period').notNull(),
    days: integer('days'),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    uniqueIndex('retention_policies_conversation_idx')
      .on(t.userId, t.conversationId)
      .where(sql`${t.conversationId} IS NOT NULL`),
    uniqueIndex('retention_policies_default_idx').on(t.userId).where(sql`${t.conversationId} IS NULL`),
    check('retention_policies_days_check', sql`${t.days} IS NULL OR ${t.days} BETWEEN 1 AND 36500`),
  ],
);

/** T2: a message a user starred stays in that user's view whatever their period. */
export const stars = pgTable(
  'stars',
  {
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    starredAt: timestamp('starred_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.userId] }), index('stars_user_idx').on(t.userId)],
);

/**
 * T3: legal holds, placed by operators on exactly one of a user (every conversation they are or
 * were a party of), a conversation, or a group (its conversation and files), optionally limited
 * to messages sent in [from, to). While one covers a message, no path deletes its rows; users see
 * no difference. No foreign keys: a hold outlives what it names.
 */
export const legalHolds = pgTable(
  'legal_holds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: text('user_id'),
    conversationId: uuid('conversation_id'),
    groupId: uuid('group_id'),
    fromAt: timestamp('from_at', { withTimezone: true, mode: 'date' }),
    toAt: timestamp('to_at', { withTimezone: true, mode: 'date' }),
    reason: text('reason').notNull(),
    placedBy: text('placed_by').notNull(),
    placedAt: timestamp('placed_at', { withTimezone: true, mode: 'date' }).notNull(),
    releasedBy: text('released_by'),
    releasedAt: timestamp('released_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    check(
      'legal_holds_one_scope_check',
      sql`num_nonnulls(${t.userId}, ${t.conversationId}, ${t.groupId}) = 1`,
    ),
    index('legal_holds_active_idx').on(t.placedAt).where(sql`${t.releasedAt} IS NULL`),
  ],
);

export type RetentionPolicyRow = typeof retentionPolicies.$inferSelect;
export type LegalHoldRow = typeof legalHolds.$inferSelect;
