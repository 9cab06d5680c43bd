// SPEC §2 G1 and G2 as pure decisions: who may do what to whom in a group. No I/O. Every group
// mutation asks `permit` first and changes nothing when it refuses.
import { type Refusal, refuse } from '../shared/result.js';

export type GroupKind = 'STANDARD' | 'ENTERPRISE' | 'EDUCATION' | 'FINANCIAL';
export type GroupRole = 'OWNER' | 'ADMIN' | 'MEMBER';
export type TransferStatus = 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'CANCELLED' | 'LAPSED';

/** The largest group: members, owner included. Inviting past it is refused (BAD_USER_INPUT). */
export const MAX_GROUP_MEMBERS = 2_000;
/** The longest group name, in characters. */
export const MAX_GROUP_NAME = 100;

/** What a member may ask to do to a group (G1). Reading and sending are any member's. */
export type GroupAction =
  | 'READ'
  | 'SEND'
  | 'INVITE'
  | 'REMOVE'
  | 'LEAVE'
  | 'SET_ROLE'
  | 'TRANSFER'
  | 'SET_PROTECTION'
  | 'DISSOLVE';

/**
 * The actor's standing in the group: a role, or null for anyone who is not a member now (never
 * was, left, was removed — an operator too: operators have no group powers).
 */
export type Standing = GroupRole | null;

const NOT_FOUND = refuse('NOT_FOUND', 'No such group.');
const forbidden = (message: string): Refusal => refuse('FORBIDDEN', message);

/**
 * G1, the one permission table: may an actor of `actor` standing do `action` to a member of
 * `target` role (for the actions that have a target)? A non-member gets NOT_FOUND for everything,
 * so a group's existence is never told to someone who cannot see it; a refusal of a member is
 * FORBIDDEN. Without `target` it answers for the actor alone (may they do this to anyone?), which
 * the services ask before they look the target up; then again with the target's role.
 *
 * | action          | OWNER                        | ADMIN          | MEMBER |
 * |-----------------|------------------------------|----------------|--------|
 * | READ, SEND      | yes                          | yes            | yes    |
 * | INVITE          | yes                          | yes            | yes    |
 * | REMOVE (target) | ADMIN, MEMBER                | MEMBER         | no     |
 * | LEAVE           | no (transfer first, G2)      | yes            | yes    |
 * | SET_ROLE        | ADMIN, MEMBER targets        | no             | no     |
 * | TRANSFER        | to an ADMIN or MEMBER        | no             | no     |
 * | SET_PROTECTION  | yes                          | no             | no     |
 * | DISSOLVE        | yes (also cancel and restore) | no             | no     |
 *
 * While a group is DISSOLVED (G3) every action but READ is refused with GROUP_DISSOLVED by the
 * services (dissolution.rules.ts decides when that is); restoring is the owner's DISSOLVE.
 */
export function permit(actor: Standing, action: GroupAction, target?: GroupRole): { ok: true } | Refusal {
  if (actor === null) return NOT_FOUND;
  switch (action) {
    case 'READ':
    case 'SEND':
    case 'INVITE':
      return { ok: true };
    case 'LEAVE':
      return actor === 'OWNER'
        ? forbidden('The owner leaves only after handing the group over (transferOwnership).')
        : { ok: true };
    case 'REMOVE':
      if (actor === 'OWNER') {
        return target === 'OWNER' ? forbidden('The owner cannot remove itself.') : { ok: true };
      }
      if (actor === 'ADMIN') {
        return target === undefined || target === 'MEMBER'
          ? { ok: true }
          : forbidden('Admins remove members only.');
      }
      return forbidden('Only the owner and admins remove members.');
    case 'SET_ROLE':
      if (actor !== 'OWNER') return forbidden('Only the owner appoints or dismisses admins.');
      return target === 'OWNER' ? forbidden("The owner's role changes only by a transfer.") : { ok: true };
    case 'TRANSFER':
      if (actor !== 'OWNER') return forbidden('Only the owner transfers ownership.');
      return target === 'OWNER' ? forbidden('You own this group already.') : { ok: true };
    case 'SET_PROTECTION':
      return actor === 'OWNER'
        ? { ok: true }
        : forbidden('Only the owner turns dissolution protection on or off.');
    case 'DISSOLVE':
      return actor === 'OWNER'
        ? { ok: true }
        : forbidden('Only the owner dissolves, cancels or restores the group.');
  }
}

/** G4: only an ENTERPRISE group has dissolution protection. */
export function checkProtectionKind(kind: GroupKind): { ok: true } | Refusal {
  return kind === 'ENTERPRISE'
    ? { ok: true }
    : refuse('BAD_USER_INPUT', 'Only an ENTERPRISE group has dissolution protection.');
}

/** The group's size after adding `adding` new members to `current`; refused past the maximum. */
export function checkSize(current: number, adding: number): { ok: true } | Refusal {
  return current + adding <= MAX_GROUP_MEMBERS
    ? { ok: true }
    : refuse('BAD_USER_INPUT', `A group has at most ${MAX_GROUP_MEMBERS} members.`);
}

/**
 * G2: what happens to a pending transfer when it is answered or cancelled. `by` is who acts: the
 * target answers (accept/decline), the owner who made it cancels. Anyone else, or a transfer no
 * longer pending, is refused.
 */
export function decideTransferStep(
  t: { status: TransferStatus; fromUserId: string; toUserId: string },
  by: string,
  step: 'ACCEPT' | 'DECLINE' | 'CANCEL',
): { ok: true; status: TransferStatus } | Refusal {
  const party = step === 'CANCEL' ? t.fromUserId : t.toUserId;
  if (by !== party && by !== t.fromUserId && by !== t.toUserId)
    return refuse('NOT_FOUND', 'No such transfer.');
  if (by !== party) {
    return forbidden(
      step === 'CANCEL' ? 'Only its owner cancels a transfer.' : 'Only its target answers a transfer.',
    );
  }
  if (t.status !== 'PENDING')
    return refuse('FORBIDDEN', `This transfer is ${t.status.toLowerCase()} already.`);
  return { ok: true, status: step === 'ACCEPT' ? 'ACCEPTED' : step === 'DECLINE' ? 'DECLINED' : 'CANCELLED' };
}
