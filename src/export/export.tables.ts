import { sql } from 'drizzle-orm';
import { bigint, check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/users.tables.js';

/**
 * G12: the index of conversation exports. A row is written once its archive file is complete under
 * `<DATA_DIR>/exports/` and is the link `GET /exports/:id`: only its owner may download it, until
 * `expires_at`; from then on the link answers 404 and the row and file are deleted (on access and by
 * `pruneExports`). The file lives on the disk of the instance that wrote it: with a DATA_DIR shared
 * by every instance any of them serves the link, otherwise only that one does.
 */
export const conversationExports = pgTable(
  'exports',
  {
    id: uuid('id').primaryKey(),
    /** The exporting user: the only one the link serves. */
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The conversation exported (a record only: the archive is already written). */
    conversationId: uuid('conversation_id').notNull(),
    /** The archive's file name inside `<DATA_DIR>/exports/` (`<id>.jsonl` or `<id>.tiesx`). */
    fileName: text('file_name').notNull(),
    /** `JSONL`: the plain archive; `TIESX1`: the passphrase-encrypted envelope (export.format.ts). */
    format: text('format').$type<ExportFormat>().notNull(),
    /** SHA-256 of the file as served, lowercase hex. */
    sha256: text('sha256').notNull(),
    /** Size of the file as served, bytes. */
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    /** Messages in the archive. */
    messageCount: bigint('message_count', { mode: 'number' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** The link answers 404 from this instant on (server clock). */
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    // The prune: expired links, oldest first.
    index('exports_expires_idx').on(t.expiresAt),
    index('exports_owner_idx').on(t.ownerId),
    check('exports_format_check', sql`${t.format} IN ('JSONL', 'TIESX1')`),
  ],
);

/** How an archive is stored: plain JSON Lines, or the encrypted envelope around them. */
export type ExportFormat = 'JSONL' | 'TIESX1';

export type ExportRow = typeof conversationExports.$inferSelect;
