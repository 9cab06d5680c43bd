import type { Resolvers } from '../generated/graphql.js';
import { type Context, requireViewer } from '../graphql/context.js';
import { graphqlError, payload } from '../graphql/errors.js';
import { connection, decodeKey, encodeKey, pageSize } from '../graphql/pagination.js';
import { retentionStatus } from '../retention/retention.service.js';
import {
  getConversation,
  listConversationsOf,
  listMessages,
  peerOf,
  sendMessage,
} from './messages.service.js';
import type { MessageRow } from './messages.tables.js';

async function messagePage(
  ctx: Context,
  conversationId: string,
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const size = pageSize(first);
  const key = decodeKey(after, 1);
  const rows = await listMessages(ctx.deps.db, conversationId, key ? Number(key[0]) : null, size + 1);
  return connection<MessageRow>(rows, size, (m) => encodeKey([m.seq]));
}

export const messageResolvers: Resolvers = {
  Query: {
    conversation: (_p, { id }, ctx) => getConversation(ctx.deps.db, requireViewer(ctx).userId, id),
    conversations: async (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      const first = pageSize(args.first);
      const key = decodeKey(args.after, 2);
      const rows = await listConversationsOf(
        ctx.deps.db,
        viewer.userId,
        key ? { createdAt: new Date(String(key[0])), id: String(key[1]) } : null,
        first + 1,
      );
      return connection(rows, first, (c) => encodeKey([c.createdAt.toISOString(), c.id]));
    },
    messages: async (_p, args, ctx) => {
      const c = await getConversation(ctx.deps.db, requireViewer(ctx).userId, args.conversationId);
      if (!c) throw graphqlError('NOT_FOUND', 'No such conversation.');
      return messagePage(ctx, c.id, args.first, args.after);
    },
  },
  Mutation: {
    sendMessage: async (_p, { input }, ctx) =>
      payload(await sendMessage(ctx.deps, requireViewer(ctx), input)),
  },
  Conversation: {
    peer: async (c, _a, ctx) =>
      c.kind === 'DIRECT' ? ctx.loaders.user.load(peerOf(c, requireViewer(ctx).userId)) : null,
    retention: async (c, _a, ctx) => {
      const r = await retentionStatus(ctx.deps, requireViewer(ctx), c.id);
      if (!r.ok) throw graphqlError(r.error.code, r.error.message);
      return r.value;
    },
    messages: (c, args, ctx) => messagePage(ctx, c.id, args.first, args.after),
  },
  Message: {
    sender: async (m, _a, ctx) => (await ctx.loaders.user.load(m.senderId))!,
    starred: () => false,
  },
};
