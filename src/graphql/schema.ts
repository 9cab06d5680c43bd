import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { auditResolvers } from '../audit/audit.resolvers.js';
import { contactResolvers } from '../contacts/contacts.resolvers.js';
import { exportResolvers } from '../export/export.resolvers.js';
import { fileResolvers } from '../files/files.resolvers.js';
import type { Resolvers } from '../generated/graphql.js';
import { dissolutionResolvers } from '../groups/dissolution.resolvers.js';
import { groupResolvers } from '../groups/groups.resolvers.js';
import { messageResolvers } from '../messages/messages.resolvers.js';
import { noticeResolvers } from '../notices/notices.resolvers.js';
import { paymentResolvers } from '../payments/payments.resolvers.js';
import { retentionResolvers } from '../retention/retention.resolvers.js';
import { rateLimited } from '../shared/result.js';
import { baseResolvers } from './base.resolvers.js';
import type { Context } from './context.js';
import { payload } from './errors.js';

export const SCHEMA_DIR = fileURLToPath(new URL('../../schema', import.meta.url));

/** The SDL of every area, `base.graphql` first. */
export function loadTypeDefs(): string[] {
  const files = readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort((a, b) => (a === 'base.graphql' ? -1 : b === 'base.graphql' ? 1 : a.localeCompare(b)));
  return files.map((f) => readFileSync(join(SCHEMA_DIR, f), 'utf8'));
}

const areas: Resolvers[] = [
  baseResolvers,
  noticeResolvers,
  contactResolvers,
  messageResolvers,
  retentionResolvers,
  groupResolvers,
  dissolutionResolvers,
  fileResolvers,
  paymentResolvers,
  auditResolvers,
  exportResolvers,
];

type Resolver = (parent: unknown, args: unknown, ctx: Context, info: unknown) => unknown;

/**
 * Every root mutation field first takes one point of the signed-in user's rate limit; over it,
 * the field answers `{ userErrors: [RATE_LIMITED] }` (every payload has `userErrors`) and nothing
 * runs. Fields asked without a token go on to refuse with UNAUTHENTICATED as before (the
 * per-address limit counted the request already).
 */
function limitMutations(area: Resolvers): Resolvers {
  if (!area.Mutation) return area;
  const guarded = Object.fromEntries(
    Object.entries(area.Mutation as Record<string, Resolver>).map(([name, resolve]) => [
      name,
      async (parent: unknown, args: unknown, ctx: Context, info: unknown) => {
        if (ctx.viewer) {
          const wait = await ctx.deps.rateLimiter.mutation(ctx.viewer.userId);
          if (wait !== undefined) {
            ctx.deps.metrics.rateLimited('mutation');
            return payload(rateLimited(wait));
          }
        }
        return resolve(parent, args, ctx, info);
      },
    ]),
  );
  return { ...area, Mutation: guarded } as Resolvers;
}

/** The executable schema: every area's SDL and resolvers. */
export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: areas.map(limitMutations) as never });
}
