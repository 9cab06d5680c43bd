// The writing side of the notice stream, which every area's service uses: notices are written in
// the transaction of the change they report (N2) and pruned after the retention period (N1).
import type { Db } from '../db/client.js';
import { insertNotices, type NewNotice, pruneBatch } from './notices.store.js';

export type { NewNotice };

/** How long notices are kept at least (N1). */
export const NOTICE_RETENTION_MS = 7 * 24 * 60 * 60 * 1000; // 7 days
const PRUNE_BATCH = 5_000;

/**
 * Publishes notices inside the caller's transaction (N2): they exist iff it commits. The wake-up
 * goes out only after COMMIT (src/db/commit-signal.ts): this instance's subscribers at once, the
 * other instances by a NOTIFY coalesced to a few per second (N4). Recipients must be entitled to
 * them (N3): the caller decides who, this only writes.
 */
export async function publish(tx: Db, items: NewNotice[], now: Date): Promise<void> {
  await insertNotices(tx, items, now);
}

/** Deletes notices older than the retention period (N1), in batches; returns how many. */
export async function pruneNotices(db: Db, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - NOTICE_RETENTION_MS);
  let total = 0;
  for (;;) {
    const n = await pruneBatch(db, cutoff, PRUNE_BATCH, now);
    total += n;
    if (n < PRUNE_BATCH) return total;
  }
}
