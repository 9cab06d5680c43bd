import { sql } from 'drizzle-orm';
import { check, customType, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { messages } from '../messages/messages.tables.js';

/** `bytea`, read back as a Buffer on both drivers (node-postgres answers a Buffer, PGlite a Uint8Array). */
const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
});

/**
 * Files sent with messages (the default `FileStore`: the bytes live in PostgreSQL). One per
 * message; a file goes with its message (ON DELETE CASCADE), so a purge (R3 sweep, R4 block and
 * delete) deletes the files in its own transaction.
 */
export const files = pgTable(
  'files',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    /** The name the sender gave: 1 to 255 characters without '/', '\' or U+0000. */
    name: text('name').notNull(),
    /** Bytes, as stored (`octet_length(bytes)`). */
    size: integer('size').notNull(),
    /** SHA-256 of the bytes, lowercase hex. */
    sha256: text('sha256').notNull(),
    bytes: bytea('bytes').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    uniqueIndex('files_message_idx').on(t.messageId),
    check('files_size_check', sql`${t.size} = octet_length(${t.bytes})`),
  ],
);

export type FileRow = typeof files.$inferSelect;
