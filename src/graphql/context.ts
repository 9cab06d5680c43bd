import DataLoader from 'dataloader';
import type { Viewer } from '../auth.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/client.js';
import { type FileMeta, fileStore } from '../files/files.store.js';
import { latestDissolutions } from '../groups/dissolution.store.js';
import { findGroupsOf, membershipsOf, ownersOf, pendingTransfers } from '../groups/groups.store.js';
import type { DissolutionRow, GroupMemberRow, GroupRow, TransferRow } from '../groups/groups.tables.js';
import {
  countVisibleOf,
  findConversationsOf,
  findGroupConversations,
  listMessagesPages,
  type MessagePageKey,
} from '../messages/messages.store.js';
import type { ConversationRow, MessageRow } from '../messages/messages.tables.js';
import { paymentsOfMessages } from '../payments/payments.store.js';
import type { PaymentRow } from '../payments/payments.tables.js';
import {
  loadRetentionFactsOf,
  type RetentionFacts,
  starredBy,
  type ViewerRetention,
  viewerRetentionOf,
} from '../retention/retention.store.js';
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
  /** Groups by id that the viewer is a member of (null otherwise). */
  group: DataLoader<string, GroupRow | null>;
  /** The viewer's member row by group id (null: not a member). */
  membership: DataLoader<string, GroupMemberRow | null>;
  /** The owner's member row by group id. */
  groupOwner: DataLoader<string, GroupMemberRow | null>;
  /** The pending ownership transfer by group id (null: none). */
  pendingTransfer: DataLoader<string, TransferRow | null>;
  /** Messages in the viewer's view now by conversation id (the caller already may read it). */
  visibleMessages: DataLoader<string, number>;
  /** A message's attachment (its file's metadata) by message id (null: none). */
  attachment: DataLoader<string, FileMeta | null>;
  /** A message's payment by message id (null: none). */
  payment: DataLoader<string, PaymentRow | null>;
  /** The GROUP conversation by group id. */
  groupConversation: DataLoader<string, ConversationRow | null>;
  /** T2: whether the viewer starred the message, by message id. */
  starred: DataLoader<string, boolean>;
  /** T4: the viewer's own period and next expiry by conversation id. */
  viewerRetention: DataLoader<string, ViewerRetention | null>;
  /** A group's latest dissolution by group id (in force or not; null: never dissolved). */
  dissolution: DataLoader<string, DissolutionRow | null>;
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
export function createLoaders(db: Database, viewerId: string | null, clock: Clock): Loaders {
  /** The viewer reading now (T1–T3 decide what is in their view); anonymous reads fail UNAUTHENTICATED. */
  const reader = () => {
    if (viewerId === null) throw unauthenticated();
    return { viewerId, now: clock.now() };
  };
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
      (ids, v) => loadRetentionFactsOf(db, ids, v, clock.now()),
      (f) => f.conversation.id,
    ),
    messagePage: new DataLoader(async (keys) => listMessagesPages(db, reader(), keys), { cache: false }),
    group: ofViewer(
      (ids, v) => findGroupsOf(db, ids, v),
      (g) => g.id,
    ),
    membership: ofViewer(
      (ids, v) => membershipsOf(db, ids, v),
      (m) => m.groupId,
    ),
    groupOwner: byKey(
      (ids) => ownersOf(db, ids),
      (m) => m.groupId,
      { cache: false },
    ),
    pendingTransfer: byKey(
      (ids) => pendingTransfers(db, ids),
      (t) => t.groupId,
      { cache: false },
    ),
    visibleMessages: new DataLoader(
      async (ids) => {
        const found = new Map((await countVisibleOf(db, reader(), ids)).map((r) => [r.conversationId, r.n]));
        return ids.map((id) => found.get(id) ?? 0);
      },
      { cache: false },
    ),
    attachment: byKey(
      (ids) => fileStore.describe(db, ids),
      (f) => f.messageId,
      { cache: false },
    ),
    payment: byKey(
      (ids) => paymentsOfMessages(db, ids),
      (p) => p.messageId!,
      { cache: false },
    ),
    groupConversation: byKey(
      (ids) => findGroupConversations(db, ids),
      (c) => c.groupId!,
    ),
    starred: new DataLoader(
      async (ids) => {
        const found = new Set(await starredBy(db, reader().viewerId, ids));
        return ids.map((id) => found.has(id));
      },
      { cache: false },
    ),
    viewerRetention: byKey(
      (ids) => viewerRetentionOf(db, reader(), ids),
      (r) => r.conversationId,
      { cache: false },
    ),
    dissolution: byKey(
      (ids) => latestDissolutions(db, ids),
      (d) => d.groupId,
      { cache: false },
    ),
  };
}

/** The viewer, or a top-level UNAUTHENTICATED error. */
export function requireViewer(ctx: Context): Viewer {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
}
