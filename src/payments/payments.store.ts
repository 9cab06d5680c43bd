import { and, desc, eq, getTableColumns, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { paymentsLeftGroupAt } from '../groups/dissolution.store.js';
import { type PaymentRow, payments } from './payments.tables.js';

export type NewPayment = Omit<PaymentRow, 'id'>;

/** Records a payment in the transaction that inserts its message. */
export async function insertPayment(tx: Db, p: NewPayment): Promise<PaymentRow> {
  const [row] = await tx.insert(payments).values(p).returning();
  return row!;
}

/** The payments sent with these messages, in one statement; messages without one are left out. */
export async function paymentsOfMessages(db: Db, messageIds: readonly string[]): Promise<PaymentRow[]> {
  if (messageIds.length === 0) return [];
  return db
    .select()
    .from(payments)
    .where(sql`${payments.messageId} = ANY(${sql.param([...messageIds])})`);
}

/**
 * The user's ledger — payments they made or received — newest first (keyset on createdAt, id).
 * Two index range scans (`payments_payer_idx`, `payments_payee_idx`), each at most `limit` rows,
 * merged: a payer is never the payee, so no row comes twice. The links read as users would see
 * them without a legal hold (T3), which keeps rows a purge would delete: `messageId` is null once
 * the message is purged, both links once the payment left a dissolved group at `now` (G3).
 */
export async function listPaymentsOf(
  db: Db,
  userId: string,
  after: { at: Date; id: string } | null,
  limit: number,
  now: Date,
): Promise<PaymentRow[]> {
  const p = payments;
  const before = after
    ? or(lt(p.createdAt, after.at), and(eq(p.createdAt, after.at), lt(p.id, after.id)))
    : undefined;
  const side = (party: SQL | undefined) =>
    db
      .select({
        ...getTableColumns(p),
        messageGone: sql<boolean>`EXISTS (SELECT 1 FROM messages m
          WHERE m.id = ${p.messageId} AND m.purged_at IS NOT NULL)`,
        leftGroup: paymentsLeftGroupAt(p.conversationId, now),
      })
      .from(p)
      .where(and(party, before))
      .orderBy(desc(p.createdAt), desc(p.id))
      .limit(limit);
  const [paid, received] = (
    await Promise.all([side(eq(p.payerId, userId)), side(eq(p.payeeId, userId))])
  ).map((found) =>
    found.map(
      ({ messageGone, leftGroup, ...row }): PaymentRow => ({
        ...row,
        messageId: messageGone || leftGroup ? null : row.messageId,
        conversationId: leftGroup ? null : row.conversationId,
      }),
    ),
  );
  return [...paid!, ...received!]
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, limit);
}
