import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { INSTANT_UUID, instantKey, keysetPage } from '../graphql/pagination.js';
import { listPaymentsOf } from './payments.store.js';

export const paymentResolvers: Resolvers = {
  Query: {
    /** The viewer's ledger, newest first; a crafted cursor is BAD_USER_INPUT (keysetPage). */
    payments: (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      return keysetPage(
        args,
        INSTANT_UUID,
        (key, limit) =>
          listPaymentsOf(ctx.deps.db, viewer.userId, instantKey(key), limit, ctx.deps.clock.now()),
        (p) => [p.createdAt, p.id],
      );
    },
  },
  Payment: {
    from: (p) => ({ id: p.payerId }),
    to: (p) => ({ id: p.payeeId }),
  },
};
