// SPEC G7 (as amended) and G9 as pure decisions: when a dissolution needs a one-time verification
// code, and what makes a code good. No I/O: the service reads the counts and the stored code.
import { type Refusal, refuse } from '../shared/result.js';

const MINUTE = 60 * 1000;
/** A code is good for 10 minutes. */
export const CODE_TTL_MS = 10 * MINUTE;
/** A new code at most once a minute per user. */
export const CODE_INTERVAL_MS = MINUTE;
/** Wrong tries after which a code is void. */
export const MAX_TRIES = 5;
/** G7: dissolutions already made in the last 24 hours from which the next needs a code. */
export const DAILY_FREE = 3;
export const DAY_MS = 24 * 60 * MINUTE;

/** Why a dissolution needs a code (G7); empty: it does not. */
export type StepUpReason = 'FOURTH_IN_A_DAY' | 'NEW_DEVICE' | 'EDUCATION';

/**
 * G7: the reasons a dissolution needs a code — the owner already dissolved 3 groups in the last
 * 24 hours; the request comes from a device the owner never dissolved a group from (a token
 * without a device id is always new); the group is EDUCATION (the code and the guardian, G9).
 */
export function stepUpReasons(f: {
  kind: string;
  dissolutionsLastDay: number;
  deviceId: string | undefined;
  knownDevice: boolean;
}): StepUpReason[] {
  const reasons: StepUpReason[] = [];
  if (f.dissolutionsLastDay >= DAILY_FREE) reasons.push('FOURTH_IN_A_DAY');
  if (f.deviceId === undefined || !f.knownDevice) reasons.push('NEW_DEVICE');
  if (f.kind === 'EDUCATION') reasons.push('EDUCATION');
  return reasons;
}

/** A stored code, as the check needs it. */
export interface StoredCode {
  codeHash: string;
  expiresAt: Date;
  usedAt: Date | null;
  tries: number;
}

export const STEP_UP_REQUIRED = (reasons: StepUpReason[]): Refusal =>
  refuse(
    'STEP_UP_REQUIRED',
    `This dissolution needs a verification code (${reasons.join(', ')}): call requestVerificationCode, then pass verificationCode.`,
  );

const INVALID = refuse(
  'INVALID_CODE',
  'This verification code is wrong, used or expired: request a new one.',
);

/**
 * G7: is `hash` (the keyed hash of the code given) the stored code, unused, unexpired, with tries
 * left? `wrong` says whether the attempt counts as a wrong try (only for a live code).
 */
export function checkCode(
  stored: StoredCode | undefined,
  hash: string,
  now: Date,
): { ok: true } | (Refusal & { wrong: boolean }) {
  if (
    !stored ||
    stored.usedAt !== null ||
    stored.tries >= MAX_TRIES ||
    stored.expiresAt.getTime() <= now.getTime()
  ) {
    return { ...INVALID, wrong: false };
  }
  if (stored.codeHash !== hash) return { ...INVALID, wrong: true };
  return { ok: true };
}
