import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Users, created on first sight of a token (`sub` → id, `name` claim → display name). */
export const users = pgTable('users', {
  /** The token's `sub`: opaque, chosen by the identity provider. */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
});

export type UserRow = typeof users.$inferSelect;

/** A user as GraphQL resolves it: the id; the name is loaded (batched) only when asked for. */
export interface UserRef {
  id: string;
}
