import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { conversations, messages } from '../messages/messages.tables.js';
import { users } from '../users/users.tables.js';

/**
 * The payment ledger: one row per payment sent with a message. It outlives the message and the
 * conversation (their ids turn null when they are deleted: an R3/R4 purge, a group's end), and
 * stays in the payer's and the payee's ledger for good.
 */
export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The message it was sent with; null once that message is purged. */
    messageId: uuid('message_id').references(() => messages.id, { onDelete: 'set null' }),
    /** The conversation it was sent in; null once that conversation is deleted. */
    conversationId: uuid('conversation_id').references(() => conversations.id, { onDelete: 'set null' }),
    /** The group, when sent in a GROUP conversation (a record only: no foreign key). */
    groupId: uuid('group_id'),
    payerId: text('payer_id')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    payeeId: text('payee_id')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    /** 1 to 100,000,000 minor units. */
    amountCents: integer('amount_cents').notNull(),
    /** ISO 4217 style: three uppercase letters. */
    currency: text('currency').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    // The ledger: a user's payments as payer and as payee, newest first (keyset on createdAt, id).
    index('payments_payer_idx').on(t.payerId, t.createdAt, t.id),
    index('payments_payee_idx').on(t.payeeId, t.createdAt, t.id),
    // Message.payment, and ON DELETE SET NULL when messages are purged.
    uniqueIndex('payments_message_idx').on(t.messageId),
    // ON DELETE SET NULL when a conversation is deleted.
    index('payments_conversation_idx').on(t.conversationId),
    check('payments_amount_check', sql`${t.amountCents} BETWEEN 1 AND 100000000`),
    check('payments_currency_check', sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check('payments_not_self_check', sql`${t.payerId} <> ${t.payeeId}`),
  ],
);

export type PaymentRow = typeof payments.$inferSelect;
