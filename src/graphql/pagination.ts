import { isUserId, isUuid } from '../shared/ids.js';
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

/**
 * One part of a sort key: how it is written into a cursor and read back. `read` answers undefined
 * for anything `write` could not have produced, so a crafted cursor never reaches SQL.
 */
export interface KeyPart<T> {
  write(value: T): string | number;
  read(json: unknown): T | undefined;
}

// What `toISOString` writes for the years Postgres and JavaScript share (0001 to 9999).
const ISO_INSTANT = /^(?!0000)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** An instant, as its ISO-8601 UTC string; only a real date reads back (no 2026-02-30). */
export const instantPart: KeyPart<Date> = {
  write: (d) => d.toISOString(),
  read: (v) => {
    if (typeof v !== 'string' || !ISO_INSTANT.test(v)) return undefined;
    const d = new Date(v);
    return !Number.isNaN(d.getTime()) && d.toISOString() === v ? d : undefined;
  },
};

/** A UUID (conversation, friend request). */
export const uuidPart: KeyPart<string> = { write: (s) => s, read: (v) => (isUuid(v) ? v : undefined) };

/** A user id (a token's `sub`). */
export const userIdPart: KeyPart<string> = { write: (s) => s, read: (v) => (isUserId(v) ? v : undefined) };

/** A sequence number: a safe non-negative integer. */
export const seqPart: KeyPart<number> = {
  write: (n) => n,
  read: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined),
};

/** The parts of a sort key, one `KeyPart` per value of `K`. */
export type KeySpec<K extends unknown[]> = { [I in keyof K]: KeyPart<K[I]> };

/** Opaque offset-free cursor over a sort key: base64url of the JSON of its written parts. */
export function encodeKey<K extends unknown[]>(spec: KeySpec<K>, key: K): string {
  const parts = key.map((v, i) => (spec[i] as KeyPart<unknown>).write(v));
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/**
 * The sort key of a cursor made by `encodeKey` with the same spec (null without a cursor);
 * BAD_USER_INPUT when it is not one: not base64url JSON, another arity, or a part of the wrong type.
 */
export function decodeKey<K extends unknown[]>(
  cursor: string | null | undefined,
  spec: KeySpec<K>,
): K | null {
  if (!cursor) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    json = undefined;
  }
  if (Array.isArray(json) && json.length === spec.length) {
    const key = json.map((v, i) => (spec[i] as KeyPart<unknown>).read(v));
    if (!key.includes(undefined)) return key as K;
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
 * One keyset page: decodes `after` into the sort key (BAD_USER_INPUT unless it matches `spec`),
 * fetches `first + 1` rows after it and builds the connection, each row's cursor made from
 * `keyOf(row)`.
 */
export async function keysetPage<T, K extends unknown[]>(
  args: { first?: number | null; after?: string | null },
  spec: KeySpec<K>,
  fetch: (after: K | null, limit: number) => Promise<T[]>,
  keyOf: (row: T) => [...K],
) {
  const first = pageSize(args.first);
  const rows = await fetch(decodeKey(args.after, spec), first + 1);
  return connection(rows, first, (row) => encodeKey<K>(spec, keyOf(row)));
}

/** `(instant, id)` sort keys, newest first: the id (a UUID) breaks ties. */
export const INSTANT_UUID: KeySpec<[Date, string]> = [instantPart, uuidPart];
/** `(instant, user id)` sort keys, newest first. */
export const INSTANT_USER: KeySpec<[Date, string]> = [instantPart, userIdPart];
/** `(seq)` sort keys. */
export const SEQ: KeySpec<[number]> = [seqPart];

/** A `[instant, id]` sort key as the stores take it. */
export const instantKey = (key: [Date, string] | null): { at: Date; id: string } | null =>
  key && { at: key[0], id: key[1] };
