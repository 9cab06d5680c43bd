import { and, desc, eq, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
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
 * merged: a payer is never the payee, so no row comes twice.
 */
export async function listPaymentsOf(
  db: Db,
  userId: string,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<PaymentRow[]> {
  const p = payments;
  const before = after
    ? or(lt(p.createdAt, after.at), and(eq(p.createdAt, after.at), lt(p.id, after.id)))
    : undefined;
  const side = (party: SQL | undefined) =>
    db.select().from(p).where(and(party, before)).orderBy(desc(p.createdAt), desc(p.id)).limit(limit);
  const [paid, received] = await Promise.all([side(eq(p.payerId, userId)), side(eq(p.payeeId, userId))]);
  return [...paid, ...received]
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, limit);
}
