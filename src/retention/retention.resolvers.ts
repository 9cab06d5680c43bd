import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { graphqlError, payload } from '../graphql/errors.js';
import { runSweep } from '../jobs/sweep.js';
import { ok, refuse } from '../shared/result.js';
import { DEFAULT_PERIOD } from './retention.rules.js';
import { retentionStatus } from './retention.service.js';

export const retentionResolvers: Resolvers = {
  Query: {
    retentionStatus: async (_p, { conversationId }, ctx) => {
      const r = await retentionStatus(ctx.deps, requireViewer(ctx), conversationId);
      if (!r.ok) throw graphqlError(r.error.code, r.error.message);
      return r.value;
    },
  },
  Mutation: {
    runRetentionSweep: async (_p, _a, ctx) => {
      if (!requireViewer(ctx).operator)
        return payload(refuse('FORBIDDEN', 'Only operators may run the sweep.'));
      return payload(ok({ run: await runSweep(ctx.deps) }));
    },
  },
  RetentionStatus: {
    period: () => DEFAULT_PERIOD,
    nextExpiryAt: () => null,
    // T3: holds are for operators only; placing holds is not built yet, so an operator sees none.
    holds: (_s, _a, ctx) => (ctx.viewer?.operator ? [] : null),
  },
};
