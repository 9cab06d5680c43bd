import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const toIso = (v: unknown): string => {
  const d = v instanceof Date ? v : new Date(String(v));
  if (Number.isNaN(d.getTime())) throw new GraphQLError('Invalid DateTime value.');
  return d.toISOString();
};

const parseIso = (v: unknown): string => {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new GraphQLError('DateTime must be an ISO-8601 string.', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return new Date(v).toISOString();
};

/** ISO-8601 UTC instants. */
export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: toIso,
  parseValue: parseIso,
  parseLiteral: (ast) => parseIso(ast.kind === Kind.STRING ? ast.value : undefined),
});
