import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { graphqlError, payload } from '../graphql/errors.js';
import { stateAt } from './dissolution.rules.js';
import { cancelDissolution, dissolutionPreview, dissolveGroup, restoreGroup } from './dissolution.service.js';

export const dissolutionResolvers: Resolvers = {
  Query: {
    dissolutionPreview: async (_p, { groupId, keepHistory }, ctx) => {
      const preview = await dissolutionPreview(ctx.deps, requireViewer(ctx), groupId, keepHistory);
      if (!preview) throw graphqlError('NOT_FOUND', 'No such group.');
      return preview;
    },
  },
  Mutation: {
    dissolveGroup: async (_p, { input }, ctx) =>
      payload(await dissolveGroup(ctx.deps, requireViewer(ctx), input)),
    cancelDissolution: async (_p, { input }, ctx) =>
      payload(await cancelDissolution(ctx.deps, requireViewer(ctx), input)),
    restoreGroup: async (_p, { input }, ctx) =>
      payload(await restoreGroup(ctx.deps, requireViewer(ctx), input)),
  },
  Group: {
    dissolution: (g, _a, ctx) => ctx.loaders.dissolution.load(g.id),
  },
  Dissolution: {
    // A Dissolution reaches only members of its group (Group.dissolution, the owner's payloads).
    group: async (d, _a, ctx) => (await ctx.loaders.group.load(d.groupId))!,
    status: (d, _a, ctx) => stateAt(d, ctx.deps.clock.now()),
    requestedBy: (d) => ({ id: d.requestedBy }),
    finalizedAt: (d, _a, ctx) => (stateAt(d, ctx.deps.clock.now()) === 'FINALIZED' ? d.undoUntil : null),
    paymentsVisibleUntil: (d) => d.paymentsLeaveAt,
    endedAt: (d) => d.settledAt,
  },
  DissolutionPreview: {
    paymentsVisibleUntil: (p) => p.paymentsLeaveAt,
  },
};
