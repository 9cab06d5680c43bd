import DataLoader from 'dataloader';
import type { Viewer } from '../auth.js';
import type { Database } from '../db/client.js';
import { findConversationsOf, listMessagesPages, type MessagePageKey } from '../messages/messages.store.js';
import type { ConversationRow, MessageRow } from '../messages/messages.tables.js';
import { loadRetentionFactsOf, type RetentionFacts } from '../retention/retention.store.js';
import type { Deps } from '../shared/deps.js';
import { findUsers } from '../users/users.store.js';
import type { UserRow } from '../users/users.tables.js';
import { unauthenticated } from './errors.js';

/** Per-request batching loaders; the conversation ones answer for the request's viewer. */
export interface Loaders {
  user: DataLoader<string, UserRow | null>;
  /** Conversations by id that the viewer may see (null otherwise), one statement per batch. */
  conversation: DataLoader<string, ConversationRow | null>;
  /** T4 facts by conversation id from the viewer's side (null: no party), one statement per batch. */
  retentionFacts: DataLoader<string, RetentionFacts | null>;
  /** Pages of messages (newest first) of conversations the caller already may read, one statement per batch. */
  messagePage: DataLoader<MessagePageKey, MessageRow[]>;
}

/** The GraphQL context of one HTTP request or one WebSocket operation. */
export interface Context {
  deps: Deps;
  viewer: Viewer | null;
  requestId: string;
  loaders: Loaders;
  /**
   * The operation's name once resolved (null: anonymous), for the access log and metrics. An
   * object, so Apollo's per-operation shallow copy of the context shares it with the transport.
   */
  operation: { name: string | null };
}

/**
 * The loaders of one HTTP request or WebSocket operation of `viewerId` (null: anonymous, whose
 * conversation loads fail UNAUTHENTICATED). The conversation loaders batch but do not cache: a later
 * mutation of the same operation must see its own change, not a row loaded before it ran.
 */
export function createLoaders(db: Database, viewerId: string | null): Loaders {
  /** Answers each key with the row `find` returned for it, or null. */
  const byKey = <T>(
    find: (keys: readonly string[]) => Promise<T[]>,
    keyOf: (row: T) => string,
    options?: DataLoader.Options<string, T | null>,
  ) =>
    new DataLoader<string, T | null>(async (keys) => {
      const found = new Map((await find(keys)).map((row) => [keyOf(row), row]));
      return keys.map((key) => found.get(key) ?? null);
    }, options);
  const ofViewer = <T>(
    find: (ids: readonly string[], viewerId: string) => Promise<T[]>,
    idOf: (row: T) => string,
  ) =>
    byKey((ids) => (viewerId === null ? Promise.reject(unauthenticated()) : find(ids, viewerId)), idOf, {
      cache: false,
    });
  return {
    user: byKey(
      (ids) => findUsers(db, ids),
      (u) => u.id,
    ),
    conversation: ofViewer(
      (ids, v) => findConversationsOf(db, ids, v),
      (c) => c.id,
    ),
    retentionFacts: ofViewer(
      (ids, v) => loadRetentionFactsOf(db, ids, v),
      (f) => f.conversation.id,
    ),
    messagePage: new DataLoader((keys) => listMessagesPages(db, keys), { cache: false }),
  };
}

/** The viewer, or a top-level UNAUTHENTICATED error. */
export function requireViewer(ctx: Context): Viewer {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
}
