import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { graphqlError, payload } from '../graphql/errors.js';
import { INSTANT_UUID, instantKey, keysetPage } from '../graphql/pagination.js';
import { runSweep } from '../jobs/sweep.js';
import { requireId } from '../shared/ids.js';
import { ok, refuse } from '../shared/result.js';
import {
  holdsCovering,
  listHolds,
  placeLegalHold,
  policyOf,
  releaseLegalHold,
  setRetentionPolicy,
  starMessage,
} from './policies.service.js';
import { retentionStatus } from './retention.service.js';

export const retentionResolvers: Resolvers = {
  Query: {
    retentionStatus: async (_p, { conversationId }, ctx) => {
      const r = await retentionStatus(ctx.deps, requireViewer(ctx), conversationId);
      if (!r.ok) throw graphqlError(r.error.code, r.error.message);
      return r.value;
    },
    retentionPolicy: async (_p, { conversationId }, ctx) => {
      const viewer = requireViewer(ctx);
      if (conversationId != null) {
        requireId('uuid', conversationId);
        if (!(await ctx.loaders.conversation.load(conversationId)))
          throw graphqlError('NOT_FOUND', 'No such conversation.');
      }
      return policyOf(ctx.deps.db, viewer.userId, conversationId ?? null);
    },
    legalHolds: (_p, args, ctx) => {
      if (!requireViewer(ctx).operator) throw graphqlError('FORBIDDEN', 'Only operators list legal holds.');
      return keysetPage(
        args,
        INSTANT_UUID,
        (key, limit) => listHolds(ctx.deps.db, instantKey(key), limit),
        (h) => [h.placedAt, h.id],
      );
    },
  },
  Mutation: {
    runRetentionSweep: async (_p, _a, ctx) => {
      if (!requireViewer(ctx).operator)
        return payload(refuse('FORBIDDEN', 'Only operators may run the sweep.'));
      return payload(ok({ run: await runSweep(ctx.deps) }));
    },
    setRetentionPolicy: async (_p, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const r = await setRetentionPolicy(ctx.deps, viewer, input);
      if (!r.ok || r.value.policy.conversationId === null) return payload(r);
      const status = await retentionStatus(ctx.deps, viewer, r.value.policy.conversationId);
      return payload(ok({ ...r.value, status: status.ok ? status.value : null }));
    },
    starMessage: async (_p, { input }, ctx) =>
      payload(await starMessage(ctx.deps, requireViewer(ctx), input)),
    placeLegalHold: async (_p, { input }, ctx) =>
      payload(await placeLegalHold(ctx.deps, requireViewer(ctx), input)),
    releaseLegalHold: async (_p, { input }, ctx) =>
      payload(await releaseLegalHold(ctx.deps, requireViewer(ctx), input)),
  },
  RetentionStatus: {
    period: async (s, _a, ctx) =>
      (await ctx.loaders.viewerRetention.load(s.conversationId))?.period ?? 'FOREVER',
    nextExpiryAt: async (s, _a, ctx) =>
      s.visibleMessages === 0
        ? null
        : ((await ctx.loaders.viewerRetention.load(s.conversationId))?.nextExpiryAt ?? null),
    // T3: holds are for operators only; everyone else gets null, whatever holds exist.
    holds: (s, _a, ctx) => (ctx.viewer?.operator ? holdsCovering(ctx.deps.db, s.conversationId) : null),
  },
  LegalHold: {
    from: (h) => h.fromAt,
    to: (h) => h.toAt,
    active: (h) => h.releasedAt === null,
  },
};
