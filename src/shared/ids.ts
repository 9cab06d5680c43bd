// What an id argument may look like (API.md: an id that cannot be decoded answers BAD_USER_INPUT;
// a well-formed one that names nothing answers NOT_FOUND or null). Pure: no I/O.
import { graphqlError } from '../graphql/errors.js';
import { type Result, refuse } from './result.js';
import { fitsText } from './text.js';

/** Longest user id, in characters (Unicode code points). */
export const MAX_USER_ID = 128;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `s` is a UUID: the ids of conversations, messages and friend requests. */
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/**
 * Whether `s` can be a user id (a token's `sub`): a string of 1 to 128 characters without U+0000,
 * which Postgres cannot store.
 */
export function isUserId(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && fitsText(s, MAX_USER_ID);
}

/** `uuid`: a conversation, message or friend request; `user`: a user (a token's `sub`). */
export type IdKind = 'uuid' | 'user';

const wellFormed: Record<IdKind, (s: string) => boolean> = { uuid: isUuid, user: isUserId };
const refusal: Record<IdKind, string> = {
  uuid: 'Not a well-formed id.',
  user: `Not a well-formed user id (1 to ${MAX_USER_ID} characters).`,
};

/**
 * Null when `value` is a well-formed id of `kind`; else the BAD_USER_INPUT refusal naming `field`,
 * which a mutation returns as its `userErrors` entry (a query throws it: `requireId`).
 */
export function malformedId(kind: IdKind, value: string, field: string[]): Result<never> | null {
  return wellFormed[kind](value) ? null : refuse('BAD_USER_INPUT', refusal[kind], field);
}

/** Throws the top-level BAD_USER_INPUT error when `value` is not a well-formed id of `kind` (queries). */
export function requireId(kind: IdKind, value: string): void {
  if (!wellFormed[kind](value)) throw graphqlError('BAD_USER_INPUT', refusal[kind]);
}
