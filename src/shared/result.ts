// The one shape of an expected refusal (a rule of SPEC.md), shared by every area's rules and
// services: returned, never thrown; a mutation's payload carries it in `userErrors`.
import type { ErrorCode } from '../generated/graphql.js';

export type { ErrorCode };

/** An expected refusal: what the client reads in `userErrors`. */
export interface UserError {
  code: ErrorCode;
  message: string;
  /** The input path it concerns (`['input', 'userId']`), when one. */
  field?: string[];
  /** With RATE_LIMITED: seconds until the limit lets the user through again. */
  retryAfterSeconds?: number;
}

/** A refusal that left everything unchanged. */
export type Refusal = { ok: false; error: UserError };

/** A use case's answer: the value, or the refusal that left everything unchanged. */
export type Result<T> = { ok: true; value: T } | Refusal;

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

/** A refusal with `code`, `message` and, when given, the input `field` it concerns. */
export const refuse = (code: ErrorCode, message: string, field?: string[]): Refusal => ({
  ok: false,
  error: { code, message, ...(field ? { field } : {}) },
});

/** The same refusal, pointed at the input `field` it concerns (a rule does not know input names). */
export const onField = (r: Refusal, field: string[]): Refusal => ({
  ok: false,
  error: { ...r.error, field },
});

/** A mutation refused by the per-user rate limit: nothing ran. */
export const rateLimited = (retryAfterSeconds: number): Refusal => ({
  ok: false,
  error: {
    code: 'RATE_LIMITED',
    message: `Too many changes; try again in ${retryAfterSeconds} s.`,
    retryAfterSeconds,
  },
});
