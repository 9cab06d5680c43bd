import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  Lexer,
  NoSchemaIntrospectionCustomRule,
  Source,
  TokenKind,
  type TypeNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import type { OperationLimits } from '../config.js';
import { DEFAULT_PAGE } from './pagination.js';

/**
 * The front door's operation limits, one set for HTTP (Apollo) and graphql-ws alike. Cheapest
 * first: the document's length and token count before it is parsed (`admitSource`), then the
 * shape rules during validation (`limitRules`: graphql-armor's depth, alias and directive rules,
 * which count each fragment once however often it is spread), then the cost with the request's
 * variables (`checkCost`: graphql-query-complexity, which stops after `maxCost + maxTokens`
 * selections, so a fan-out of fragment spreads is refused after a bounded walk). Every refusal is a
 * GRAPHQL_VALIDATION_FAILED error naming the limit; none runs a resolver.
 */

/** A refusal of the document: GRAPHQL_VALIDATION_FAILED, HTTP 400. */
export function limitError(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
  });
}

/**
 * Refuses a document that is longer than `maxQueryLength` characters or has more than
 * `maxTokens` tokens, before it is parsed (graphql-js's lexer stops at the first token past the
 * limit). Returns the refusal, or undefined when the source may be parsed. A lexical error is
 * left to the parser, which reports it with its location.
 */
export function admitSource(query: string, limits: OperationLimits): GraphQLError | undefined {
  if (query.length > limits.maxQueryLength)
    return limitError(`The operation is longer than ${limits.maxQueryLength} characters.`);
  const lexer = new Lexer(new Source(query));
  try {
    for (let n = 0; lexer.advance().kind !== TokenKind.EOF; n++) {
      if (n >= limits.maxTokens) return limitError(`The operation has more than ${limits.maxTokens} tokens.`);
    }
  } catch {
    // A syntax error: the parser reports it (GRAPHQL_PARSE_FAILED).
  }
  return undefined;
}

/** Reports an armor rule's refusal as a validation error instead of throwing it. */
const report = (context: ValidationContext | null, error: GraphQLError | null) => {
  if (context && error) context.reportError(limitError(error.message.replace(/^Syntax Error: /, '')));
};

/**
 * Validation rules for the operation's shape (added to graphql-js's own): depth (fields only,
 * fragments flattened, `__schema` exempt so GraphiQL's docs load), aliases, directives, and — when
 * introspection is off — no `__schema`/`__type`.
 */
export function limitRules(limits: OperationLimits, introspection: boolean): ValidationRule[] {
  const armor = { propagateOnRejection: false, onReject: [report], exposeLimits: true };
  return [
    maxDepthRule({ ...armor, n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: true }),
    maxAliasesRule({ ...armor, n: limits.maxAliases }),
    maxDirectivesRule({ ...armor, n: limits.maxDirectives }),
    ...(introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
}

/**
 * A field that takes `first` is a connection: what it could return is its selection times
 * `first` (the server's default page when absent). Every other field costs one plus its children.
 */
const connectionEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (!field.args.some((a) => a.name === 'first')) return undefined;
  const first =
    typeof args.first === 'number' && args.first > 0 ? args.first : args.first === 0 ? 0 : DEFAULT_PAGE;
  return 1 + first * childComplexity;
};

const namedType = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type));

/**
 * What an operation's cost depends on besides its document: the operation picked and the values of
 * its Int and Boolean variables (page sizes, `@skip`/`@include`); ids and inputs never change it.
 * Undefined when the document names no such operation (let getComplexity report it).
 */
function costInputs(
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
  limits: OperationLimits,
): string | undefined {
  const ops = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op =
    operationName === undefined
      ? ops.length === 1
        ? ops[0]
        : undefined
      : ops.find((o) => o.name?.value === operationName);
  if (!op) return undefined;
  const values = (op.variableDefinitions ?? [])
    .filter((v) => ['Int', 'Boolean'].includes(namedType(v.type)))
    .map((v) => variables?.[v.variable.name.value] ?? null);
  return JSON.stringify([operationName ?? null, limits.maxCost, limits.maxTokens, values]);
}

/**
 * Operations found within the cost limit, by parsed document (Apollo hands the same DocumentNode
 * for the same query text) and `costInputs`: a client repeating one operation with other ids is
 * priced once. Only acceptances are kept (a refusal is recomputed); bounded per document.
 */
const accepted = new WeakMap<DocumentNode, Set<string>>();
const ACCEPTED_PER_DOCUMENT = 64;

/**
 * The operation's cost with its variables: refused (GRAPHQL_VALIDATION_FAILED) above `maxCost`
 * or past `maxCost + maxTokens` selections; a variable that does not fit its type is BAD_USER_INPUT
 * (here, or — for an operation already priced with the same page sizes — by graphql-js's own
 * coercion when it executes, with the same code).
 */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
  limits: OperationLimits,
): GraphQLError | undefined {
  const key = costInputs(document, variables, operationName, limits);
  const known = accepted.get(document);
  if (key !== undefined && known?.has(key)) return undefined;
  const refusal = priceOperation(schema, document, variables, operationName, limits);
  if (!refusal && key !== undefined) {
    const set = known ?? new Set<string>();
    if (set.size >= ACCEPTED_PER_DOCUMENT) set.clear();
    set.add(key);
    accepted.set(document, set);
  }
  return refusal;
}

function priceOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
  limits: OperationLimits,
): GraphQLError | undefined {
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      ...(operationName ? { operationName } : {}),
      // Every field costs at least one and a document has fewer spreads than tokens, so a walk
      // longer than this is (nearly always) over the cost limit: stop there.
      maxQueryNodes: limits.maxCost + limits.maxTokens,
      estimators: [connectionEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (err) {
    if (err instanceof GraphQLError && /maximum allowed number of nodes/.test(err.message))
      return limitError(
        `The operation is too large: more than ${limits.maxCost + limits.maxTokens} selections (cost limit ${limits.maxCost}).`,
      );
    // A variable of the wrong type: graphql-js's own coercion message, the client's mistake.
    if (err instanceof GraphQLError)
      return new GraphQLError(err.message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
    throw err;
  }
  if (cost > limits.maxCost)
    return limitError(`The operation's cost ${cost} exceeds the limit of ${limits.maxCost}.`);
  return undefined;
}
