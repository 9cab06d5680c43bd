// SPEC §2 G3–G6 as pure decisions over stored instants: when a dissolution takes effect, until when
// it can be undone, when the group's payments leave it, and what state it is in at any `now`. No
// I/O. Reads compute the state from here, so an answer is right before the sweeper catches up; the
// sweeper only makes each transition physical (and tells the members), once.
import { type Refusal, refuse } from '../shared/result.js';

/** What the stored row says; the effective state at an instant is `stateAt`. */
export type DissolutionStatus =
  | 'PENDING_CONFIRMATION'
  | 'SCHEDULED'
  | 'EFFECTIVE'
  | 'CANCELLED'
  | 'RESTORED'
  | 'FINALIZED';

const HOURS_72 = 72 * 60 * 60 * 1000;
/** G9: how long the guardian has to answer before the dissolution lapses. */
export const CONFIRM_WINDOW_MS = HOURS_72;

const HOUR = 60 * 60 * 1000;
/** G5: more members than this → announced first, effective 72 hours later. */
export const LARGE_GROUP = 500;
/** G5: the notice period of a large group's dissolution. */
export const NOTICE_PERIOD_MS = 72 * HOUR;
/** G6: the undo window after a dissolution takes effect. */
export const UNDO_WINDOW_MS = 48 * HOUR;
/** G3: payment records stay visible in the group this long after the dissolution takes effect. */
export const PAYMENTS_VISIBLE_MS = 72 * HOUR;

/** The instants and outcome of one dissolution (a stored row, or one planned by a preview). */
export interface DissolutionFacts {
  status: DissolutionStatus;
  keepHistory: boolean;
  requestedAt: Date;
  effectiveAt: Date;
  undoUntil: Date;
  paymentsLeaveAt: Date;
  /** G9: while PENDING_CONFIRMATION, until when the guardian may answer. */
  confirmBy?: Date | null;
}

/** G3/G5/G6: what dissolving a group of `memberCount` members at `now` does, and when. */
export function planDissolution(
  memberCount: number,
  keepHistory: boolean,
  now: Date,
): DissolutionFacts & { status: 'SCHEDULED' | 'EFFECTIVE' } {
  const large = memberCount > LARGE_GROUP;
  const effectiveAt = new Date(now.getTime() + (large ? NOTICE_PERIOD_MS : 0));
  return {
    status: large ? 'SCHEDULED' : 'EFFECTIVE',
    keepHistory,
    requestedAt: now,
    effectiveAt,
    undoUntil: new Date(effectiveAt.getTime() + UNDO_WINDOW_MS),
    paymentsLeaveAt: new Date(effectiveAt.getTime() + PAYMENTS_VISIBLE_MS),
  };
}

const reached = (at: Date, now: Date) => at.getTime() <= now.getTime();

/**
 * The state at `now`: the stored instants decide (SCHEDULED until `effectiveAt`, EFFECTIVE until
 * `undoUntil`, FINALIZED from then on), and a recorded step is never undone by the clock.
 */
export function stateAt(d: DissolutionFacts, now: Date): DissolutionStatus {
  // A step the sweeper made stays made (another instance's clock may be a little behind).
  if (d.status === 'CANCELLED' || d.status === 'RESTORED' || d.status === 'FINALIZED') return d.status;
  // G9: waiting for the guardian; without an answer by `confirmBy` it lapsed.
  if (d.status === 'PENDING_CONFIRMATION') return lapsedAt(d, now) ? 'CANCELLED' : 'PENDING_CONFIRMATION';
  if (reached(d.undoUntil, now)) return 'FINALIZED';
  if (reached(d.effectiveAt, now) || d.status === 'EFFECTIVE') return 'EFFECTIVE';
  return 'SCHEDULED';
}

/** G9: the guardian did not answer in time. */
export const lapsedAt = (d: DissolutionFacts, now: Date): boolean =>
  d.status === 'PENDING_CONFIRMATION' && !!d.confirmBy && reached(d.confirmBy, now);

/** Under way: confirmed (or needing no confirmation) and not ended — its instants are real. */
export const UNDER_WAY: readonly DissolutionStatus[] = ['SCHEDULED', 'EFFECTIVE', 'FINALIZED'];
const underWay = (d: DissolutionFacts): boolean => UNDER_WAY.includes(d.status);

/** In force: not cancelled, not restored (a group has at most one such dissolution). */
export const inForce = (d: { status: DissolutionStatus }): boolean =>
  d.status !== 'CANCELLED' && d.status !== 'RESTORED';

/** G3: the group is DISSOLVED — read-only, no new messages or members — from `effectiveAt` on. */
export function dissolvedAt(d: DissolutionFacts | null | undefined, now: Date): boolean {
  if (!d) return false;
  const s = stateAt(d, now);
  return s === 'EFFECTIVE' || s === 'FINALIZED';
}

/** G3: the group's files are gone from `undoUntil` on (nothing is destroyed before, G6). */
export const filesGoneAt = (d: DissolutionFacts | null | undefined, now: Date): boolean =>
  !!d && underWay(d) && reached(d.undoUntil, now);

/** G3: the group's payment records have left it (they stay in the two ledgers for good). */
export const paymentsGoneAt = (d: DissolutionFacts | null | undefined, now: Date): boolean =>
  !!d && underWay(d) && reached(d.paymentsLeaveAt, now);

/** G3: the messages are purged at `undoUntil` when history is not kept; null when kept. */
export const purgeAtOf = (d: DissolutionFacts): Date | null => (d.keepHistory ? null : d.undoUntil);

export const GROUP_DISSOLVED: Refusal = refuse(
  'GROUP_DISSOLVED',
  'This group is dissolved: it is read-only (the owner can restore it during the undo window).',
);

/**
 * G3/G4: may a group be dissolved now (the owner asks; permissions are checked before)? A request
 * whose guardian let it lapse (G9) is over from `confirmBy` on, whether or not the sweeper has
 * recorded it yet.
 */
export function checkDissolve(
  group: { dissolutionProtection: boolean },
  current: DissolutionFacts | null,
  now: Date,
): { ok: true } | Refusal {
  if (current && inForce(current) && !lapsedAt(current, now)) {
    return refuse('GROUP_DISSOLVED', 'This group is dissolved or being dissolved already.');
  }
  if (group.dissolutionProtection) {
    return refuse(
      'GROUP_PROTECTED',
      'Dissolution protection is on (G4): the owner turns it off first (setDissolutionProtection).',
    );
  }
  return { ok: true };
}

/** G5: a scheduled dissolution is cancelled before it takes effect; after, it is too late. */
export function checkCancel(d: DissolutionFacts | null, now: Date): { ok: true } | Refusal {
  if (!d || !inForce(d) || lapsedAt(d, now))
    return refuse('BAD_USER_INPUT', 'This group is not being dissolved.');
  const s = stateAt(d, now);
  if (s !== 'SCHEDULED' && s !== 'PENDING_CONFIRMATION') {
    return refuse(
      'WINDOW_CLOSED',
      'The dissolution has taken effect: it can no longer be cancelled (restoreGroup undoes it within 48 hours).',
    );
  }
  return { ok: true };
}

/** G6: a dissolution in effect is undone before `undoUntil`; a scheduled one is cancelled instead. */
export function checkRestore(d: DissolutionFacts | null, now: Date): { ok: true } | Refusal {
  if (!d || !inForce(d)) return refuse('BAD_USER_INPUT', 'This group is not dissolved.');
  const s = stateAt(d, now);
  if (s === 'SCHEDULED') {
    return refuse(
      'BAD_USER_INPUT',
      'The dissolution has not taken effect yet: cancel it (cancelDissolution).',
    );
  }
  if (s === 'FINALIZED') {
    return refuse('WINDOW_CLOSED', 'The 48-hour undo window has ended: the dissolution is final.');
  }
  return { ok: true };
}

/** A timed step the sweeper makes physical, in this order. */
export type DueStep = 'LAPSED' | 'EFFECTIVE' | 'FINALIZED' | 'PAYMENTS_LEFT';

/** The steps of a stored dissolution that are due at `now` and not yet done, in order. */
export function dueSteps(d: DissolutionFacts & { paymentsLeftAt: Date | null }, now: Date): DueStep[] {
  if (!inForce(d)) return [];
  if (d.status === 'PENDING_CONFIRMATION') return lapsedAt(d, now) ? ['LAPSED'] : [];
  const steps: DueStep[] = [];
  if (d.status === 'SCHEDULED' && reached(d.effectiveAt, now)) steps.push('EFFECTIVE');
  if (d.status !== 'FINALIZED' && reached(d.undoUntil, now)) steps.push('FINALIZED');
  if (d.paymentsLeftAt === null && reached(d.paymentsLeaveAt, now)) steps.push('PAYMENTS_LEFT');
  return steps;
}

/** When the next timed step falls due (the sweeper's index key); null when none is left. */
export function nextDue(d: DissolutionFacts & { paymentsLeftAt: Date | null }): Date | null {
  if (!inForce(d)) return null;
  if (d.status === 'PENDING_CONFIRMATION') return d.confirmBy ?? null;
  if (d.status === 'SCHEDULED') return d.effectiveAt;
  if (d.status === 'EFFECTIVE') return d.undoUntil;
  return d.paymentsLeftAt === null ? d.paymentsLeaveAt : null;
}
