import { isAdjustable } from '../clock.js';
import type { Resolvers } from '../generated/graphql.js';
import { ok, refuse } from '../shared/result.js';
import { requireViewer } from './context.js';
import { payload } from './errors.js';
import { DateTime } from './scalars.js';

const MAX_ADVANCE_SECONDS = 10 * 365 * 24 * 3600; // 10 years

export const baseResolvers: Resolvers = {
  DateTime,
  Query: {
    me: (_p, _a, ctx) => ({ id: requireViewer(ctx).userId }),
    now: (_p, _a, ctx) => ctx.deps.clock.now(),
  },
  User: {
    // Rows exist for every id we hand out (users are created on first sight); the id is a fallback.
    name: async (u, _a, ctx) => (await ctx.loaders.user.load(u.id))?.name ?? u.id,
  },
  Mutation: {
    advanceClock: (_p, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const { clock, config } = ctx.deps;
      if (!viewer.operator) return payload(refuse('FORBIDDEN', 'Only operators may move the clock.'));
      if (!config.timeTravel || !isAdjustable(clock)) {
        return payload(refuse('FORBIDDEN', 'Time travel is off; start the server with TIME_TRAVEL=1.'));
      }
      if (!Number.isInteger(input.seconds) || input.seconds < 1 || input.seconds > MAX_ADVANCE_SECONDS) {
        return payload(
          refuse('BAD_USER_INPUT', `seconds must be between 1 and ${MAX_ADVANCE_SECONDS}.`, [
            'input',
            'seconds',
          ]),
        );
      }
      ctx.deps.logger.warn({ seconds: input.seconds, by: viewer.userId }, 'clock advanced');
      return payload(ok({ now: clock.advance(input.seconds) }));
    },
  },
};
