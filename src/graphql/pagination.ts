import { graphqlError } from './errors.js';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 100;

/** Validates `first` (0 to 100, default 50); BAD_USER_INPUT otherwise. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) {
    throw graphqlError('BAD_USER_INPUT', `first must be between 0 and ${MAX_PAGE}.`);
  }
  return first;
}

/** Opaque offset-free cursor over a sort key: base64url of its JSON. */
export function encodeKey(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key of a cursor made by `encodeKey`; BAD_USER_INPUT when malformed. */
export function decodeKey(cursor: string | null | undefined, arity: number): unknown[] | null {
  if (!cursor) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(key) && key.length === arity) return key;
  } catch {
    // fall through
  }
  throw graphqlError('BAD_USER_INPUT', 'Malformed cursor.');
}

/** A Relay connection from `first + 1` fetched rows. */
export function connection<T>(rows: T[], first: number, cursorOf: (row: T) => string) {
  const nodes = rows.slice(0, first);
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}

/**
 * One keyset page: decodes `after` into the sort key (`arity` values), fetches `first + 1` rows
 * after it and builds the connection, with each row's cursor made from `keyOf(row)`.
 */
export async function keysetPage<T>(
  args: { first?: number | null; after?: string | null },
  arity: number,
  fetch: (after: unknown[] | null, limit: number) => Promise<T[]>,
  keyOf: (row: T) => unknown[],
) {
  const first = pageSize(args.first);
  const rows = await fetch(decodeKey(args.after, arity), first + 1);
  return connection(rows, first, (row) => encodeKey(keyOf(row)));
}

/** A `[instant, id]` sort key back into its parts. */
export const instantKey = (key: unknown[] | null): { at: Date; id: string } | null =>
  key ? { at: new Date(String(key[0])), id: String(key[1]) } : null;
