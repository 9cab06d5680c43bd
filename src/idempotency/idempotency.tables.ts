import { index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Client-chosen idempotency keys of successful creating mutations (today `sendMessage`): the same
 * key from the same user within 24 hours answers the first result. A row is written in the
 * transaction that created the result, so it exists exactly when the result does.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    /** The mutation and its input, hashed: the same key with other input is refused. */
    fingerprint: text('fingerprint').notNull(),
    /** The id of what the first call created (a message id). */
    resultId: text('result_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;
