import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { payload } from '../graphql/errors.js';
import { INSTANT_USER, INSTANT_UUID, instantKey, keysetPage } from '../graphql/pagination.js';
import { requireId } from '../shared/ids.js';
import {
  cancelOwnershipTransfer,
  createGroup,
  getGroup,
  inviteToGroup,
  leaveGroup,
  removeFromGroup,
  respondToOwnershipTransfer,
  setDissolutionProtection,
  setMemberRole,
  transferOwnership,
} from './groups.service.js';
import { listCommonGroups, listGroupsOf, listMembers } from './groups.store.js';
import type { GroupRow } from './groups.tables.js';

export const groupResolvers: Resolvers = {
  Query: {
    group: (_p, { id }, ctx) => getGroup(ctx.deps.db, requireViewer(ctx).userId, id),
    groups: (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      return keysetPage(
        args,
        INSTANT_UUID,
        (key, limit) => listGroupsOf(ctx.deps.db, viewer.userId, instantKey(key), limit),
        (g) => [g.joinedAt, g.id],
      );
    },
    commonGroups: (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      requireId('user', args.userId);
      return keysetPage(
        args,
        INSTANT_UUID,
        (key, limit) => listCommonGroups(ctx.deps.db, viewer.userId, args.userId, instantKey(key), limit),
        (g: GroupRow) => [g.createdAt, g.id],
      );
    },
  },
  Mutation: {
    createGroup: async (_p, { input }, ctx) =>
      payload(await createGroup(ctx.deps, requireViewer(ctx), input)),
    inviteToGroup: async (_p, { input }, ctx) =>
      payload(await inviteToGroup(ctx.deps, requireViewer(ctx), input)),
    removeFromGroup: async (_p, { input }, ctx) =>
      payload(await removeFromGroup(ctx.deps, requireViewer(ctx), input)),
    leaveGroup: async (_p, { input }, ctx) => payload(await leaveGroup(ctx.deps, requireViewer(ctx), input)),
    setMemberRole: async (_p, { input }, ctx) =>
      payload(await setMemberRole(ctx.deps, requireViewer(ctx), input)),
    transferOwnership: async (_p, { input }, ctx) =>
      payload(await transferOwnership(ctx.deps, requireViewer(ctx), input)),
    respondToOwnershipTransfer: async (_p, { input }, ctx) =>
      payload(await respondToOwnershipTransfer(ctx.deps, requireViewer(ctx), input)),
    cancelOwnershipTransfer: async (_p, { input }, ctx) =>
      payload(await cancelOwnershipTransfer(ctx.deps, requireViewer(ctx), input)),
    setDissolutionProtection: async (_p, { input }, ctx) =>
      payload(await setDissolutionProtection(ctx.deps, requireViewer(ctx), input)),
  },
  Group: {
    owner: async (g, _a, ctx) => ({ id: (await ctx.loaders.groupOwner.load(g.id))!.userId }),
    guardian: (g) => (g.guardianId ? { id: g.guardianId } : null),
    // A Group reaches only its members (every query and payload checks), so the row exists.
    viewerRole: async (g, _a, ctx) => (await ctx.loaders.membership.load(g.id))!.role,
    conversation: async (g, _a, ctx) => (await ctx.loaders.groupConversation.load(g.id))!,
    members: (g, args, ctx) =>
      keysetPage(
        args,
        INSTANT_USER,
        (key, limit) => listMembers(ctx.deps.db, g.id, instantKey(key), limit),
        (m) => [m.joinedAt, m.userId],
      ),
    pendingTransfer: (g, _a, ctx) => ctx.loaders.pendingTransfer.load(g.id),
  },
  GroupMember: {
    user: (m) => ({ id: m.userId }),
  },
  OwnershipTransfer: {
    from: (t) => ({ id: t.fromUserId }),
    to: (t) => ({ id: t.toUserId }),
  },
  Conversation: {
    group: (c, _a, ctx) => (c.groupId ? ctx.loaders.group.load(c.groupId) : null),
  },
};
