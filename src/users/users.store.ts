import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type UserRow, users } from './users.tables.js';

/** Creates the user on first sight (`name` defaults to the id); never overwrites an existing row. */
export async function ensureUser(db: Db, id: string, name: string | undefined, now: Date): Promise<void> {
  await db
    .insert(users)
    .values({ id, name: name ?? id, createdAt: now })
    .onConflictDoNothing({ target: users.id });
}

/** The users with these ids, in any order. */
export async function findUsers(db: Db, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(users)
    .where(inArray(users.id, [...ids]));
}

/** Whether a user exists. */
export async function userExists(db: Db, id: string): Promise<boolean> {
  const r = await db.execute(sql`SELECT 1 FROM users WHERE id = ${id}`);
  return (r as unknown as { rows: unknown[] }).rows.length > 0;
}
