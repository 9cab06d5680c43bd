import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { isUuid } from '../shared/ids.js';
import { type FileRow, files } from './files.tables.js';

/** A stored file without its bytes: what `Message.attachment` shows. */
export type FileMeta = Omit<FileRow, 'bytes'>;
/** A stored file with its bytes: what `GET /files/:id` sends. */
export type StoredFile = FileRow;

/** A file to store with a message. */
export interface NewFile {
  messageId: string;
  name: string;
  bytes: Buffer;
  now: Date;
}

/**
 * Where the bytes of attachments live. A file belongs to one message and is deleted with it, in the
 * transaction that deletes the message (a purge never leaves a file behind, nor deletes one early).
 */
export interface FileStore {
  /** Stores a message's file in the transaction `tx` that inserts the message. */
  put(tx: Db, file: NewFile): Promise<FileMeta>;
  /** A file with its bytes (undefined: none, or not a well-formed id). Who may read it is the caller's rule. */
  get(db: Db, id: string): Promise<StoredFile | undefined>;
  /** The files of these messages, without bytes, in one statement; messages without one are left out. */
  describe(db: Db, messageIds: readonly string[]): Promise<FileMeta[]>;
}

const meta = {
  id: files.id,
  messageId: files.messageId,
  name: files.name,
  size: files.size,
  sha256: files.sha256,
  createdAt: files.createdAt,
};

/**
 * The default store: bytes in PostgreSQL (`files.bytes`, bytea), on both drivers. Deletion is the
 * foreign key's: `files.message_id … ON DELETE CASCADE`.
 */
export const postgresFileStore: FileStore = {
  async put(tx, f) {
    const sha256 = createHash('sha256').update(f.bytes).digest('hex');
    const [row] = await tx
      .insert(files)
      .values({
        messageId: f.messageId,
        name: f.name,
        size: f.bytes.length,
        sha256,
        bytes: f.bytes,
        createdAt: f.now,
      })
      .returning(meta);
    return row!;
  },
  async get(db, id) {
    if (!isUuid(id)) return undefined;
    const [row] = await db.select().from(files).where(eq(files.id, id));
    return row;
  },
  async describe(db, messageIds) {
    if (messageIds.length === 0) return [];
    return db
      .select(meta)
      .from(files)
      .where(sql`${files.messageId} = ANY(${sql.param([...messageIds])})`);
  },
};

/** The store the server uses. */
export const fileStore: FileStore = postgresFileStore;
