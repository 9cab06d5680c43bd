import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { graphqlError, payload } from '../graphql/errors.js';
import { connection, decodeKey, encodeKey, pageSize } from '../graphql/pagination.js';
import { getConversation } from '../messages/messages.service.js';
import { viewOf } from './contacts.rules.js';
import {
  blockContact,
  type ContactView,
  deleteContact,
  deletionPreview,
  getContact,
  requestDeletionProof,
  respondToFriendRequest,
  sendFriendRequest,
  unblockContact,
} from './contacts.service.js';
import { listContacts, listPending } from './contacts.store.js';

export const contactResolvers: Resolvers = {
  Query: {
    contact: (_p, { userId }, ctx) => getContact(ctx.deps, requireViewer(ctx), userId),
    contacts: async (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      const first = pageSize(args.first);
      const key = decodeKey(args.after, 2);
      const rows = await listContacts(
        ctx.deps.db,
        viewer.userId,
        key ? { since: new Date(String(key[0])), peerId: String(key[1]) } : null,
        first + 1,
      );
      const views: ContactView[] = rows.map((r) => ({
        ownerId: r.entry.ownerId,
        peerId: r.entry.peerId,
        state: viewOf({ mine: r.entry, theirs: r.peerEntry })!,
        since: r.entry.since,
        conversationId: r.conversationId!,
      }));
      return connection(views, first, (v) => encodeKey([v.since.toISOString(), v.peerId]));
    },
    friendRequests: async (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      const first = pageSize(args.first);
      const key = decodeKey(args.after, 2);
      const rows = await listPending(
        ctx.deps.db,
        viewer.userId,
        args.direction,
        key ? { createdAt: new Date(String(key[0])), id: String(key[1]) } : null,
        first + 1,
      );
      return connection(rows, first, (r) => encodeKey([r.createdAt.toISOString(), r.id]));
    },
    deletionPreview: async (_p, { userId, action }, ctx) => {
      const r = await deletionPreview(ctx.deps, requireViewer(ctx), userId, action);
      if (!r.ok) throw graphqlError(r.error.code, r.error.message);
      return r.value;
    },
    deletionProofKey: (_p, _a, ctx) => ctx.deps.proof.publicJwk,
  },
  Mutation: {
    sendFriendRequest: async (_p, { input }, ctx) =>
      payload(await sendFriendRequest(ctx.deps, requireViewer(ctx), input)),
    respondToFriendRequest: async (_p, { input }, ctx) =>
      payload(await respondToFriendRequest(ctx.deps, requireViewer(ctx), input)),
    deleteContact: async (_p, { input }, ctx) =>
      payload(
        await deleteContact(ctx.deps, requireViewer(ctx), {
          userId: input.userId,
          notice: input.notice ?? 'SILENT',
        }),
      ),
    blockContact: async (_p, { input }, ctx) =>
      payload(
        await blockContact(ctx.deps, requireViewer(ctx), {
          userId: input.userId,
          deleteHistory: input.deleteHistory ?? false,
        }),
      ),
    unblockContact: async (_p, { input }, ctx) =>
      payload(await unblockContact(ctx.deps, requireViewer(ctx), input)),
    requestDeletionProof: async (_p, { input }, ctx) =>
      payload(await requestDeletionProof(ctx.deps, requireViewer(ctx), input)),
  },
  Contact: {
    user: async (c, _a, ctx) => (await ctx.loaders.user.load(c.peerId))!,
    conversation: async (c, _a, ctx) => (await getConversation(ctx.deps.db, c.ownerId, c.conversationId))!,
  },
  FriendRequest: {
    from: async (r, _a, ctx) => (await ctx.loaders.user.load(r.fromId))!,
    to: async (r, _a, ctx) => (await ctx.loaders.user.load(r.toId))!,
  },
};
