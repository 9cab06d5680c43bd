import { sql } from 'drizzle-orm';
import type { Client } from 'graphql-ws';
import pg from 'pg';
import { type Db, rows } from '../../src/db/client.js';
import { publish } from '../../src/notices/notices.outbox.js';
import { comparePositions, decodeCursor, type Position } from '../../src/notices/notices.position.js';
import { countPending } from '../../src/notices/notices.store.js';

/**
 * Test notices are `ConversationPurged` (all scalar fields): `conversationId` names the writer
 * (`tag`) and `purgedMessages` carries its sequence number, so each notice is identifiable.
 */
export const TAGGED_FIELDS = 'cursor __typename ... on ConversationPurged { conversationId purgedMessages }';

/** A tagged notice as a subscription or `Query.notices` returns it. */
export interface TaggedNotice {
  cursor: string;
  __typename: string;
  conversationId?: string;
  purgedMessages?: number;
}

/** `tag:seq`, the identity of a tagged notice. */
export const keyOf = (n: TaggedNotice): string => `${n.conversationId}:${n.purgedMessages}`;

/** Publishes one tagged notice to `userIds` in `tx` (the caller's transaction decides if it exists: N2). */
export function publishTagged(tx: Db, userIds: string[], tag: string, seq: number, at: Date): Promise<void> {
  return publish(
    tx,
    [
      {
        recipientIds: userIds,
        kind: 'ConversationPurged',
        payload: { conversationId: tag, reason: 'test', purgedMessages: seq },
      },
    ],
    at,
  );
}

/** Publishes tagged notices `from..to-1` to `userId`, each in its own committed transaction. */
export async function publishRange(
  db: Db,
  userId: string,
  tag: string,
  from: number,
  to: number,
  at: () => Date,
): Promise<void> {
  for (let seq = from; seq < to; seq++)
    await db.transaction((tx) => publishTagged(tx, [userId], tag, seq, at()));
}

/** Publishes tagged notices `from..to-1` to `userId` in one committed transaction (one xid, ids in order). */
export async function publishBatch(
  db: Db,
  userId: string,
  tag: string,
  from: number,
  to: number,
  at: Date,
): Promise<void> {
  const items = Array.from({ length: to - from }, (_, i) => ({
    recipientIds: [userId],
    kind: 'ConversationPurged',
    payload: { conversationId: tag, reason: 'test', purgedMessages: from + i },
  }));
  await db.transaction((tx) => publish(tx, items, at));
}

/** The position of a cursor the server issued; throws on a malformed one. */
export function positionOf(cursor: string): Position {
  const p = decodeCursor(cursor);
  if (!p) throw new Error(`not a notice cursor: ${cursor}`);
  return p;
}

/** True when the cursors are strictly increasing in position order. */
export function strictlyIncreasing(cursors: string[]): boolean {
  return cursors.every((c, i) => i === 0 || comparePositions(positionOf(cursors[i - 1]!), positionOf(c)) < 0);
}

/** Resolves with the code and reason of the next close of a graphql-ws client's socket. */
export function nextClose(client: Client): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const off = client.on('closed', (e) => {
      off();
      const ev = e as { code: number; reason: string };
      resolve({ code: ev.code, reason: ev.reason });
    });
  });
}

/** Runs `fn` on a connection of its own to `url` (not the app's pool), then closes it. */
export async function withConnection<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** A dedicated connection the test keeps open (e.g. to hold a lock); `end()` releases it. */
export async function openConnection(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** Waits (event-driven polling, no timing assertion) until `cond` holds; throws after `limitMs`. */
export async function eventually(cond: () => boolean | Promise<boolean>, what: string, limitMs = 30_000) {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Waits until every committed notice (all, or `recipientId`'s) is final for good: no transaction
 * older than it still runs in any database of the server, so this read and every later one lists it.
 * Only the wait, never the outcome, depends on timing.
 *
 * `countPending() === 0` is not enough (it made test/notices/drivers.test.ts flake): the finality
 * horizon leaves out a transaction seen running in another database, but one that ends between a
 * statement's snapshot and its read of pg_stat_activity is no longer seen there and holds back that
 * one statement's horizon (the estimate may be more cautious later, never less). A list or a prune
 * after a passing check could then miss a notice the check found final. Once no older transaction
 * runs anywhere, no later estimate has anything left to hold back. A transaction left open
 * elsewhere on the server stalls this wait; the failure message names it.
 */
export async function settleNotices(
  db: Db,
  opts: { recipientId?: string; limitMs?: number } = {},
): Promise<void> {
  const forRecipient =
    opts.recipientId === undefined ? sql`` : sql`AND recipient_ids @> ARRAY[${opts.recipientId}]::text[]`;
  try {
    await eventually(
      async () => {
        const [r] = await rows<{ settled: boolean }>(
          db,
          sql`SELECT NOT EXISTS (
                SELECT 1 FROM notices
                WHERE xid >= pg_snapshot_xmin(pg_current_snapshot()) ${forRecipient}) AS settled`,
        );
        return r?.settled === true;
      },
      'committed notices to become final for good',
      opts.limitMs ?? 45_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${await explainStall(db)}`);
  }
}

/**
 * Resolves once at least `n` backends of the database at `url` wait on a lock while running a
 * statement that matches `like` (SQL LIKE): requests the test holds in flight with a lock.
 */
export async function untilWaitingOnLock(url: string, n = 1, like = '%'): Promise<void> {
  await eventually(
    () =>
      withConnection(url, async (c) => {
        const r = await c.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
          [like],
        );
        return r.rows[0].n >= n;
      }),
    `${n} statement(s) to wait on a lock`,
  );
}

/**
 * Why notices may not have arrived yet, for a failure message: how many committed notices are not
 * final, and the oldest transactions on the server (any database) holding them back.
 */
export async function explainStall(db: Db): Promise<string> {
  const [p] = await rows<{ total: number }>(db, sql`SELECT count(*)::int AS total FROM notices`);
  const pending = await countPending(db);
  const holders = await rows<{ datname: string; xid: string; age: string; state: string }>(
    db,
    sql`SELECT datname, backend_xid::text AS xid, (now() - xact_start)::text AS age, state
        FROM pg_stat_activity WHERE backend_xid IS NOT NULL ORDER BY xact_start LIMIT 3`,
  );
  return `${pending} of ${p?.total ?? '?'} notices not final yet; oldest transactions: ${JSON.stringify(holders)}`;
}
