// SPEC §1 as pure decisions: (entries, command, now) → outcome. No I/O, no clock: `now` is passed in.
import { DAY } from '../clock.js';
import type { ErrorCode } from '../generated/graphql.js';
import {
  type DirectRetention,
  directRetention,
  purgeDue,
  type RetentionState,
} from '../retention/retention.rules.js';
import { type Refusal, refuse } from '../shared/result.js';
import { fitsText } from '../shared/text.js';

/** R3: how long a mutually deleted conversation is kept and restorable. */
export const MUTUAL_DELETE_BUFFER_MS = 30 * DAY;

export type EntryState = 'FRIEND' | 'DELETED' | 'BLOCKED';
export type ContactState = 'FRIEND' | 'DELETED_BY_ME' | 'MUTUALLY_DELETED' | 'BLOCKED_BY_ME';
export type ContactAction = 'DELETE' | 'BLOCK' | 'BLOCK_AND_DELETE';
export type PurgeRule = 'R3' | 'R4';

/** One user's directed entry about a peer. */
export interface Entry {
  state: EntryState;
  since: Date;
  /** While BLOCKED: what unblock returns to (null = no entry). */
  stateBeforeBlock: EntryState | null;
}

/** The retention facts of the pair's conversation. */
export interface ConversationFacts {
  mutualSince: Date | null;
  purgeAt: Date | null;
  purgedAt: Date | null;
  purgedBy: PurgeRule | null;
}

/** A pair seen from one side: the actor's entry, the peer's entry, and their conversation. */
export interface Pair {
  mine: Entry | null;
  theirs: Entry | null;
  conversation: ConversationFacts;
}

export const NO_CONVERSATION: ConversationFacts = {
  mutualSince: null,
  purgeAt: null,
  purgedAt: null,
  purgedBy: null,
};

/** What a command does to a pair (from the actor's side). */
export interface Outcome {
  ok: true;
  pair: Pair;
  /** Purge the conversation's messages in this transaction, for this rule. */
  purgeNow: PurgeRule | null;
}

/** The state an entry stands for, looking through a block (a block hides, it does not delete). */
export function effective(e: Entry | null): EntryState | null {
  if (!e) return null;
  return e.state === 'BLOCKED' ? e.stateBeforeBlock : e.state;
}

/**
 * The actor's view of the pair (R2): the peer's one-way delete or block is invisible; the peer's
 * deletion shows only once the actor deleted too (R3, R8).
 */
export function viewOf(pair: Pick<Pair, 'mine' | 'theirs'>): ContactState | null {
  const mine = pair.mine?.state;
  if (!mine) return null;
  if (mine === 'BLOCKED') return 'BLOCKED_BY_ME';
  if (mine === 'FRIEND') return 'FRIEND';
  return effective(pair.theirs) === 'DELETED' ? 'MUTUALLY_DELETED' : 'DELETED_BY_ME';
}

/** The same pair seen from the peer's side. */
export function flip(pair: Pair): Pair {
  return { mine: pair.theirs, theirs: pair.mine, conversation: pair.conversation };
}

/**
 * What the actor may believe of the peer's entry: while the actor still has the peer as a friend,
 * the peer looks like a friend whatever they did (R2, R8).
 */
export function believed(pair: Pair): Pair {
  if (pair.mine?.state !== 'FRIEND') return pair;
  return { ...pair, theirs: { state: 'FRIEND', since: pair.mine.since, stateBeforeBlock: null } };
}

/**
 * Brings the conversation's retention in line with the entries (R3): the buffer starts when both
 * sides have deleted (effectively), ends when either side is a friend again; a new friendship
 * starts a purged conversation afresh (empty, same id).
 */
export function reconcile(pair: Pair, now: Date): ConversationFacts {
  const a = effective(pair.mine);
  const b = effective(pair.theirs);
  const c = { ...pair.conversation };
  const mutual = a === 'DELETED' && b === 'DELETED';
  if (mutual && !c.mutualSince) {
    c.mutualSince = now;
    c.purgeAt = c.purgedAt ? null : new Date(now.getTime() + MUTUAL_DELETE_BUFFER_MS);
  } else if (!mutual && c.mutualSince) {
    c.mutualSince = null;
    c.purgeAt = null;
  }
  if (a === 'FRIEND' && b === 'FRIEND' && c.purgedAt) {
    c.purgedAt = null;
    c.purgedBy = null;
  }
  return c;
}

/** The conversation right after an R3/R4 purge at `now`. */
export function purged(c: ConversationFacts, rule: PurgeRule, now: Date): ConversationFacts {
  // R3 purges at purgeAt, whenever the rows are deleted; R4 purges now.
  const at = rule === 'R3' && c.purgeAt ? c.purgeAt : now;
  return { ...c, purgeAt: null, purgedAt: at, purgedBy: rule };
}

function outcome(
  pair: Pair,
  mine: Entry | null,
  theirs: Entry | null,
  now: Date,
  purgeNow: PurgeRule | null,
): Outcome {
  let next: Pair = { mine, theirs, conversation: pair.conversation };
  if (purgeNow) next = { ...next, conversation: purged(next.conversation, purgeNow, now) };
  return { ok: true, pair: { ...next, conversation: reconcile(next, now) }, purgeNow };
}

const entry = (state: EntryState, now: Date, stateBeforeBlock: EntryState | null = null): Entry => ({
  state,
  since: now,
  stateBeforeBlock,
});

// --- input ---------------------------------------------------------------------------------------

/** R1: the longest greeting, in characters. */
export const MAX_GREETING = 500;

/** R1: the greeting to store (trimmed; blank → none), or BAD_USER_INPUT. */
export function checkGreeting(
  raw: string | null | undefined,
): { ok: true; greeting: string | null } | Refusal {
  const greeting = raw?.trim() || null;
  if (greeting && !fitsText(greeting, MAX_GREETING)) {
    return refuse('BAD_USER_INPUT', `A greeting has at most ${MAX_GREETING} characters.`);
  }
  return { ok: true, greeting };
}

// --- R1 friend requests ----------------------------------------------------------------------

export type RequestDecision =
  | Refusal
  /** A pending request from the actor exists already: answer with it (never two). */
  | { ok: true; kind: 'DUPLICATE' }
  /** R2: the actor deleted a peer who still has them: friends again at once, no request needed. */
  | { ok: true; kind: 'RESTORE'; outcome: Outcome }
  /** The peer asked the actor already: this accepts their request. */
  | { ok: true; kind: 'ACCEPT_THEIRS'; outcome: Outcome }
  /** A new pending request; `hidden` when the peer blocks the actor (R1: looks sent, never shown). */
  | { ok: true; kind: 'REQUEST'; hidden: boolean };

export interface RequestFacts {
  pair: Pair;
  pendingFromMe: boolean;
  /** A pending request from the peer that the actor can see. */
  pendingFromThem: boolean;
  now: Date;
}

/** R1/R2/R3: what `sendFriendRequest` does. */
export function decideRequest(f: RequestFacts): RequestDecision {
  const { pair, now } = f;
  const mine = pair.mine?.state;
  if (mine === 'BLOCKED') return refuse('FORBIDDEN', 'You block this user; unblock them first.');
  if (mine === 'FRIEND') return refuse('ALREADY_EXISTS', 'You are friends already.');
  // R2: decided on what the actor may believe, so a peer's hidden block changes nothing visible.
  if (mine === 'DELETED' && effective(pair.theirs) === 'FRIEND') {
    return {
      ok: true,
      kind: 'RESTORE',
      outcome: outcome(pair, entry('FRIEND', now), pair.theirs, now, null),
    };
  }
  const peerBlocks = pair.theirs?.state === 'BLOCKED';
  // Crossing requests make a friendship, even when the actor's own is pending too (it was hidden
  // by a block since lifted, so the peer asked without seeing it).
  if (f.pendingFromThem) return { ok: true, kind: 'ACCEPT_THEIRS', outcome: befriend(pair, now) };
  if (f.pendingFromMe) return { ok: true, kind: 'DUPLICATE' };
  return { ok: true, kind: 'REQUEST', hidden: peerBlocks };
}

/** Both sides FRIEND; a buffered history is restored (R3) — unless its buffer already ran out. */
function befriend(pair: Pair, now: Date): Outcome {
  const due = purgeDue(pair.conversation, now) ? 'R3' : null;
  // R1/R2/R4: a requester who blocked the actor since asking keeps the block and what it hid; the
  // actor's side becomes a friend as if the block came later, so the actor cannot tell.
  const theirs = pair.theirs?.state === 'BLOCKED' ? pair.theirs : entry('FRIEND', now);
  return outcome(pair, entry('FRIEND', now), theirs, now, due);
}

/** R1: the recipient (actor) answers a request from the peer. */
export function decideAccept(pair: Pair, now: Date): Outcome | Refusal {
  if (pair.mine?.state === 'BLOCKED') return refuse('FORBIDDEN', 'You block this user; unblock them first.');
  return befriend(pair, now);
}

// --- R2/R3/R6 delete, R4 block -----------------------------------------------------------------

/** R2/R3: the actor deletes the peer. */
export function decideDelete(pair: Pair, now: Date): Outcome | Refusal {
  if (pair.mine?.state !== 'FRIEND') return refuse('NOT_FRIENDS', 'You are not friends with this user.');
  return outcome(pair, entry('DELETED', now), pair.theirs, now, null);
}

/** R4: block, or block and delete (purges at once, for good). */
export function decideBlock(pair: Pair, deleteHistory: boolean, now: Date): Outcome | Refusal {
  const mine = pair.mine;
  if (mine?.state === 'BLOCKED' && !deleteHistory)
    return refuse('ALREADY_EXISTS', 'You block this user already.');
  const before = mine?.state === 'BLOCKED' ? mine.stateBeforeBlock : (mine?.state ?? null);
  // Block and delete: what unblock returns to is "deleted" (a stranger stays a stranger).
  const returnTo = deleteHistory && before !== null ? 'DELETED' : before;
  const blocked =
    mine?.state === 'BLOCKED' ? { ...mine, stateBeforeBlock: returnTo } : entry('BLOCKED', now, returnTo);
  return outcome(pair, blocked, pair.theirs, now, deleteHistory ? 'R4' : null);
}

/** R4: unblock returns the actor's entry to what it was before the block. */
export function decideUnblock(pair: Pair, now: Date): Outcome | Refusal {
  const mine = pair.mine;
  if (mine?.state !== 'BLOCKED') return refuse('NOT_FOUND', 'You do not block this user.');
  const back = mine.stateBeforeBlock ? entry(mine.stateBeforeBlock, now) : null;
  return outcome(pair, back, pair.theirs, now, null);
}

// --- who is told what (R2, R6, N3) ------------------------------------------------------------

/** R6: what the deleter chose to tell the peer. */
export type NoticeLevel = 'SILENT' | 'NOTIFY';
export type Side = 'ACTOR' | 'PEER';

/** Who is told what after an outcome: each side only of what it may know (R2, R6, N3). */
export interface Tellings {
  /** The actor's view changed to `state` (ContactChanged to the actor's devices); null = unchanged. */
  actor: { state: ContactState | null } | null;
  /** The peer's own view changed (a deletion that became mutual, R3); null = unchanged, so untold (R2). */
  peer: { state: ContactState | null } | null;
  /** R6: the peer gets "removed you" (NOTIFY on a deletion only). */
  removedYou: boolean;
  /** R3/R4: who is told of a purge done by this outcome. */
  purgeToldTo: Side[];
}

/**
 * R2/R6/N3: the notices an outcome earns. A side hears of a change only when its own view changed;
 * the peer hears "removed you" only when the actor deleted with NOTIFY. An R3 purge concerns both
 * parties; an R4 purge is the blocker's doing and is told to the peer only when the peer's own view
 * already shows the tie ended (never to a party that still sees a friend).
 */
export function tellings(before: Pair, o: Outcome, level: NoticeLevel = 'SILENT'): Tellings {
  const actorAfter = viewOf(o.pair);
  const peerAfter = viewOf(flip(o.pair));
  const peerKnows = peerAfter !== null && peerAfter !== 'FRIEND';
  const purgeToldTo: Side[] =
    o.purgeNow === 'R3' || (o.purgeNow === 'R4' && peerKnows)
      ? ['ACTOR', 'PEER']
      : o.purgeNow
        ? ['ACTOR']
        : [];
  return {
    actor: viewOf(before) !== actorAfter ? { state: actorAfter } : null,
    peer: viewOf(flip(before)) !== peerAfter ? { state: peerAfter } : null,
    removedYou: level === 'NOTIFY' && before.mine?.state === 'FRIEND' && o.pair.mine?.state === 'DELETED',
    purgeToldTo,
  };
}

// --- messages ----------------------------------------------------------------------------------

/** Whether the actor may message the peer now (SPEC §1 table). */
export function decideSend(pair: Pick<Pair, 'mine' | 'theirs'>): { ok: true } | Refusal {
  const mine = pair.mine?.state;
  if (!mine) return refuse('NOT_FRIENDS', 'You are not friends with this user.');
  if (mine === 'BLOCKED') return refuse('FORBIDDEN', 'You block this user; unblock them first.');
  if (mine === 'DELETED') return refuse('NOT_FRIENDS', 'You deleted this contact; add them again first.');
  if (pair.theirs?.state !== 'FRIEND') {
    // R2/R4: the same answer whether the peer deleted or blocked the actor.
    return refuse(
      'VERIFICATION_REQUIRED',
      'This user does not accept your messages; send a friend request first.',
    );
  }
  return { ok: true };
}

// --- T4 (the pair's side), R8 preview, R5 proof ----------------------------------------------------

/** T4 for the pair's direct conversation, from the actor's side (the rules are in retention.rules.ts). */
export const retentionOf = (pair: Pair, now: Date): DirectRetention =>
  directRetention(viewOf(pair), pair.conversation, now);

export interface Preview {
  action: ContactAction;
  allowed: boolean;
  refusal: ErrorCode | null;
  stateBefore: ContactState | null;
  stateAfter: ContactState | null;
  retentionStateAfter: RetentionState;
  purgeAt: Date | null;
  restorable: boolean;
  messagesPurged: number;
  reason: string;
}

/**
 * R8: the outcome of `action`, computed only from what the actor may believe (`believed`), so it
 * cannot be polled to detect a peer's silent deletion or block.
 */
export function preview(pair: Pair, action: ContactAction, visibleMessages: number, now: Date): Preview {
  const seen = believed(pair);
  const result =
    action === 'DELETE' ? decideDelete(seen, now) : decideBlock(seen, action === 'BLOCK_AND_DELETE', now);
  const stateBefore = viewOf(seen);
  if (!result.ok) {
    const ret = retentionOf(seen, now);
    return {
      action,
      allowed: false,
      refusal: result.error.code,
      stateBefore,
      stateAfter: stateBefore,
      retentionStateAfter: ret.state,
      purgeAt: ret.purgeAt,
      restorable: ret.restorable,
      messagesPurged: 0,
      reason: ret.reason,
    };
  }
  const after = retentionOf(result.pair, now);
  return {
    action,
    allowed: true,
    refusal: null,
    stateBefore,
    stateAfter: viewOf(result.pair)!,
    retentionStateAfter: after.state,
    purgeAt: result.purgeNow ? now : after.purgeAt,
    restorable: after.restorable,
    messagesPurged: result.purgeNow ? visibleMessages : 0,
    reason: result.purgeNow ?? after.reason,
  };
}

export interface ProofFacts {
  state: 'MUTUALLY_DELETED' | 'PURGED';
  since: Date;
  purgeAt: Date | null;
  purgedAt: Date | null;
}

/** R5: what a deletion proof states, or a refusal when the pair is not (or was not) mutually deleted. */
export function proofOf(pair: Pair): ProofFacts | Refusal {
  const c = pair.conversation;
  const mutual = effective(pair.mine) === 'DELETED' && effective(pair.theirs) === 'DELETED';
  if (!mutual || !c.mutualSince) {
    return refuse('FORBIDDEN', 'A proof is issued only to a party of a mutually deleted pair.');
  }
  if (c.purgedAt) return { state: 'PURGED', since: c.mutualSince, purgeAt: null, purgedAt: c.purgedAt };
  return { state: 'MUTUALLY_DELETED', since: c.mutualSince, purgeAt: c.purgeAt, purgedAt: null };
}
