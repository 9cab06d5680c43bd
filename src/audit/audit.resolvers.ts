import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { graphqlError } from '../graphql/errors.js';
import { keysetPage, SEQ } from '../graphql/pagination.js';
import type { Result } from '../shared/result.js';
import { canonicalJson } from './audit.chain.js';
import { auditTrail, signedAuditHead, verifyAuditChains } from './audit.service.js';

/** A query's refusal as a top-level error (NOT_FOUND, BAD_USER_INPUT). */
function orThrow<T>(r: Result<T>): T {
  if (!r.ok) throw graphqlError(r.error.code, r.error.message);
  return r.value;
}

export const auditResolvers: Resolvers = {
  Query: {
    auditTrail: (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      return keysetPage(
        args,
        SEQ,
        async (key, limit) =>
          orThrow(await auditTrail(ctx.deps.db, viewer, args.subjectId, key ? key[0] : 0, limit)),
        (e) => [e.seq],
      );
    },
    verifyAuditChain: async (_p, { subjectId }, ctx) =>
      orThrow(await verifyAuditChains(ctx.deps.db, requireViewer(ctx), subjectId)),
    auditHead: async (_p, { subjectId }, ctx) =>
      orThrow(await signedAuditHead(ctx.deps, requireViewer(ctx), subjectId)),
  },
  AuditEntry: {
    data: (e) => canonicalJson(e.data),
  },
};
