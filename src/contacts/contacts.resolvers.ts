import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { graphqlError, payload } from '../graphql/errors.js';
import { INSTANT_USER, INSTANT_UUID, instantKey, keysetPage } from '../graphql/pagination.js';
import {
  blockContact,
  deleteContact,
  deletionPreview,
  getContact,
  listContactViews,
  requestDeletionProof,
  respondToFriendRequest,
  sendFriendRequest,
  unblockContact,
} from './contacts.service.js';
import { listPending } from './contacts.store.js';

export const contactResolvers: Resolvers = {
  Query: {
    contact: (_p, { userId }, ctx) => getContact(ctx.deps, requireViewer(ctx), userId),
    contacts: (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      return keysetPage(
        args,
        INSTANT_USER,
        (key, limit) => listContactViews(ctx.deps.db, viewer.userId, instantKey(key), limit),
        (v) => [v.since, v.peerId],
      );
    },
    friendRequests: (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      return keysetPage(
        args,
        INSTANT_UUID,
        (key, limit) => listPending(ctx.deps.db, viewer.userId, args.direction, instantKey(key), limit),
        (r) => [r.createdAt, r.id],
      );
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
    user: (c) => ({ id: c.peerId }),
    // The viewer's own contact: its conversation is always one they may see (R1/R4 `partyOf`).
    conversation: async (c, _a, ctx) => (await ctx.loaders.conversation.load(c.conversationId))!,
  },
  FriendRequest: {
    from: (r) => ({ id: r.fromId }),
    to: (r) => ({ id: r.toId }),
  },
};
