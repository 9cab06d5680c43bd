// SPEC §1 as pure functions: literal instants, no database, no clock.
import { describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../src/clock.js';
import {
  type ContactAction,
  type ConversationFacts,
  checkGreeting,
  decideAccept,
  decideBlock,
  decideDelete,
  decideRequest,
  decideSend,
  decideUnblock,
  type Entry,
  type EntryState,
  flip,
  MAX_GREETING,
  MUTUAL_DELETE_BUFFER_MS,
  NO_CONVERSATION,
  type Outcome,
  type Pair,
  preview,
  proofOf,
  purged,
  reconcile,
  retentionOf,
  tellings,
  viewOf,
} from '../../src/contacts/contacts.rules.js';
import { purgeDue } from '../../src/retention/retention.rules.js';
import { isUserId } from '../../src/shared/ids.js';
import type { Refusal } from '../../src/shared/result.js';
import { charLength } from '../../src/shared/text.js';

const T0 = new Date('2026-01-01T00:00:00Z'); // the friendship starts
const T1 = new Date('2026-01-02T00:00:00Z'); // the first deletion
const T2 = new Date('2026-01-03T00:00:00Z'); // the second deletion: R3 buffer starts
const T2_PURGE = new Date('2026-02-02T00:00:00Z'); // T2 + 30 days
const LATER = new Date('2027-06-01T00:00:00Z');

const at = (d: Date, ms: number) => new Date(d.getTime() + ms);
const e = (state: EntryState, since = T0, stateBeforeBlock: EntryState | null = null): Entry => ({
  state,
  since,
  stateBeforeBlock,
});
const pair = (mine: Entry | null, theirs: Entry | null, conversation = NO_CONVERSATION): Pair => ({
  mine,
  theirs,
  conversation,
});
const buffered: ConversationFacts = { mutualSince: T2, purgeAt: T2_PURGE, purgedAt: null, purgedBy: null };

const FRIENDS = pair(e('FRIEND'), e('FRIEND'));
const I_DELETED = pair(e('DELETED', T1), e('FRIEND'));
const PEER_DELETED = pair(e('FRIEND'), e('DELETED', T1));
const PEER_BLOCKED = pair(e('FRIEND'), e('BLOCKED', T1, 'FRIEND'));
const MUTUAL = pair(e('DELETED', T1), e('DELETED', T2), buffered);

function done(r: Outcome | Refusal): Outcome {
  if (!r.ok) throw new Error(`refused: ${r.error.code}`);
  return r;
}
const code = (r: object): string => ('error' in r ? (r as Refusal).error.code : 'OK');

describe('R1 friend request', () => {
  const ask = (p: Pair, o: Partial<{ pendingFromMe: boolean; pendingFromThem: boolean }> = {}) =>
    decideRequest({ pair: p, pendingFromMe: false, pendingFromThem: false, now: T1, ...o });

  it('a request to a stranger is a new pending request, shown to them', () => {
    expect(ask(pair(null, null))).toEqual({ ok: true, kind: 'REQUEST', hidden: false });
  });

  it('a second request while one is pending answers with the pending one', () => {
    expect(ask(pair(null, null), { pendingFromMe: true })).toEqual({ ok: true, kind: 'DUPLICATE' });
  });

  it('a request to someone who blocked you looks sent and is hidden from them', () => {
    const d = ask(pair(null, e('BLOCKED', T0, null)));
    expect(d).toEqual({ ok: true, kind: 'REQUEST', hidden: true });
  });

  it('a request crossing a pending one from the peer accepts theirs: both become friends', () => {
    const d = ask(pair(null, null), { pendingFromThem: true });
    if (!d.ok || d.kind !== 'ACCEPT_THEIRS') throw new Error('expected ACCEPT_THEIRS');
    expect(viewOf(d.outcome.pair)).toBe('FRIEND');
    expect(viewOf(flip(d.outcome.pair))).toBe('FRIEND');
  });

  it('crossing requests make a friendship even when the actor’s own (once hidden) request is pending too', () => {
    const d = ask(pair(null, null), { pendingFromMe: true, pendingFromThem: true });
    expect(d).toMatchObject({ ok: true, kind: 'ACCEPT_THEIRS' });
  });

  it('a request to a friend is refused ALREADY_EXISTS, even when the friend silently deleted you', () => {
    expect(code(ask(FRIENDS))).toBe('ALREADY_EXISTS');
    expect(code(ask(PEER_DELETED))).toBe('ALREADY_EXISTS');
    expect(code(ask(PEER_BLOCKED))).toBe('ALREADY_EXISTS');
  });

  it('a request to someone you block is refused FORBIDDEN (unblock first)', () => {
    expect(code(ask(pair(e('BLOCKED', T0, 'FRIEND'), e('FRIEND'))))).toBe('FORBIDDEN');
  });

  it('accepting makes both sides FRIEND from the moment of acceptance', () => {
    const o = done(decideAccept(pair(null, null), T1));
    expect(o.pair.mine).toEqual(e('FRIEND', T1));
    expect(o.pair.theirs).toEqual(e('FRIEND', T1));
    expect(o.purgeNow).toBeNull();
  });

  it('a greeting is trimmed (blank means none) and has at most 500 characters, counted as code points', () => {
    expect(checkGreeting('  hello  ')).toEqual({ ok: true, greeting: 'hello' });
    expect(checkGreeting('   ')).toEqual({ ok: true, greeting: null });
    expect(checkGreeting(undefined)).toEqual({ ok: true, greeting: null });
    expect(checkGreeting('🙂'.repeat(MAX_GREETING))).toMatchObject({ ok: true });
    expect(charLength('🙂'.repeat(MAX_GREETING))).toBe(500);
    expect(code(checkGreeting('🙂'.repeat(MAX_GREETING + 1)))).toBe('BAD_USER_INPUT');
    expect(code(checkGreeting('hi\u0000'))).toBe('BAD_USER_INPUT');
  });

  it('an id holding U+0000 (or empty) can name no user', () => {
    expect(isUserId('alice')).toBe(true);
    expect(isUserId('')).toBe(false);
    expect(isUserId('a\u0000b')).toBe(false);
  });

  it('the recipient cannot accept while blocking the requester', () => {
    expect(code(decideAccept(pair(e('BLOCKED', T0, null), null), T1))).toBe('FORBIDDEN');
  });
});

describe('R2 one-way delete', () => {
  // SPEC §1 table, both directions: A's entry, B's entry → each side's view and whether it may send.
  const table: [EntryState, EntryState, string, string, string, string][] = [
    // A → B     B → A      A sees             B sees             A sends         B sends
    ['FRIEND', 'FRIEND', 'FRIEND', 'FRIEND', 'OK', 'OK'],
    ['DELETED', 'FRIEND', 'DELETED_BY_ME', 'FRIEND', 'NOT_FRIENDS', 'VERIFICATION_REQUIRED'],
    ['DELETED', 'DELETED', 'MUTUALLY_DELETED', 'MUTUALLY_DELETED', 'NOT_FRIENDS', 'NOT_FRIENDS'],
    ['BLOCKED', 'FRIEND', 'BLOCKED_BY_ME', 'FRIEND', 'FORBIDDEN', 'VERIFICATION_REQUIRED'],
    // "BLOCKED | any": a B that deleted A itself gets its own deletion's answer, the same as when A
    // had not blocked it (else the code would tell B that A blocked it: SPEC "Errors", R2).
    ['BLOCKED', 'DELETED', 'BLOCKED_BY_ME', 'DELETED_BY_ME', 'FORBIDDEN', 'NOT_FRIENDS'],
  ];
  it.each(table)(
    'the SPEC table: A→B %s, B→A %s: A sees %s, B sees %s; A sends: %s, B sends: %s',
    (ab, ba, aSees, bSees, aSends, bSends) => {
      const p = pair(e(ab, T1, ab === 'BLOCKED' ? 'FRIEND' : null), e(ba, T0));
      expect(viewOf(p)).toBe(aSees);
      expect(viewOf(flip(p))).toBe(bSees);
      expect(code(decideSend(p))).toBe(aSends);
      expect(code(decideSend(flip(p)))).toBe(bSends);
    },
  );

  it('a peer that blocks, whatever its entry before, is refused to the blocked side as a deletion is', () => {
    for (const before of ['FRIEND', 'DELETED', null] as const) {
      const blocked = pair(e('FRIEND'), e('BLOCKED', T1, before));
      expect(viewOf(blocked)).toBe('FRIEND');
      expect(decideSend(blocked)).toEqual(decideSend(PEER_DELETED));
    }
  });

  it("the refused side's answer never depends on whether the peer deleted or blocked it", () => {
    for (const mine of [e('FRIEND'), e('DELETED', T1), e('BLOCKED', T1, 'FRIEND'), null]) {
      const deleted = pair(mine, e('DELETED', T1));
      const blocked = pair(mine, e('BLOCKED', T1, 'FRIEND'));
      expect(decideSend(blocked)).toEqual(decideSend(deleted));
      // A block is invisible from every side: the view is the one of a peer that did nothing.
      expect(viewOf(blocked)).toBe(viewOf(pair(mine, e('FRIEND'))));
    }
  });

  it('deleting a friend changes only the deleter’s entry and keeps the history', () => {
    const o = done(decideDelete(FRIENDS, T1));
    expect(o.pair.mine).toEqual(e('DELETED', T1));
    expect(o.pair.theirs).toBe(FRIENDS.theirs);
    expect(o.purgeNow).toBeNull();
    expect(o.pair.conversation).toEqual(NO_CONVERSATION);
    expect(viewOf(flip(o.pair))).toBe('FRIEND');
  });

  it('deleting someone who is not a friend is refused NOT_FRIENDS', () => {
    expect(code(decideDelete(pair(null, null), T1))).toBe('NOT_FRIENDS');
    expect(code(decideDelete(I_DELETED, T1))).toBe('NOT_FRIENDS');
    expect(code(decideDelete(pair(e('BLOCKED', T0, 'FRIEND'), e('FRIEND')), T1))).toBe('NOT_FRIENDS');
  });

  it('re-adding a peer who still has you restores the friendship at once, any time later, with the history', () => {
    const d = decideRequest({ pair: I_DELETED, pendingFromMe: false, pendingFromThem: false, now: LATER });
    if (!d.ok || d.kind !== 'RESTORE') throw new Error('expected RESTORE');
    expect(d.outcome.pair.mine).toEqual(e('FRIEND', LATER));
    expect(d.outcome.pair.theirs).toBe(I_DELETED.theirs);
    expect(d.outcome.purgeNow).toBeNull();
    expect(d.outcome.pair.conversation).toEqual(NO_CONVERSATION);
  });

  it('re-adding a peer who still has you but blocks you also "restores": the block stays invisible', () => {
    const p = pair(e('DELETED', T1), e('BLOCKED', T2, 'FRIEND'));
    const d = decideRequest({ pair: p, pendingFromMe: false, pendingFromThem: false, now: LATER });
    if (!d.ok || d.kind !== 'RESTORE') throw new Error('expected RESTORE');
    expect(viewOf(d.outcome.pair)).toBe('FRIEND');
    expect(d.outcome.pair.theirs).toBe(p.theirs);
    expect(code(decideSend(d.outcome.pair))).toBe('VERIFICATION_REQUIRED');
  });

  it('the retention status of the party deleted or blocked by its peer reads ACTIVE, as between friends', () => {
    expect(retentionOf(PEER_DELETED, T2)).toEqual(retentionOf(FRIENDS, T2));
    expect(retentionOf(PEER_BLOCKED, T2)).toEqual(retentionOf(FRIENDS, T2));
    expect(retentionOf(FRIENDS, T2)).toMatchObject({ state: 'ACTIVE', reason: 'T1', purgeAt: null });
  });

  it('the deleter’s retention status is ONE_WAY_DELETED: kept, restorable, no deadline', () => {
    expect(retentionOf(I_DELETED, LATER)).toEqual({
      state: 'ONE_WAY_DELETED',
      purgeAt: null,
      purgedAt: null,
      restorable: true,
      restorableUntil: null,
      reason: 'R2',
    });
  });
});

describe('R3 mutual delete, 30-day buffer', () => {
  it('the buffer is 30 days', () => {
    expect(MUTUAL_DELETE_BUFFER_MS).toBe(2_592_000_000); // 30 days, written out: a wrong constant must fail
  });

  it('reconcile starts the buffer when the second side deletes: purgeAt = t + 30 days', () => {
    const o = done(decideDelete(PEER_DELETED, T2));
    expect(viewOf(o.pair)).toBe('MUTUALLY_DELETED');
    expect(viewOf(flip(o.pair))).toBe('MUTUALLY_DELETED');
    expect(o.pair.conversation).toEqual(buffered);
  });

  it('reconcile starts no buffer for a one-way deletion', () => {
    expect(reconcile(I_DELETED, T2)).toEqual(NO_CONVERSATION);
  });

  it('reconcile keeps a running buffer as it is (never restarts it)', () => {
    expect(reconcile(MUTUAL, at(T2, 10 * DAY))).toEqual(buffered);
  });

  it('reconcile ends the buffer when either side is a friend again', () => {
    expect(reconcile(pair(e('FRIEND', T2), e('DELETED')), at(T2, DAY))).toEqual(NO_CONVERSATION);
    expect(reconcile(pair(e('FRIEND', T2), e('FRIEND', T2)), at(T2, DAY))).toEqual(NO_CONVERSATION);
  });

  it('a block on top of a deletion does not end the buffer (the block hides, it does not re-add)', () => {
    expect(reconcile(pair(e('BLOCKED', T2, 'DELETED'), e('DELETED'), buffered), at(T2, DAY))).toEqual(
      buffered,
    );
  });

  it('reconcile starts no buffer for a conversation already purged; a new friendship starts it afresh', () => {
    const gone = purged(buffered, 'R3', T2_PURGE);
    expect(gone).toEqual({ mutualSince: T2, purgeAt: null, purgedAt: T2_PURGE, purgedBy: 'R3' });
    const p = pair(e('DELETED'), e('DELETED'), { ...NO_CONVERSATION, purgedAt: T1, purgedBy: 'R4' });
    expect(reconcile(p, T2)).toEqual({ mutualSince: T2, purgeAt: null, purgedAt: T1, purgedBy: 'R4' });
    expect(reconcile(pair(e('FRIEND', LATER), e('FRIEND', LATER), gone), LATER)).toEqual(NO_CONVERSATION);
  });

  it('the buffer is due exactly at purgeAt, not a millisecond before', () => {
    expect(purgeDue(buffered, at(T2_PURGE, -1))).toBe(false);
    expect(purgeDue(buffered, T2_PURGE)).toBe(true);
    expect(purgeDue(NO_CONVERSATION, LATER)).toBe(false);
  });

  it('29 days 23 hours after the mutual deletion the history is buffered and restorable until purgeAt', () => {
    expect(retentionOf(MUTUAL, at(T2, 29 * DAY + 23 * HOUR))).toEqual({
      state: 'BUFFERED',
      purgeAt: T2_PURGE,
      purgedAt: null,
      restorable: true,
      restorableUntil: T2_PURGE,
      reason: 'R3',
    });
  });

  it('re-adding before purgeAt (request + accept) restores the history and clears purgeAt', () => {
    const asked = decideRequest({ pair: MUTUAL, pendingFromMe: false, pendingFromThem: false, now: T2 });
    expect(asked).toEqual({ ok: true, kind: 'REQUEST', hidden: false }); // verification again
    const o = done(decideAccept(MUTUAL, at(T2_PURGE, -HOUR)));
    expect(o.purgeNow).toBeNull();
    expect(o.pair.conversation).toEqual(NO_CONVERSATION);
    expect(retentionOf(o.pair, at(T2_PURGE, -HOUR)).state).toBe('ACTIVE');
  });

  it('accepting at or after purgeAt purges first (R3) and starts an empty conversation', () => {
    const o = done(decideAccept(MUTUAL, T2_PURGE));
    expect(o.purgeNow).toBe('R3');
    expect(o.pair.conversation).toEqual(NO_CONVERSATION);
    expect(viewOf(o.pair)).toBe('FRIEND');
  });

  it('after the purge both sides read PURGED by R3, not restorable', () => {
    const p = pair(MUTUAL.mine, MUTUAL.theirs, purged(buffered, 'R3', T2_PURGE));
    const expected = {
      state: 'PURGED',
      purgeAt: null,
      purgedAt: T2_PURGE,
      restorable: false,
      restorableUntil: null,
      reason: 'R3',
    };
    expect(retentionOf(p, LATER)).toEqual(expected);
    expect(retentionOf(flip(p), LATER)).toEqual(expected);
  });
});

describe('R4 block, block and delete', () => {
  it('block alone keeps the history and remembers what unblock returns to', () => {
    const o = done(decideBlock(FRIENDS, false, T1));
    expect(o.pair.mine).toEqual(e('BLOCKED', T1, 'FRIEND'));
    expect(o.purgeNow).toBeNull();
    expect(retentionOf(o.pair, T1)).toMatchObject({ state: 'BLOCKED', purgedAt: null, reason: 'R4' });
  });

  it('block stops messages both ways', () => {
    const o = done(decideBlock(FRIENDS, false, T1));
    expect(code(decideSend(o.pair))).toBe('FORBIDDEN');
    expect(code(decideSend(flip(o.pair)))).toBe('VERIFICATION_REQUIRED');
  });

  it('block and delete purges at once, for good: PURGED by R4, not restorable', () => {
    const o = done(decideBlock(FRIENDS, true, T1));
    expect(o.purgeNow).toBe('R4');
    expect(o.pair.mine).toEqual(e('BLOCKED', T1, 'DELETED'));
    expect(o.pair.conversation).toEqual({ mutualSince: null, purgeAt: null, purgedAt: T1, purgedBy: 'R4' });
    expect(retentionOf(o.pair, T1)).toEqual({
      state: 'PURGED',
      purgeAt: null,
      purgedAt: T1,
      restorable: false,
      restorableUntil: null,
      reason: 'R4',
    });
  });

  it('block and delete also ends a running R3 buffer in a purge now', () => {
    const o = done(decideBlock(MUTUAL, true, at(T2, DAY)));
    expect(o.purgeNow).toBe('R4');
    expect(o.pair.conversation).toMatchObject({ purgeAt: null, purgedAt: at(T2, DAY), purgedBy: 'R4' });
  });

  it('a second block is refused ALREADY_EXISTS; upgrading a block to block-and-delete is allowed', () => {
    const blocked = done(decideBlock(FRIENDS, false, T1)).pair;
    expect(code(decideBlock(blocked, false, T2))).toBe('ALREADY_EXISTS');
    const o = done(decideBlock(blocked, true, T2));
    expect(o.purgeNow).toBe('R4');
    expect(o.pair.mine).toEqual(e('BLOCKED', T1, 'DELETED'));
  });

  it('unblock restores messaging as it was before the block', () => {
    const blocked = done(decideBlock(FRIENDS, false, T1)).pair;
    const o = done(decideUnblock(blocked, T2));
    expect(o.pair.mine).toEqual(e('FRIEND', T2));
    expect(code(decideSend(o.pair))).toBe('OK');
    expect(code(decideSend(flip(o.pair)))).toBe('OK');
  });

  it('unblock after block and delete leaves the blocker’s side deleted; unblocking a stranger leaves no entry', () => {
    const bd = done(decideBlock(FRIENDS, true, T1)).pair;
    expect(done(decideUnblock(bd, T2)).pair.mine).toEqual(e('DELETED', T2));
    const stranger = done(decideBlock(pair(null, null), false, T1)).pair;
    expect(stranger.mine).toEqual(e('BLOCKED', T1, null));
    expect(done(decideUnblock(stranger, T2)).pair.mine).toBeNull();
  });

  it('unblock without a block is refused NOT_FOUND', () => {
    expect(code(decideUnblock(FRIENDS, T1))).toBe('NOT_FOUND');
  });
});

describe('R5 proof of mutual deletion', () => {
  it('a mutually deleted pair gets a proof of MUTUALLY_DELETED since t with purgeAt, from either side', () => {
    const facts = { state: 'MUTUALLY_DELETED', since: T2, purgeAt: T2_PURGE, purgedAt: null };
    expect(proofOf(MUTUAL)).toEqual(facts);
    expect(proofOf(flip(MUTUAL))).toEqual(facts);
  });

  it('a purged pair gets a proof of PURGED with purgedAt', () => {
    const p = pair(MUTUAL.mine, MUTUAL.theirs, purged(buffered, 'R3', T2_PURGE));
    expect(proofOf(p)).toEqual({ state: 'PURGED', since: T2, purgeAt: null, purgedAt: T2_PURGE });
  });

  it('friends and one-way deletions are refused FORBIDDEN, the same whichever side deleted', () => {
    for (const p of [FRIENDS, I_DELETED, PEER_DELETED, PEER_BLOCKED, pair(null, null)]) {
      expect(code(proofOf(p))).toBe('FORBIDDEN');
      expect(proofOf(p)).toEqual(proofOf(FRIENDS));
    }
  });
});

describe('R6 deletion notice level', () => {
  const deleted = (p: Pair) => done(decideDelete(p, T2));

  it('SILENT tells the peer nothing: no "removed you", no change to the peer’s view', () => {
    const t = tellings(FRIENDS, deleted(FRIENDS), 'SILENT');
    expect(t.removedYou).toBe(false);
    expect(t.peer).toBeNull();
    expect(t.actor).toEqual({ state: 'DELETED_BY_ME' });
  });

  it('NOTIFY tells the peer "removed you" at once; the peer’s own view still does not change', () => {
    const t = tellings(FRIENDS, deleted(FRIENDS), 'NOTIFY');
    expect(t.removedYou).toBe(true);
    expect(t.peer).toBeNull();
  });

  it('a deletion that makes the pair mutual tells the first deleter its view changed (R3)', () => {
    const t = tellings(PEER_DELETED, deleted(PEER_DELETED), 'SILENT');
    expect(t.actor).toEqual({ state: 'MUTUALLY_DELETED' });
    expect(t.peer).toEqual({ state: 'MUTUALLY_DELETED' });
  });

  it('a block tells the blocked side nothing; block and delete tells only the blocker of the purge', () => {
    expect(tellings(FRIENDS, done(decideBlock(FRIENDS, false, T1)))).toEqual({
      actor: { state: 'BLOCKED_BY_ME' },
      peer: null,
      removedYou: false,
      purgeToldTo: [],
    });
    expect(tellings(FRIENDS, done(decideBlock(FRIENDS, true, T1))).purgeToldTo).toEqual(['ACTOR']);
  });

  it('re-adding a peer who still has you tells the peer nothing (its view never changed)', () => {
    const d = decideRequest({ pair: I_DELETED, pendingFromMe: false, pendingFromThem: false, now: T2 });
    if (!d.ok || d.kind !== 'RESTORE') throw new Error('expected RESTORE');
    expect(tellings(I_DELETED, d.outcome).peer).toBeNull();
  });

  it('an R3 purge on acceptance after purgeAt is told to both parties', () => {
    expect(tellings(MUTUAL, done(decideAccept(MUTUAL, T2_PURGE))).purgeToldTo).toEqual(['ACTOR', 'PEER']);
  });
});

describe('R8 preview', () => {
  const actions: ContactAction[] = ['DELETE', 'BLOCK', 'BLOCK_AND_DELETE'];

  it.each(actions)('the %s preview for a friend equals what the action then does', (action) => {
    const o = done(
      action === 'DELETE'
        ? decideDelete(FRIENDS, T1)
        : decideBlock(FRIENDS, action === 'BLOCK_AND_DELETE', T1),
    );
    const after = retentionOf(o.pair, T1);
    const p = preview(FRIENDS, action, 7, T1);
    expect(p).toMatchObject({ action, allowed: true, refusal: null, stateBefore: 'FRIEND' });
    expect(p.stateAfter).toBe(viewOf(o.pair));
    expect(p.retentionStateAfter).toBe(after.state);
    expect(p.purgeAt).toEqual(after.purgeAt ?? after.purgedAt);
    expect(p.restorable).toBe(after.restorable);
    expect(p.messagesPurged).toBe(o.purgeNow ? 7 : 0);
  });

  it('the previews of DELETE, BLOCK and BLOCK_AND_DELETE name their outcomes', () => {
    expect(preview(FRIENDS, 'DELETE', 7, T1)).toEqual({
      action: 'DELETE',
      allowed: true,
      refusal: null,
      stateBefore: 'FRIEND',
      stateAfter: 'DELETED_BY_ME',
      retentionStateAfter: 'ONE_WAY_DELETED',
      purgeAt: null,
      restorable: true,
      messagesPurged: 0,
      reason: 'R2',
    });
    expect(preview(FRIENDS, 'BLOCK_AND_DELETE', 7, T1)).toMatchObject({
      stateAfter: 'BLOCKED_BY_ME',
      retentionStateAfter: 'PURGED',
      purgeAt: T1,
      restorable: false,
      messagesPurged: 7,
      reason: 'R4',
    });
  });

  it('deleting after the peer deleted previews the R3 buffer once the viewer knows (it deleted first)', () => {
    const p = pair(e('DELETED', T1), e('FRIEND'));
    expect(preview(p, 'DELETE', 3, T2)).toMatchObject({ allowed: false, refusal: 'NOT_FRIENDS' });
    expect(
      preview(pair(e('BLOCKED', T1, 'DELETED'), e('DELETED'), buffered), 'BLOCK_AND_DELETE', 3, T2),
    ).toMatchObject({ allowed: true, retentionStateAfter: 'PURGED', messagesPurged: 3, restorable: false });
  });

  it.each(actions)(
    'the %s preview never reveals that the peer deleted or blocked the viewer: equal to a control pair',
    (action) => {
      const control = preview(FRIENDS, action, 5, T2);
      expect(preview(PEER_DELETED, action, 5, T2)).toEqual(control);
      expect(preview(PEER_BLOCKED, action, 5, T2)).toEqual(control);
      expect(preview(pair(e('FRIEND'), e('BLOCKED', T1, 'DELETED')), action, 5, T2)).toEqual(control);
    },
  );

  it('a refused action previews as refused with the state unchanged', () => {
    expect(preview(pair(null, null), 'DELETE', 0, T1)).toEqual({
      action: 'DELETE',
      allowed: false,
      refusal: 'NOT_FRIENDS',
      stateBefore: null,
      stateAfter: null,
      retentionStateAfter: 'ACTIVE',
      purgeAt: null,
      restorable: false,
      messagesPurged: 0,
      reason: 'T1',
    });
    expect(preview(MUTUAL, 'DELETE', 4, T2)).toMatchObject({
      allowed: false,
      refusal: 'NOT_FRIENDS',
      stateAfter: 'MUTUALLY_DELETED',
      retentionStateAfter: 'BUFFERED',
      purgeAt: T2_PURGE,
    });
  });

  it('a preview changes nothing: the pair it was given is left as it was', () => {
    const p = structuredClone(PEER_DELETED);
    for (const action of actions) preview(p, action, 5, T2);
    expect(p).toEqual(PEER_DELETED);
  });
});
