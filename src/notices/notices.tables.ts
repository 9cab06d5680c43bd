import { sql } from 'drizzle-orm';
import { bigint, bigserial, customType, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Postgres `xid8`: a 64-bit transaction id, read and written as a decimal string. */
const xid8 = customType<{ data: string; driverData: string }>({
  dataType: () => 'xid8',
});

/**
 * The notice outbox (N1–N4). A row is written in the transaction of the change it reports, so it
 * exists iff that change committed (N2). Its position in every stream is `(xid, id)`: rows are
 * delivered only once `xid` is below the oldest running transaction id, which makes the order
 * gap-free (no later commit can land behind a delivered position). See DESIGN.md "The trap".
 */
export const notices = pgTable(
  'notices',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    /** The writing transaction's id, `pg_current_xact_id()`; first part of the position. */
    xid: xid8('xid').notNull().default(sql`pg_current_xact_id()`),
    /** Users entitled to this notice (N3). */
    recipientIds: text('recipient_ids').array().notNull(),
    /** The GraphQL type name of the notice (`FriendRequestReceived`, …). */
    kind: text('kind').notNull(),
    /** Kind-specific fields, resolved without further queries. */
    payload: jsonb('payload').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('notices_position_idx').on(t.xid, t.id),
    index('notices_recipients_idx').using('gin', t.recipientIds),
    index('notices_at_idx').on(t.at),
  ],
);

/**
 * One row: the greatest position ever pruned. A cursor at or below it may have lost notices,
 * so replaying from it is refused with CURSOR_EXPIRED (N1).
 */
export const noticeHorizon = pgTable('notice_horizon', {
  singleton: text('singleton').primaryKey().default('horizon'),
  xid: xid8('xid').notNull(),
  id: bigint('id', { mode: 'bigint' }).notNull(),
  prunedAt: timestamp('pruned_at', { withTimezone: true, mode: 'date' }).notNull(),
});

export type NoticeRow = typeof notices.$inferSelect;
