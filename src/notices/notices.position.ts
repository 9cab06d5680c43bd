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

/** The position of a cursor, or `null` when the string is not one of ours. */
export function decodeCursor(cursor: string): Position | null {
  const m = /^n1:(\d{1,20}):(\d{1,20})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) return null;
  return { xid: BigInt(m[1]!), id: BigInt(m[2]!) };
}
