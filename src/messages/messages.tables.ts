import { sql } from 'drizzle-orm';
import { bigserial, index, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { groups } from '../groups/groups.tables.js';
import { users } from '../users/users.tables.js';

export const conversationKind = pgEnum('conversation_kind', ['DIRECT', 'GROUP']);

/**
 * Conversations. A pair has one DIRECT conversation for life (`userLow < userHigh`): purges empty
 * it, re-adding reuses it. A group has one GROUP conversation (`groupId`), read by its members.
 */
export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: conversationKind('kind').notNull(),
    userLow: text('user_low').references(() => users.id, { onDelete: 'cascade' }),
    userHigh: text('user_high').references(() => users.id, { onDelete: 'cascade' }),
    /** A GROUP conversation's group (one conversation per group); null for DIRECT. */
    groupId: uuid('group_id').references(() => groups.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** R3: when the pair became MUTUALLY_DELETED; cleared when it is restored. */
    mutualSince: timestamp('mutual_since', { withTimezone: true, mode: 'date' }),
    /** R3: when the sweeper purges the messages (`mutualSince + 30 days`); null = nothing scheduled. */
    purgeAt: timestamp('purge_at', { withTimezone: true, mode: 'date' }),
    /** R3/R4: when the messages were last purged; cleared when a new friendship starts. */
    purgedAt: timestamp('purged_at', { withTimezone: true, mode: 'date' }),
    /** Which rule purged it: 'R3' (buffer ran out), 'R4' (block and delete), 'G3' (dissolution). */
    purgedBy: text('purged_by'),
    /**
     * T2/T5: no message of this conversation leaves every participant's view before this instant
     * (null: none ever will — someone keeps FOREVER, and nothing waits for a hold's release). The
     * sweeper's index key; kept no later than the truth by every change to periods, stars,
     * membership and holds.
     */
    t2NextAt: timestamp('t2_next_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('conversations_pair_idx').on(t.userLow, t.userHigh),
    uniqueIndex('conversations_group_idx').on(t.groupId),
    index('conversations_purge_due_idx').on(t.purgeAt).where(sql`${t.purgeAt} is not null`),
    index('conversations_t2_due_idx').on(t.t2NextAt).where(sql`${t.t2NextAt} is not null`),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Insertion order inside a conversation; the pagination key. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    senderId: text('sender_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }).notNull(),
    /**
     * T3: set instead of deleting the row when a purge (R3, R4, G3, T2) finds it under a legal hold:
     * from then on it is gone for every reader exactly as if deleted; the sweep deletes it once
     * no hold covers it.
     */
    purgedAt: timestamp('purged_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('messages_conversation_seq_idx').on(t.conversationId, t.seq),
    index('messages_conversation_sent_idx').on(t.conversationId, t.sentAt),
    index('messages_held_idx').on(t.conversationId).where(sql`${t.purgedAt} IS NOT NULL`),
  ],
);

export type ConversationRow = typeof conversations.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
