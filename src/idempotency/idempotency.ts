import { createHash } from 'node:crypto';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type Result, refuse } from '../shared/result.js';
import { idempotencyKeys } from './idempotency.tables.js';

/** How long a key answers the first result (API.md: 24 hours). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Longest key, in characters. */
export const IDEMPOTENCY_KEY_MAX = 255;

/**
 * The advisory-lock class of idempotency keys. The two-integer lock form never shares a lock with
 * the one-bigint form that pair locks use (`lockPair`), so a hash collision cannot make them wait
 * on each other.
 */
const LOCK_CLASS = 7_101;

/** What a call with an idempotency key found: go ahead, or the first call's result id. */
export type Claim = { first: false } | { first: true; resultId: string };

/** A printable key of 1–255 characters; else BAD_USER_INPUT naming `field`. */
export function checkIdempotencyKey(key: string, field: string[]): Result<never> | undefined {
  const length = [...key].length;
  if (length < 1 || length > IDEMPOTENCY_KEY_MAX || /\p{Cc}/u.test(key)) {
    return refuse(
      'BAD_USER_INPUT',
      `An idempotency key is 1 to ${IDEMPOTENCY_KEY_MAX} characters without control characters.`,
      field,
    );
  }
  return undefined;
}

/** The operation and its input, hashed: what the same key must keep asking for. */
export const fingerprintOf = (operation: string, input: readonly unknown[]): string =>
  createHash('sha256')
    .update(JSON.stringify([operation, ...input]))
    .digest('base64url');

/**
 * Inside the creating transaction, before it decides anything: waits for any other transaction of
 * the same user and key to end (so two calls at once run one after the other), then answers the
 * live record of a first call. The same key with another fingerprint is refused BAD_USER_INPUT.
 */
export async function claimKey(
  tx: Db,
  userId: string,
  key: string,
  fingerprint: string,
  now: Date,
  field: string[],
): Promise<Result<Claim>> {
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${userId} || chr(31) || ${key}))`,
  );
  const [row] = await tx
    .select()
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.userId, userId),
        eq(idempotencyKeys.key, key),
        gt(idempotencyKeys.createdAt, new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS)),
      ),
    );
  if (!row) return { ok: true, value: { first: false } };
  if (row.fingerprint !== fingerprint) {
    return refuse(
      'BAD_USER_INPUT',
      'This idempotency key was used for a different request in the last 24 hours; use a new key for a new request.',
      field,
    );
  }
  return { ok: true, value: { first: true, resultId: row.resultId } };
}

/** In the transaction that created `resultId`: records the key (replacing an expired record of it). */
export async function rememberKey(
  tx: Db,
  userId: string,
  key: string,
  fingerprint: string,
  resultId: string,
  now: Date,
): Promise<void> {
  const row = { userId, key, fingerprint, resultId, createdAt: now };
  await tx
    .insert(idempotencyKeys)
    .values(row)
    .onConflictDoUpdate({ target: [idempotencyKeys.userId, idempotencyKeys.key], set: row });
}

/** Deletes records past the 24-hour window at `now`; returns how many. */
export async function pruneIdempotencyKeys(db: Db, now: Date): Promise<number> {
  const gone = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS)))
    .returning({ key: idempotencyKeys.key });
  return gone.length;
}
