import type { Db } from '../db/client.js';
import { graphqlError } from '../graphql/errors.js';
import { assertNotExpired, type NoticeBus, type NoticeStream, StreamError } from './notices.bus.js';

import { decodeCursor, encodeCursor, ORIGIN, type Position } from './notices.position.js';
import { readFinalAfter, type StoredNotice } from './notices.store.js';

/** A notice as GraphQL resolves it: the kind is its type name; payload fields are its fields. */
export interface NoticeModel {
  __typename: string;
  cursor: string;
  at: Date;
  [field: string]: unknown;
}

/**
 * The GraphQL parent of a notice. The feed hands one stored notice to every recipient's stream, so
 * the model is built once and shared (it is the same for every recipient; viewer-dependent fields
 * are resolved from the context).
 */
export function toModel(n: StoredNotice): NoticeModel {
  const cached = models.get(n);
  if (cached) return cached;
  const model = { ...n.payload, __typename: n.kind, cursor: encodeCursor(n.position), at: n.at };
  models.set(n, model);
  return model;
}
const models = new WeakMap<StoredNotice, NoticeModel>();

/** Decodes a client cursor; BAD_USER_INPUT when it is not one of ours. */
export function parseCursor(cursor: string): Position {
  const p = decodeCursor(cursor);
  if (!p) throw graphqlError('BAD_USER_INPUT', 'Malformed notice cursor.');
  return p;
}

const asGraphqlError = (err: unknown): unknown =>
  err instanceof StreamError ? graphqlError(err.code, err.message) : err;

/** N1 pull form: a page of the user's notices after `after`, and a cursor to continue from. */
export async function listNotices(
  db: Db,
  userId: string,
  after: string | null | undefined,
  first: number,
): Promise<{ items: StoredNotice[]; endCursor: string; hasNextPage: boolean }> {
  const from = after ? parseCursor(after) : ORIGIN;
  // Page and frontier come from one statement: an empty page's endCursor never skips a notice.
  const { items: page, frontier: edge } = await readFinalAfter(db, from, first + 1, userId);
  // Checked after the page is read: a prune that committed before the read moved the horizon past
  // `from` in the same transaction, so a page with a hole in it is never answered.
  try {
    if (after) await assertNotExpired(db, from);
  } catch (err) {
    throw asGraphqlError(err);
  }
  const items = page.slice(0, first);
  const last = items.at(-1);
  const end = last ? last.position : page.length > first ? from : maxPosition(from, edge);
  return { items, endCursor: encodeCursor(end), hasNextPage: page.length > first };
}

const maxPosition = (a: Position, b: Position): Position =>
  a.xid > b.xid || (a.xid === b.xid && a.id >= b.id) ? a : b;

/** N1 push form: replay after the cursor, then live. */
export async function openNoticeStream(bus: NoticeBus, userId: string, after: string | null | undefined) {
  try {
    const stream: NoticeStream = await bus.open(userId, after ? parseCursor(after) : null);
    return stream;
  } catch (err) {
    throw asGraphqlError(err);
  }
}
