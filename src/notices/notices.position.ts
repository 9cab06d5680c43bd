/**
 * A position in the notice order: `(xid, id)` of the row. Opaque to clients as a cursor string.
 * Pure: no I/O.
 */
export interface Position {
  xid: bigint;
  id: bigint;
}

export const ORIGIN: Position = { xid: 0n, id: 0n };

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function comparePositions(a: Position, b: Position): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** The opaque cursor for a position. */
export function encodeCursor(p: Position): string {
  return Buffer.from(`n1:${p.xid}:${p.id}`).toString('base64url');
}

const MAX_XID = 2n ** 64n - 1n; // xid8: unsigned 64-bit
const MAX_ID = 2n ** 63n - 1n; // bigint: signed 64-bit

/**
 * The position of a cursor, or `null` when the string is not one of ours: another shape, or a part
 * out of its column's range (Postgres would refuse it).
 */
export function decodeCursor(cursor: string): Position | null {
  const m = /^n1:(\d{1,20}):(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) return null;
  const p = { xid: BigInt(m[1]!), id: BigInt(m[2]!) };
  return p.xid <= MAX_XID && p.id <= MAX_ID ? p : null;
}
