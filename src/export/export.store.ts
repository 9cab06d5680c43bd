// G12: the exports index (export.tables.ts). The archives themselves are files: export.service.ts.
import { eq, lte, sql } from 'drizzle-orm';
import { type Db, rows } from '../db/client.js';
import { conversationExports, type ExportRow } from './export.tables.js';

/** Records a finished archive: from now on its link works for its owner until `expiresAt`. */
export async function insertExport(db: Db, row: ExportRow): Promise<ExportRow> {
  const [r] = await db.insert(conversationExports).values(row).returning();
  return r!;
}

/** An export by id (whoever owns it, expired or not; the caller decides). */
export async function findExport(db: Db, id: string): Promise<ExportRow | undefined> {
  const [r] = await db.select().from(conversationExports).where(eq(conversationExports.id, id));
  return r;
}

/** Deletes one export's row; answers whether it was there. */
export async function deleteExport(db: Db, id: string): Promise<boolean> {
  const gone = await db
    .delete(conversationExports)
    .where(eq(conversationExports.id, id))
    .returning({ id: conversationExports.id });
  return gone.length > 0;
}

/** Deletes up to `limit` rows expired at `now` (by index), answering their file names. */
export async function deleteExpiredExports(db: Db, now: Date, limit: number): Promise<string[]> {
  const gone = await rows<{ fileName: string }>(
    db,
    sql`DELETE FROM ${conversationExports} WHERE id = ANY(ARRAY(
          SELECT id FROM ${conversationExports} WHERE ${lte(conversationExports.expiresAt, now)}
          ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED))
        RETURNING file_name AS "fileName"`,
  );
  return gone.map((r) => r.fileName);
}

/** Which of these ids have a row (the others' files are leftovers). */
export async function knownExportIds(db: Db, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await db
    .select({ id: conversationExports.id })
    .from(conversationExports)
    .where(sql`${conversationExports.id} = ANY(${sql.param([...ids])}::uuid[])`);
  return new Set(found.map((r) => r.id));
}
