import { GraphQLError } from 'graphql';
import type { ErrorCode } from '../generated/graphql.js';
import type { Result, UserError } from '../shared/result.js';

export type { ErrorCode };

/** The same refusal as a top-level error: HTTP 429 with `Retry-After`. */
export const rateLimitedError = (retryAfterSeconds: number): GraphQLError =>
  new GraphQLError(`Too many requests; try again in ${retryAfterSeconds} s.`, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds,
      http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
    },
  });

/**
 * The mutation payload convention of API.md: the result's fields and `userErrors: []`, or only
 * `userErrors: [error]`.
 */
export function payload<T extends object>(result: Result<T>): T & { userErrors: UserError[] } {
  if (result.ok) return { ...result.value, userErrors: [] };
  return { userErrors: [result.error] } as unknown as T & { userErrors: UserError[] };
}

/** A top-level GraphQL error with a code (UNAUTHENTICATED, BAD_USER_INPUT, NOT_FOUND, CURSOR_EXPIRED…). */
export function graphqlError(code: ErrorCode, message: string, httpStatus?: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code, ...(httpStatus ? { http: { status: httpStatus } } : {}) },
  });
}

/** Thrown when an operation needs a token and has none. */
export const unauthenticated = (): GraphQLError =>
  graphqlError('UNAUTHENTICATED', 'A valid bearer token is required.', 401);

/** Codes that are the client's own doing and may carry their message; anything else is masked. */
const EXPOSED_CODES = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CURSOR_EXPIRED',
  'RATE_LIMITED',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export interface FormattedError {
  message: string;
  locations?: readonly { line: number; column: number }[];
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/** True when `error` should reach the client as it is (an expected code, or graphql-js's own input errors). */
export function isExposed(formatted: FormattedError, original: unknown): boolean {
  const code = formatted.extensions?.code;
  if (typeof code === 'string') return EXPOSED_CODES.has(code);
  // graphql-js's own request errors (parse, validation, variable coercion) have no cause of ours
  // behind them and no path; an uncoded error raised while executing a field (it has a path: an
  // abstract type resolved to an unknown type, a null in a non-null field) is a fault.
  return (
    original instanceof GraphQLError &&
    formatted.path === undefined &&
    (original.originalError === undefined || original.originalError instanceof GraphQLError)
  );
}

/**
 * Shapes one error for the client, over HTTP and WebSocket alike: expected codes and graphql-js's
 * own input errors pass (the latter coded `fallbackCode`); anything else becomes
 * INTERNAL_SERVER_ERROR with the message hidden and the request id the log line carries.
 */
export function maskError(
  formatted: FormattedError,
  original: unknown,
  requestId: string,
  fallbackCode = 'BAD_USER_INPUT',
): FormattedError {
  if (isExposed(formatted, original)) {
    const { http: _http, stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: { code: fallbackCode, ...extensions } };
  }
  return {
    message: 'Internal server error',
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
  };
}
