import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { graphqlError, payload } from '../graphql/errors.js';
import { INSTANT_UUID, instantKey, keysetPage } from '../graphql/pagination.js';
import { stateAt } from './dissolution.rules.js';
import {
  cancelDissolution,
  confirmDissolution,
  dissolutionPreview,
  dissolveGroup,
  restoreGroup,
} from './dissolution.service.js';
import { dissolveGroups, findReviewFor, listPendingReviews, reviewDissolution } from './review.service.js';
import { requestVerificationCode } from './stepup.service.js';

export const dissolutionResolvers: Resolvers = {
  Query: {
    dissolutionPreview: async (_p, { groupId, keepHistory }, ctx) => {
      const preview = await dissolutionPreview(ctx.deps, requireViewer(ctx), groupId, keepHistory);
      if (!preview) throw graphqlError('NOT_FOUND', 'No such group.');
      return preview;
    },
    reviewQueue: (_p, args, ctx) => {
      if (!requireViewer(ctx).operator)
        throw graphqlError('FORBIDDEN', 'Only operators review batch dissolutions.');
      return keysetPage(
        args,
        INSTANT_UUID,
        (key, limit) => listPendingReviews(ctx.deps.db, instantKey(key), limit),
        (r) => [r.requestedAt, r.id],
      );
    },
    dissolutionReview: (_p, { id }, ctx) => findReviewFor(ctx.deps.db, requireViewer(ctx), id),
  },
  Mutation: {
    dissolveGroup: async (_p, { input }, ctx) =>
      payload(await dissolveGroup(ctx.deps, requireViewer(ctx), input)),
    cancelDissolution: async (_p, { input }, ctx) =>
      payload(await cancelDissolution(ctx.deps, requireViewer(ctx), input)),
    restoreGroup: async (_p, { input }, ctx) =>
      payload(await restoreGroup(ctx.deps, requireViewer(ctx), input)),
    requestVerificationCode: async (_p, { input }, ctx) =>
      payload(await requestVerificationCode(ctx.deps, requireViewer(ctx), input)),
    confirmDissolution: async (_p, { input }, ctx) =>
      payload(await confirmDissolution(ctx.deps, requireViewer(ctx), input)),
    dissolveGroups: async (_p, { input }, ctx) =>
      payload(await dissolveGroups(ctx.deps, requireViewer(ctx), input)),
    reviewDissolution: async (_p, { input }, ctx) =>
      payload(await reviewDissolution(ctx.deps, requireViewer(ctx), input)),
  },
  Group: {
    dissolution: (g, _a, ctx) => ctx.loaders.dissolution.load(g.id),
  },
  Dissolution: {
    // A Dissolution reaches only members of its group (Group.dissolution, the owner's payloads).
    group: (d, _a, ctx) => ctx.loaders.group.load(d.groupId),
    status: (d, _a, ctx) => stateAt(d, ctx.deps.clock.now()),
    requestedBy: (d) => ({ id: d.requestedBy }),
    finalizedAt: (d, _a, ctx) => (stateAt(d, ctx.deps.clock.now()) === 'FINALIZED' ? d.undoUntil : null),
    paymentsVisibleUntil: (d) => d.paymentsLeaveAt,
    endedAt: (d) => d.settledAt,
  },
  DissolutionPreview: {
    paymentsVisibleUntil: (p) => p.paymentsLeaveAt,
    stepUpRequired: (p) => p.stepUpReasons.length > 0,
  },
  DissolutionReview: {
    requestedBy: (r) => ({ id: r.requestedBy }),
  },
};
