import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../users/users.tables.js';

/** A user's directed entry about a peer (SPEC §1). The pair state is derived from both entries. */
export const entryState = pgEnum('entry_state', ['FRIEND', 'DELETED', 'BLOCKED']);

export const contactEntries = pgTable(
  'contact_entries',
  {
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    peerId: text('peer_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    state: entryState('state').notNull(),
    /** When `state` last changed. */
    since: timestamp('since', { withTimezone: true, mode: 'date' }).notNull(),
    /** While BLOCKED: the state unblock returns to (R4); null = no entry before the block. */
    stateBeforeBlock: entryState('state_before_block'),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.peerId] }), index('contact_entries_peer_idx').on(t.peerId)],
);

export const requestStatus = pgEnum('request_status', ['PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED']);

/** Friend requests (R1). */
export const friendRequests = pgTable(
  'friend_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    fromId: text('from_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    toId: text('to_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    greeting: text('greeting'),
    status: requestStatus('status').notNull(),
    /** R1: sent to someone who blocks the sender — it looks sent to the sender and is never shown to the recipient. */
    hidden: boolean('hidden').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    respondedAt: timestamp('responded_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('friend_requests_one_pending_idx').on(t.fromId, t.toId).where(sql`${t.status} = 'PENDING'`),
    index('friend_requests_to_idx').on(t.toId, t.status, t.createdAt),
    index('friend_requests_from_idx').on(t.fromId, t.status, t.createdAt),
  ],
);

export type ContactEntryRow = typeof contactEntries.$inferSelect;
export type FriendRequestRow = typeof friendRequests.$inferSelect;
