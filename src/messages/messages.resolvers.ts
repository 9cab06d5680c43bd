import type { Resolvers } from '../generated/graphql.js';
import { type Context, requireViewer } from '../graphql/context.js';
import { graphqlError, payload } from '../graphql/errors.js';
import { INSTANT_UUID, instantKey, keysetPage, SEQ } from '../graphql/pagination.js';
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
      if (c.kind === 'GROUP') return groupStatus(c, await ctx.loaders.storedMessages.load(c.id));
      const r = await loadedRetentionStatus(ctx.deps, ctx.loaders, c.id);
      if (!r.ok) throw graphqlError(r.error.code, r.error.message);
      return r.value;
    },
    messages: (c, args, ctx) => messagePage(ctx, c, args),
  },
  Message: {
    sender: (m) => ({ id: m.senderId }),
    starred: () => false,
    attachment: (m, _a, ctx) => ctx.loaders.attachment.load(m.id),
    payment: (m, _a, ctx) => ctx.loaders.payment.load(m.id),
  },
};
