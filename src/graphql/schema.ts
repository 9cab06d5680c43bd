import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { contactResolvers } from '../contacts/contacts.resolvers.js';
import type { Resolvers } from '../generated/graphql.js';
import { messageResolvers } from '../messages/messages.resolvers.js';
import { noticeResolvers } from '../notices/notices.resolvers.js';
import { retentionResolvers } from '../retention/retention.resolvers.js';
import { baseResolvers } from './base.resolvers.js';

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
];

/** The executable schema: every area's SDL and resolvers. */
export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: areas as never });
}
