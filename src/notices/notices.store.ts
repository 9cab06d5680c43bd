import { sql } from 'drizzle-orm';
import { type Db, rows } from '../db/client.js';
import { signalOnCommit } from '../db/commit-signal.js';
import type { Position } from './notices.position.js';
import { notices } from './notices.tables.js';

/** A committed, deliverable notice. */
export interface StoredNotice {
  position: Position;
  recipientIds: string[];
  kind: string;
  payload: Record<string, unknown>;
  at: Date;
}

export interface NewNotice {
  recipientIds: string[];
  kind: string;
  payload: Record<string, unknown>;
}

/** The channel whose NOTIFY wakes every instance's bus; it carries no data. */
export const NOTICE_CHANNEL = 'ties_notices';

/**
 * Writes notices in the caller's transaction (N2). The wake-up is sent after COMMIT by the handle
 * (src/db/commit-signal.ts), never inside the transaction: a NOTIFY there would serialize the
 * commits of every writer. An autocommit write (no transaction) notifies in its own statement.
 */
export async function insertNotices(db: Db, items: NewNotice[], at: Date): Promise<void> {
  const values = items
    .filter((n) => n.recipientIds.length > 0)
    .map((n) => ({ recipientIds: [...new Set(n.recipientIds)], kind: n.kind, payload: n.payload, at }));
  if (values.length === 0) return;
  await db.insert(notices).values(values);
  if (!signalOnCommit(NOTICE_CHANNEL)) await db.execute(sql`SELECT pg_notify(${NOTICE_CHANNEL}, '')`);
}

/**
 * The finality horizon (DESIGN.md "The trap"), as a scalar subquery over the statement's own
 * snapshot: every committed notice with `xid` below it is visible now, and no transaction can ever
 * commit another one below it. It is the oldest transaction still running — except transactions
 * positively seen connected to another database, which can never write our notices (so a long
 * transaction elsewhere on the same server does not hold delivery back). A running transaction not
 * found in pg_stat_activity (it just ended, or is a prepared one) still holds the horizon, so the
 * bound is never passed early. With nothing running it is the snapshot's xmax.
 */
const FINAL_HORIZON = sql.raw(`(
  WITH s AS MATERIALIZED (SELECT pg_current_snapshot() AS snap)
  SELECT COALESCE(
    (SELECT min(r.x) FROM s, LATERAL pg_snapshot_xip(s.snap) AS r(x)
     WHERE NOT EXISTS (
       SELECT 1 FROM pg_stat_activity a
       WHERE a.backend_xid IS NOT NULL
         AND a.backend_xid::text = (r.x::text::numeric % 4294967296)::text
         AND a.datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database()))),
    (SELECT pg_snapshot_xmax(s.snap) FROM s)))`);

interface RawNotice {
  id: string;
  xid: string;
  recipient_ids: string[];
  kind: string;
  payload: Record<string, unknown>;
  at: string | Date;
}

function toStored(r: RawNotice): StoredNotice {
  return {
    position: { xid: BigInt(r.xid), id: BigInt(r.id) },
    recipientIds: r.recipient_ids,
    kind: r.kind,
    payload: r.payload,
    at: new Date(r.at),
  };
}

/** A page of final notices and the horizon it was read under. */
export interface FinalPage {
  items: StoredNotice[];
  /** `(horizon, 0)`: every notice committed later lands after it; nothing final is missing below it. */
  frontier: Position;
  /**
   * Only when asked for: some committed notice after `after` is not final under this read's
   * horizon (an older transaction still runs). Such a notice may be final a moment later — even
   * without a wake-up, since an ending transaction that wrote no notice sends none — so the
   * caller must read again. Read in the same statement as the page, so nothing falls between.
   */
  pending: boolean;
}

/**
 * Notices after `after`, in position order, that are final: below the horizon (`FINAL_HORIZON`),
 * or at or before `settled` — a position some reader already found final, which stays final even
 * when a later horizon estimate is more cautious. Optionally only those for one recipient. The
 * page and the frontier come from one statement, so an empty page never hides a notice below it.
 */
export async function readFinalAfter(
  db: Db,
  after: Position,
  limit: number,
  recipientId?: string,
  settled?: Position,
  withPending = false,
): Promise<FinalPage> {
  const forRecipient =
    recipientId === undefined ? sql`` : sql`AND n.recipient_ids @> ARRAY[${recipientId}]::text[]`;
  const isSettled = settled
    ? sql`OR (n.xid, n.id) <= (${settled.xid.toString()}::xid8, ${settled.id.toString()}::bigint)`
    : sql``;
  const afterPos = sql`(${after.xid.toString()}::xid8, ${after.id.toString()}::bigint)`;
  const pending = withPending
    ? sql`EXISTS (SELECT 1 FROM notices n WHERE (n.xid, n.id) > ${afterPos} AND NOT (n.xid < h.h ${isSettled}) ${forRecipient})`
    : sql`false`;
  const raw = await rows<RawNotice & { horizon: string; pending: boolean }>(
    db,
    // ORDER BY names the table's columns: a bare `xid, id` would sort the text output columns of
    // the same names ("10" before "9"), out of position order.
    sql`WITH h AS MATERIALIZED (SELECT ${FINAL_HORIZON} AS h)
        SELECT h.h::text AS horizon, ${pending} AS pending, p.* FROM h LEFT JOIN LATERAL (
          SELECT n.id::text AS id, n.xid::text AS xid, n.recipient_ids, n.kind, n.payload, n.at
          FROM notices n
          WHERE (n.xid, n.id) > ${afterPos}
            AND (n.xid < h.h ${isSettled})
            ${forRecipient}
          ORDER BY n.xid, n.id
          LIMIT ${limit}) p ON true`,
  );
  const horizon = BigInt(raw[0]!.horizon);
  return {
    items: raw.filter((r) => r.id !== null).map(toStored),
    frontier: { xid: horizon, id: 0n },
    pending: raw[0]!.pending === true,
  };
}

/** How many committed notices (for one recipient, or all) are not final yet. */
export async function countPending(db: Db, recipientId?: string): Promise<number> {
  const forRecipient =
    recipientId === undefined ? sql`` : sql`AND recipient_ids @> ARRAY[${recipientId}]::text[]`;
  const [r] = await rows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM notices WHERE xid >= ${FINAL_HORIZON} ${forRecipient}`,
  );
  return r?.n ?? 0;
}

/** A position every notice committed from now on will be after: `(horizon, 0)`. */
export async function frontier(db: Db): Promise<Position> {
  const [r] = await rows<{ xmin: string }>(db, sql`SELECT ${FINAL_HORIZON}::text AS xmin`);
  return { xid: BigInt(r!.xmin), id: 0n };
}

/** The greatest position ever pruned, or null when nothing was. */
export async function readHorizon(db: Db): Promise<Position | null> {
  const [r] = await rows<{ xid: string; id: string }>(
    db,
    sql`SELECT xid::text, id::text FROM notice_horizon`,
  );
  return r ? { xid: BigInt(r.xid), id: BigInt(r.id) } : null;
}

/**
 * Deletes final notices older than `cutoff`, up to `batch` rows, and moves the horizon past them.
 * Returns how many were deleted.
 */
export async function pruneBatch(db: Db, cutoff: Date, batch: number, now: Date): Promise<number> {
  const [r] = await rows<{ n: number }>(
    db,
    sql`WITH d AS (
          DELETE FROM notices WHERE id IN (
            SELECT id FROM notices
            WHERE at < ${cutoff.toISOString()}::timestamptz
              AND xid < ${FINAL_HORIZON}
            ORDER BY xid, id LIMIT ${batch})
          RETURNING xid, id),
        top AS (SELECT xid, id FROM d ORDER BY xid DESC, id DESC LIMIT 1),
        h AS (
          INSERT INTO notice_horizon (singleton, xid, id, pruned_at)
          SELECT 'horizon', xid, id, ${now.toISOString()}::timestamptz FROM top
          ON CONFLICT (singleton) DO UPDATE SET xid = excluded.xid, id = excluded.id, pruned_at = excluded.pruned_at
          WHERE (notice_horizon.xid, notice_horizon.id) < (excluded.xid, excluded.id))
        SELECT count(*)::int AS n FROM d`,
  );
  return r?.n ?? 0;
}

export { notices };
