import type { Resolvers } from '../generated/graphql.js';
import { type Context, requireViewer } from '../graphql/context.js';
import { graphqlError, payload } from '../graphql/errors.js';
import { INSTANT_UUID, instantKey, keysetPage, SEQ } from '../graphql/pagination.js';
import { filesGoneAt, paymentsGoneAt } from '../groups/dissolution.rules.js';
import { historyVisible } from '../retention/retention.rules.js';
import { groupStatus, loadedRetentionStatus } from '../retention/retention.service.js';
import { getConversation, listConversationsOf, peerOf, sendMessage } from './messages.service.js';
import type { ConversationRow, MessageRow } from './messages.tables.js';

/** Messages newest first, keyed by their insertion order; a page of conversations loads in one batch. */
const messagePage = (
  ctx: Context,
  c: ConversationRow,
  args: { first?: number | null; after?: string | null },
) =>
  keysetPage(
    args,
    SEQ,
    async (key, limit) =>
      historyVisible(c, ctx.deps.clock.now())
        ? ctx.loaders.messagePage.load({ conversationId: c.id, beforeSeq: key ? key[0] : null, limit })
        : [],
    (m: MessageRow) => [m.seq],
  );

/** The dissolution of the group a message was sent in (null: a direct message, or none). */
async function dissolutionOf(ctx: Context, m: MessageRow) {
  const c = await ctx.loaders.conversation.load(m.conversationId);
  return c?.groupId ? ctx.loaders.dissolution.load(c.groupId) : null;
}

export const messageResolvers: Resolvers = {
  Query: {
    conversation: (_p, { id }, ctx) => getConversation(ctx.deps.db, requireViewer(ctx).userId, id),
    conversations: (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      return keysetPage(
        args,
        INSTANT_UUID,
        (key, limit) => listConversationsOf(ctx.deps.db, viewer.userId, instantKey(key), limit),
        (c) => [c.createdAt, c.id],
      );
    },
    messages: async (_p, args, ctx) => {
      const c = await getConversation(ctx.deps.db, requireViewer(ctx).userId, args.conversationId);
      if (!c) throw graphqlError('NOT_FOUND', 'No such conversation.');
      return messagePage(ctx, c, args);
    },
  },
  Mutation: {
    sendMessage: async (_p, { input }, ctx) =>
      payload(await sendMessage(ctx.deps, requireViewer(ctx), input)),
  },
  Conversation: {
    peer: (c, _a, ctx) => (c.kind === 'DIRECT' ? { id: peerOf(c, requireViewer(ctx).userId) } : null),
    retention: async (c, _a, ctx) => {
      if (c.kind === 'GROUP') {
        const [stored, d] = await Promise.all([
          ctx.loaders.visibleMessages.load(c.id),
          ctx.loaders.dissolution.load(c.groupId!),
        ]);
        return groupStatus(c, stored, d, ctx.deps.clock.now());
      }
      const r = await loadedRetentionStatus(ctx.deps, ctx.loaders, c.id);
      if (!r.ok) throw graphqlError(r.error.code, r.error.message);
      return r.value;
    },
    messages: (c, args, ctx) => messagePage(ctx, c, args),
  },
  Message: {
    sender: (m) => ({ id: m.senderId }),
    starred: (m, _a, ctx) => ctx.loaders.starred.load(m.id),
    // G3: a dissolved group's files are gone from `undoUntil`, its payments from `effectiveAt + 72 h`
    // (reads follow the stored instants; the sweeper deletes and detaches the rows).
    attachment: async (m, _a, ctx) => {
      const file = await ctx.loaders.attachment.load(m.id);
      return file && !filesGoneAt(await dissolutionOf(ctx, m), ctx.deps.clock.now()) ? file : null;
    },
    payment: async (m, _a, ctx) => {
      const payment = await ctx.loaders.payment.load(m.id);
      return payment && !paymentsGoneAt(await dissolutionOf(ctx, m), ctx.deps.clock.now()) ? payment : null;
    },
  },
};
