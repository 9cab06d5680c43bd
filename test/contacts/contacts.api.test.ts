// SPEC §1 over the API: HTTP (and a subscription for notices) against a started app on real
// Postgres, with a manual clock so the 30-day buffer passes in a millisecond.
import { compactVerify, importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Action,
  NOTICE_FIELDS,
  type Notice,
  names,
  type PairChange,
  storedMessages,
} from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { collect } from '../support/server.js';

const START = '2026-01-01T00:00:00.000Z';
const HOUR_S = 60 * 60;
const DAY_S = 24 * HOUR_S;

let env: TestEnv;

beforeAll(async () => {
  env = await openTestEnv({ start: START });
});
afterAll(() => env?.close());

const now = () => env.clock.now().toISOString();
const inDays = (days: number) => new Date(env.clock.now().getTime() + days * DAY_S * 1000).toISOString();
const kinds = (ns: Notice[]) => ns.map((n) => n.__typename);
const codes = (r: { userErrors: { code: string }[] }) => r.userErrors.map((e) => e.code);

/** Two friends with a few messages each way; returns their conversation id. */
async function friendsWithHistory(a: string, b: string): Promise<string> {
  const conversationId = await env.api.befriend(a, b);
  await env.api.say(a, conversationId, 'one', 'two');
  await env.api.say(b, conversationId, 'three');
  return conversationId;
}

describe('R1 friend request', () => {
  it('a request shows in the recipient’s INCOMING and the sender’s OUTGOING, and notifies the recipient', async () => {
    const [a, b] = names('r1-send', 'a', 'b');
    const sent = await env.api.sendFriendRequest(a, b, 'hi, it is me');
    expect(sent.userErrors).toEqual([]);
    expect(sent.request).toMatchObject({
      from: { id: a },
      to: { id: b },
      greeting: 'hi, it is me',
      status: 'PENDING',
      createdAt: now(),
    });
    expect(await env.api.friendRequests(b, 'INCOMING')).toEqual([sent.request]);
    expect(await env.api.friendRequests(a, 'OUTGOING')).toEqual([sent.request]);
    expect(await env.api.friendRequests(a, 'INCOMING')).toEqual([]);
    expect(await env.api.friendRequests(b, 'OUTGOING')).toEqual([]);
    const { notices } = await env.api.notices(b);
    expect(notices).toMatchObject([
      {
        __typename: 'FriendRequestReceived',
        requestId: sent.request!.id,
        fromUserId: a,
        greeting: 'hi, it is me',
        request: { id: sent.request!.id, status: 'PENDING' },
      },
    ]);
  });

  it('accepting makes both sides friends in one shared conversation and tells the sender', async () => {
    const [a, b] = names('r1-accept', 'a', 'b');
    const sent = await env.api.sendFriendRequest(a, b);
    const accepted = await env.api.respond(b, sent.request!.id, true);
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.request?.status).toBe('ACCEPTED');
    const conversationId = accepted.contact!.conversation.id;
    expect(accepted.contact).toMatchObject({ user: { id: a }, state: 'FRIEND', since: now() });
    expect(await env.api.contact(a, b)).toMatchObject({
      state: 'FRIEND',
      conversation: { id: conversationId },
    });
    expect(await env.api.contact(b, a)).toMatchObject({
      state: 'FRIEND',
      conversation: { id: conversationId },
    });
    expect(await env.api.friendRequests(b, 'INCOMING')).toEqual([]);
    expect(await env.api.friendRequests(a, 'OUTGOING')).toEqual([]);
    const { notices } = await env.api.notices(a);
    expect(notices.find((n) => n.__typename === 'FriendRequestAccepted')).toMatchObject({
      requestId: sent.request!.id,
      byUserId: b,
      conversationId,
    });
  });

  it('declining makes no friendship and removes the request from both lists; a new request can follow', async () => {
    const [a, b] = names('r1-decline', 'a', 'b');
    const sent = await env.api.sendFriendRequest(a, b);
    const declined = await env.api.respond(b, sent.request!.id, false);
    expect(declined).toMatchObject({ contact: null, request: { status: 'DECLINED' }, userErrors: [] });
    expect(await env.api.contact(a, b)).toBeNull();
    expect(await env.api.contact(b, a)).toBeNull();
    expect(await env.api.friendRequests(b, 'INCOMING')).toEqual([]);
    expect(await env.api.friendRequests(a, 'OUTGOING')).toEqual([]);
    const again = await env.api.sendFriendRequest(a, b);
    expect(again.request?.status).toBe('PENDING');
    expect(again.request?.id).not.toBe(sent.request!.id);
  });

  it('a duplicate pending request is not created twice: the same request is returned', async () => {
    const [a, b] = names('r1-dup', 'a', 'b');
    const first = await env.api.sendFriendRequest(a, b, 'hello');
    const second = await env.api.sendFriendRequest(a, b, 'hello again');
    expect(second.userErrors).toEqual([]);
    expect(second.request).toEqual(first.request);
    expect(await env.api.friendRequests(b, 'INCOMING')).toHaveLength(1);
    expect(kinds((await env.api.notices(b)).notices)).toEqual(['FriendRequestReceived']);
  });

  it('a request crossing a pending one from the peer makes both friends at once', async () => {
    const [a, b] = names('r1-cross', 'a', 'b');
    const theirs = await env.api.sendFriendRequest(b, a);
    const mine = await env.api.sendFriendRequest(a, b);
    expect(mine.request?.status).toBe('ACCEPTED');
    expect(mine.contact?.state).toBe('FRIEND');
    expect(await env.api.contact(b, a)).toMatchObject({ state: 'FRIEND' });
    expect((await env.api.notices(b)).notices).toContainEqual(
      expect.objectContaining({
        __typename: 'FriendRequestAccepted',
        requestId: theirs.request!.id,
        byUserId: a,
      }),
    );
  });

  it('a request to someone who blocked you looks sent (OUTGOING shows it PENDING), never reaches them, and leaves you seeing what a stranger sees', async () => {
    const [a, b, c, d] = names('r1-blocked', 'a', 'b', 'c', 'd');
    for (const u of [a, b, c, d]) await env.api.token(u);
    expect(codes(await env.api.blockContact(a, b))).toEqual([]); // a blocks the stranger b
    const sent = await env.api.sendFriendRequest(b, a, 'let us talk');
    const control = await env.api.sendFriendRequest(d, c, 'let us talk'); // nobody blocks d
    expect(sent.userErrors).toEqual([]);
    expect(sent.request).toMatchObject({ status: 'PENDING', from: { id: b }, to: { id: a } });
    expect(await env.api.friendRequests(b, 'OUTGOING')).toEqual([sent.request]);
    // Never shown to a: not in INCOMING, no notice, and a cannot answer it.
    expect(await env.api.friendRequests(a, 'INCOMING')).toEqual([]);
    expect(kinds((await env.api.notices(a)).notices)).not.toContain('FriendRequestReceived');
    expect(codes(await env.api.respond(a, sent.request!.id, true))).toEqual(['NOT_FOUND']);
    // b sees exactly what d (whose request reached c) sees: a block leaves nothing b can query.
    const seenBy = async (who: string, peer: string) => {
      const q = await env.api.gql<Record<string, unknown>>(
        who,
        `query($peer: ID!) { contact(userId: $peer) { state }
          contacts(first: 10) { edges { node { state } } }
          conversations(first: 10) { edges { node { id } } }
          outgoing: friendRequests(direction: OUTGOING) { edges { node { status greeting } } } }`,
        { peer },
      );
      return { ...q, notices: kinds((await env.api.notices(who)).notices) };
    };
    expect(await seenBy(b, a)).toEqual(await seenBy(d, c));
    expect(sent.contact).toEqual(control.contact);
    // Lifting the block does not show it; asking again after that does (a new ask, seen as one).
    expect(codes(await env.api.unblockContact(a, b))).toEqual([]);
    expect(await env.api.friendRequests(a, 'INCOMING')).toEqual([]);
    const again = await env.api.sendFriendRequest(b, a, 'let us talk');
    expect(again.request?.id).toBe(sent.request!.id);
    expect(await env.api.friendRequests(a, 'INCOMING')).toMatchObject([
      { id: sent.request!.id, status: 'PENDING' },
    ]);
    expect((await env.api.notices(a)).notices.at(-1)).toMatchObject({
      __typename: 'FriendRequestReceived',
      requestId: sent.request!.id,
      fromUserId: b,
    });
    expect(await env.api.respond(a, sent.request!.id, true)).toMatchObject({ contact: { state: 'FRIEND' } });
  });

  it('only the recipient can answer a request, once', async () => {
    const [a, b, c] = names('r1-answer', 'a', 'b', 'c');
    await env.api.token(c);
    const sent = await env.api.sendFriendRequest(a, b);
    expect(codes(await env.api.respond(c, sent.request!.id, true))).toEqual(['NOT_FOUND']);
    expect(codes(await env.api.respond(a, sent.request!.id, true))).toEqual(['NOT_FOUND']);
    // An id that is not one at all is malformed input (API.md), not an unknown request.
    expect(codes(await env.api.respond(b, 'not-a-request-id', true))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await env.api.respond(b, '00000000-0000-4000-8000-000000000000', true))).toEqual([
      'NOT_FOUND',
    ]);
    expect(codes(await env.api.respond(b, sent.request!.id, true))).toEqual([]);
    expect(codes(await env.api.respond(b, sent.request!.id, false))).toEqual(['ALREADY_EXISTS']);
    expect(await env.api.contact(b, a)).toMatchObject({ state: 'FRIEND' });
  });

  it('refuses a request to a friend (ALREADY_EXISTS), to oneself, with a greeting over 500 characters (BAD_USER_INPUT) and to an unknown user (NOT_FOUND)', async () => {
    const [a, b] = names('r1-refused', 'a', 'b');
    await env.api.befriend(a, b);
    expect(await env.api.sendFriendRequest(a, b)).toMatchObject({
      request: null,
      userErrors: [{ code: 'ALREADY_EXISTS', field: ['input', 'userId'] }],
    });
    expect(codes(await env.api.sendFriendRequest(a, a))).toEqual(['BAD_USER_INPUT']);
    const long = await env.api.gql<{
      sendFriendRequest: { userErrors: { code: string; field: string[] }[] };
    }>(
      a,
      'mutation($i: SendFriendRequestInput!) { sendFriendRequest(input: $i) { userErrors { code field } } }',
      { i: { userId: names('r1-refused', 'c')[0], greeting: 'x'.repeat(501) } },
    );
    expect(long.sendFriendRequest.userErrors).toEqual([
      { code: 'BAD_USER_INPUT', field: ['input', 'greeting'] },
    ]);
    const unknown = await env.api.gql<{ sendFriendRequest: { userErrors: { code: string }[] } }>(
      a,
      'mutation { sendFriendRequest(input: { userId: "nobody-ever-seen" }) { userErrors { code } } }',
    );
    expect(unknown.sendFriendRequest.userErrors).toEqual([{ code: 'NOT_FOUND' }]);
  });
});

describe('R1 bad input', () => {
  it('a user id or greeting holding U+0000 is refused as malformed (BAD_USER_INPUT), never with a 500', async () => {
    const [a, b] = names('r1-nul', 'a', 'b');
    await env.api.befriend(a, b);
    const bad = 'x\u0000y';
    const q = `mutation($u: ID!, $g: String) {
      send: sendFriendRequest(input: { userId: $u, greeting: $g }) { userErrors { code field } } }`;
    // No token can carry such a user id, so it is malformed input, not an unknown user.
    expect(await env.api.gql(a, q, { u: bad })).toEqual({
      send: { userErrors: [{ code: 'BAD_USER_INPUT', field: ['input', 'userId'] }] },
    });
    expect(await env.api.gql(a, q, { u: names('r1-nul', 'c')[0], g: 'hi\u0000' })).toEqual({
      send: { userErrors: [{ code: 'BAD_USER_INPUT', field: ['input', 'greeting'] }] },
    });
    const mutations = await env.api.gql<Record<string, { userErrors: { code: string }[] }>>(
      a,
      `mutation($u: ID!) {
        del: deleteContact(input: { userId: $u }) { userErrors { code } }
        block: blockContact(input: { userId: $u }) { userErrors { code } }
        unblock: unblockContact(input: { userId: $u }) { userErrors { code } }
        proof: requestDeletionProof(input: { userId: $u }) { userErrors { code } }
      }`,
      { u: bad },
    );
    expect(Object.fromEntries(Object.entries(mutations).map(([k, v]) => [k, codes(v)]))).toEqual({
      del: ['BAD_USER_INPUT'],
      block: ['BAD_USER_INPUT'],
      unblock: ['BAD_USER_INPUT'],
      proof: ['BAD_USER_INPUT'],
    });
    const contact = await env.api.raw(a, 'query($u: ID!) { contact(userId: $u) { state } }', { u: bad });
    expect(contact.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const preview = await env.api.raw(
      a,
      '{ deletionPreview(userId: "x\\u0000y", action: DELETE) { allowed } }',
    );
    expect(preview.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('a greeting is counted in characters: 500 emoji are accepted, 501 refused', async () => {
    const [a, b, c] = names('r1-emoji', 'a', 'b', 'c');
    expect((await env.api.sendFriendRequest(a, b, '🙂'.repeat(500))).request?.greeting).toBe(
      '🙂'.repeat(500),
    );
    expect(codes(await env.api.sendFriendRequest(a, c, '🙂'.repeat(501)))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('R2 one-way delete', () => {
  it('a silent delete changes nothing the peer can see: contact still FRIEND, retention ACTIVE, no notice', async () => {
    const [a, b] = names('r2-silent', 'a', 'b');
    const conversationId = await friendsWithHistory(a, b);
    const before = {
      contact: await env.api.contact(b, a),
      retention: await env.api.retention(b, conversationId),
      notices: await env.api.notices(b),
    };
    env.clock.advance(HOUR_S);
    const r = await env.api.deleteContact(a, b);
    expect(r.userErrors).toEqual([]);
    expect(r.contact).toMatchObject({ state: 'DELETED_BY_ME', since: now() });
    expect(r.retention).toMatchObject({
      state: 'ONE_WAY_DELETED',
      reason: 'R2',
      restorable: true,
      purgeAt: null,
    });
    expect(await env.api.contact(b, a)).toEqual(before.contact);
    expect(before.contact?.state).toBe('FRIEND');
    expect(await env.api.retention(b, conversationId)).toEqual(before.retention);
    expect(await env.api.notices(b)).toEqual(before.notices);
  });

  it('the deleted party learns only when messaging: VERIFICATION_REQUIRED; the deleter is refused NOT_FRIENDS', async () => {
    const [a, b] = names('r2-send', 'a', 'b');
    const conversationId = await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    expect(await env.api.sendMessage(b, conversationId, 'are you there?')).toMatchObject({
      message: null,
      userErrors: [{ code: 'VERIFICATION_REQUIRED', field: ['input', 'conversationId'] }],
    });
    expect(codes(await env.api.sendMessage(a, conversationId, 'bye'))).toEqual(['NOT_FRIENDS']);
    expect(await storedMessages(env.db, conversationId)).toBe(3);
  });

  it('history is kept for both sides', async () => {
    const [a, b] = names('r2-kept', 'a', 'b');
    const conversationId = await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    expect(await env.api.bodies(a, conversationId)).toEqual(['three', 'two', 'one']);
    expect(await env.api.bodies(b, conversationId)).toEqual(['three', 'two', 'one']);
  });

  it('re-adding by the deleter restores the friendship at once, without the peer’s confirmation, with all history, any time later', async () => {
    const [a, b] = names('r2-readd', 'a', 'b');
    const conversationId = await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    const bNotices = await env.api.notices(b);
    env.clock.advance(400 * DAY_S); // R2: no time limit
    const r = await env.api.sendFriendRequest(a, b);
    expect(r.userErrors).toEqual([]);
    expect(r.request?.status).toBe('ACCEPTED');
    expect(r.contact).toMatchObject({ state: 'FRIEND', conversation: { id: conversationId } });
    expect(await env.api.contact(a, b)).toMatchObject({ state: 'FRIEND' });
    expect(await env.api.retention(a, conversationId)).toMatchObject({ state: 'ACTIVE', visibleMessages: 3 });
    expect(await env.api.bodies(a, conversationId)).toEqual(['three', 'two', 'one']);
    // b was never asked and never told.
    expect(await env.api.friendRequests(b, 'INCOMING')).toEqual([]);
    expect(await env.api.notices(b)).toEqual(bNotices);
    await env.api.say(b, conversationId, 'four');
    await env.api.say(a, conversationId, 'five');
  });

  it('the deleted party cannot delete again or re-add: its view is still FRIEND', async () => {
    const [a, b] = names('r2-peer', 'a', 'b');
    await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    expect(codes(await env.api.sendFriendRequest(b, a))).toEqual(['ALREADY_EXISTS']);
  });
});

describe('R3 mutual delete, 30-day buffer', () => {
  /** Friends with history who then delete each other; returns the conversation and the instant t. */
  async function mutuallyDeleted(a: string, b: string) {
    const conversationId = await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    env.clock.advance(HOUR_S);
    const t0 = now();
    const second = await env.api.deleteContact(b, a);
    return { conversationId, t0, second };
  }

  it('the second deletion makes the pair MUTUALLY_DELETED for both, buffered until t + 30 days', async () => {
    const [a, b] = names('r3-mutual', 'a', 'b');
    const { conversationId, second } = await mutuallyDeleted(a, b);
    const purgeAt = inDays(30);
    expect(second.contact?.state).toBe('MUTUALLY_DELETED');
    const expected = {
      conversationId,
      state: 'BUFFERED',
      purgeAt,
      purgedAt: null,
      restorable: true,
      restorableUntil: purgeAt,
      reason: 'R3',
      visibleMessages: 3,
    };
    expect(second.retention).toMatchObject(expected);
    expect(await env.api.contact(a, b)).toMatchObject({ state: 'MUTUALLY_DELETED' });
    expect(await env.api.retention(a, conversationId)).toMatchObject(expected);
    // The first deleter's own view changed (R3): it is told, on its own stream.
    const { notices } = await env.api.notices(a);
    expect(notices.at(-1)).toMatchObject({
      __typename: 'ContactChanged',
      peerId: b,
      state: 'MUTUALLY_DELETED',
    });
  });

  it('29 days 23 hours after mutual deletion a re-add (request + accept) brings every message back and clears purgeAt', async () => {
    const [a, b] = names('r3-restore', 'a', 'b');
    const { conversationId } = await mutuallyDeleted(a, b);
    env.clock.advance(29 * DAY_S + 23 * HOUR_S);
    expect(await env.api.retention(a, conversationId)).toMatchObject({ state: 'BUFFERED', restorable: true });
    await env.api.sweep();
    expect(await storedMessages(env.db, conversationId)).toBe(3);
    const sent = await env.api.sendFriendRequest(a, b); // verification is required again
    expect(sent.request?.status).toBe('PENDING');
    expect(sent.contact?.state).toBe('MUTUALLY_DELETED'); // the viewer's view, unchanged until accepted
    expect(await env.api.retention(a, conversationId)).toMatchObject({ state: 'BUFFERED' });
    const accepted = await env.api.respond(b, sent.request!.id, true);
    expect(accepted.contact).toMatchObject({ state: 'FRIEND', conversation: { id: conversationId } });
    for (const who of [a, b]) {
      expect(await env.api.bodies(who, conversationId)).toEqual(['three', 'two', 'one']);
      expect(await env.api.retention(who, conversationId)).toMatchObject({
        state: 'ACTIVE',
        purgeAt: null,
        restorableUntil: null,
        visibleMessages: 3,
      });
    }
    env.clock.advance(2 * HOUR_S); // past the old purgeAt: nothing is due any more
    await env.api.sweep();
    expect(await storedMessages(env.db, conversationId)).toBe(3);
  });

  it('at 30 days the sweep purges it: rows gone, PURGED for both, both told; a re-add then starts empty in the same conversation', async () => {
    const [a, b] = names('r3-purge', 'a', 'b');
    const { conversationId, t0 } = await mutuallyDeleted(a, b);
    env.clock.advance(30 * DAY_S);
    const purgedAt = now();
    expect(new Date(purgedAt).getTime() - new Date(t0).getTime()).toBe(30 * DAY_S * 1000);
    expect(await storedMessages(env.db, conversationId)).toBe(3);
    const run = await env.api.sweep();
    expect(run.userErrors).toEqual([]);
    expect(run.run?.purgedConversations).toBeGreaterThanOrEqual(1);
    expect(await storedMessages(env.db, conversationId)).toBe(0);
    for (const who of [a, b]) {
      expect(await env.api.retention(who, conversationId)).toMatchObject({
        state: 'PURGED',
        purgeAt: null,
        purgedAt,
        restorable: false,
        restorableUntil: null,
        reason: 'R3',
        visibleMessages: 0,
      });
      expect(await env.api.bodies(who, conversationId)).toEqual([]);
      expect((await env.api.notices(who)).notices.at(-1)).toMatchObject({
        __typename: 'ConversationPurged',
        conversationId,
        reason: 'R3',
        purgedMessages: 3,
      });
    }
    const sent = await env.api.sendFriendRequest(b, a);
    const accepted = await env.api.respond(a, sent.request!.id, true);
    expect(accepted.contact).toMatchObject({ state: 'FRIEND', conversation: { id: conversationId } });
    expect(await env.api.retention(a, conversationId)).toMatchObject({
      state: 'ACTIVE',
      purgedAt: null,
      visibleMessages: 0,
    });
    await env.api.say(a, conversationId, 'fresh start');
    expect(await env.api.bodies(b, conversationId)).toEqual(['fresh start']);
  });

  it('an acceptance at purgeAt, before any sweep ran, purges first: the history is not restored', async () => {
    const [a, b] = names('r3-late', 'a', 'b');
    const { conversationId } = await mutuallyDeleted(a, b);
    const sent = await env.api.sendFriendRequest(a, b);
    env.clock.advance(30 * DAY_S);
    const accepted = await env.api.respond(b, sent.request!.id, true);
    expect(accepted.contact?.state).toBe('FRIEND');
    expect(await storedMessages(env.db, conversationId)).toBe(0);
    expect(await env.api.bodies(a, conversationId)).toEqual([]);
  });
});

describe('R4 block and delete', () => {
  it('a request whose sender then blocks the recipient stays pending for the recipient; accepting it looks like any friendship the other side later blocked', async () => {
    const [a, b, c, d] = names('r4-open-request', 'a', 'b', 'c', 'd');
    // a asks b, then blocks b; control: c asks d, d accepts, then c blocks d.
    const sent = await env.api.sendFriendRequest(a, b);
    await env.api.blockContact(a, b);
    const incoming = await env.api.friendRequests(b, 'INCOMING');
    expect(incoming.map((r) => r.id)).toEqual([sent.request!.id]);
    expect(incoming[0]).toMatchObject({ status: 'PENDING', from: { id: a } });

    const accepted = await env.api.respond(b, sent.request!.id, true);
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.contact?.state).toBe('FRIEND');
    const control = await env.api.befriend(c, d);
    await env.api.blockContact(c, d);

    const conversation = accepted.contact!.conversation.id;
    expect((await env.api.sendMessage(b, conversation, 'hi')).userErrors.map((e) => e.code)).toEqual([
      'VERIFICATION_REQUIRED',
    ]);
    expect((await env.api.sendMessage(d, control, 'hi')).userErrors.map((e) => e.code)).toEqual([
      'VERIFICATION_REQUIRED',
    ]);
    expect((await env.api.retention(b, conversation)).state).toBe('ACTIVE');
    // The blocker's block stands, hiding what it hid (no friendship: a never had b).
    expect(await env.api.contact(a, b)).toMatchObject({ state: 'BLOCKED_BY_ME' });
    const back = await env.api.unblockContact(a, b);
    expect(back.contact).toBeNull();
    expect(await env.api.contact(b, a)).toMatchObject({ state: 'FRIEND' });
  });

  it('block and delete purges at once, in the same transaction, and is not restorable', async () => {
    const [a, b] = names('r4-purge', 'a', 'b');
    const conversationId = await friendsWithHistory(a, b);
    const r = await env.api.blockContact(a, b, true);
    expect(r.userErrors).toEqual([]);
    expect(r.contact?.state).toBe('BLOCKED_BY_ME');
    expect(r.retention).toMatchObject({
      state: 'PURGED',
      purgedAt: now(),
      purgeAt: null,
      restorable: false,
      reason: 'R4',
      visibleMessages: 0, // counted inside the mutation's transaction
    });
    expect(await storedMessages(env.db, conversationId)).toBe(0);
    expect(await env.api.bodies(a, conversationId)).toEqual([]);
    expect(await env.api.bodies(b, conversationId)).toEqual([]);
    // Not restorable: unblocking and re-adding brings back the friendship, not the history.
    expect(codes(await env.api.unblockContact(a, b))).toEqual([]);
    expect(await env.api.sendFriendRequest(a, b)).toMatchObject({
      request: { status: 'ACCEPTED' },
      userErrors: [],
    });
    expect(await env.api.bodies(a, conversationId)).toEqual([]);
  });

  it('block alone keeps the history and stops messages both ways', async () => {
    const [a, b] = names('r4-block', 'a', 'b');
    const conversationId = await friendsWithHistory(a, b);
    const bNotices = await env.api.notices(b);
    const r = await env.api.blockContact(a, b);
    expect(r.contact?.state).toBe('BLOCKED_BY_ME');
    expect(r.retention).toMatchObject({ state: 'BLOCKED', reason: 'R4', purgeAt: null, visibleMessages: 3 });
    expect(codes(await env.api.sendMessage(a, conversationId, 'x'))).toEqual(['FORBIDDEN']);
    expect(codes(await env.api.sendMessage(b, conversationId, 'x'))).toEqual(['VERIFICATION_REQUIRED']);
    expect(await env.api.bodies(a, conversationId)).toEqual(['three', 'two', 'one']);
    expect(await env.api.bodies(b, conversationId)).toEqual(['three', 'two', 'one']);
    expect(await env.api.contact(b, a)).toMatchObject({ state: 'FRIEND' });
    expect(await env.api.notices(b)).toEqual(bNotices);
  });

  it('unblock restores messaging as it was', async () => {
    const [a, b] = names('r4-unblock', 'a', 'b');
    const conversationId = await friendsWithHistory(a, b);
    await env.api.blockContact(a, b);
    expect(codes(await env.api.blockContact(a, b))).toEqual(['ALREADY_EXISTS']);
    const r = await env.api.unblockContact(a, b);
    expect(r).toMatchObject({ contact: { state: 'FRIEND' }, userErrors: [] });
    await env.api.say(a, conversationId, 'back');
    await env.api.say(b, conversationId, 'welcome back');
    expect(await env.api.bodies(a, conversationId)).toEqual(['welcome back', 'back', 'three', 'two', 'one']);
    expect(codes(await env.api.unblockContact(a, b))).toEqual(['NOT_FOUND']);
  });
});

describe('R5 proof of mutual deletion', () => {
  const key = async () =>
    (
      await env.api.gql<{ deletionProofKey: Record<string, string> }>(
        'r5-anyone',
        '{ deletionProofKey { kty crv x y kid alg use } }',
      )
    ).deletionProofKey;

  it('a proof verifies offline with the published key and names both parties, state, since, purgeAt', async () => {
    const [a, b] = names('r5-proof', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    await env.api.deleteContact(a, b);
    const since = now();
    await env.api.deleteContact(b, a);
    env.clock.advance(DAY_S);
    const r = await env.api.requestDeletionProof(a, b);
    expect(r.userErrors).toEqual([]);
    const jwk = await key();
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    const publicKey = await importJWK(jwk, 'ES256');
    const { payload, protectedHeader } = await jwtVerify(r.proof!, publicKey, { issuer: 'ties' });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: jwk.kid });
    expect(payload).toMatchObject({
      iss: 'ties',
      typ: 'deletion-proof',
      parties: [a, b].sort(),
      requestedBy: a,
      conversationId,
      state: 'MUTUALLY_DELETED',
      since,
      purgeAt: new Date(new Date(since).getTime() + 30 * DAY_S * 1000).toISOString(),
      issuedAt: now(),
    });
    expect(payload.purgedAt).toBeUndefined();
    // The other party gets its own proof: the same facts, requested by b, checked as strictly (a
    // proof naming the wrong requester, conversation or state must fail here, not just verify).
    const theirs = await env.api.requestDeletionProof(b, a);
    expect(theirs.userErrors).toEqual([]);
    const their = await jwtVerify(theirs.proof!, publicKey, { issuer: 'ties' });
    expect(their.protectedHeader).toMatchObject({ alg: 'ES256', kid: jwk.kid });
    expect(their.payload).toMatchObject({
      iss: 'ties',
      typ: 'deletion-proof',
      parties: [a, b].sort(),
      requestedBy: b,
      conversationId,
      state: 'MUTUALLY_DELETED',
      since,
      purgeAt: new Date(new Date(since).getTime() + 30 * DAY_S * 1000).toISOString(),
      issuedAt: now(),
    });
    expect(their.payload.purgedAt).toBeUndefined();
  });

  it('after the purge the proof states PURGED with purgedAt', async () => {
    const [a, b] = names('r5-purged', 'a', 'b');
    await env.api.befriend(a, b);
    await env.api.deleteContact(a, b);
    await env.api.deleteContact(b, a);
    env.clock.advance(30 * DAY_S);
    await env.api.sweep();
    const purgedAt = now();
    const r = await env.api.requestDeletionProof(b, a);
    const { payload } = await jwtVerify(r.proof!, await importJWK(await key(), 'ES256'));
    expect(payload).toMatchObject({ state: 'PURGED', purgedAt, parties: [a, b].sort(), requestedBy: b });
    expect(payload.purgeAt).toBeUndefined();
  });

  it('an edited proof fails verification', async () => {
    const [a, b] = names('r5-edit', 'a', 'b');
    await env.api.befriend(a, b);
    await env.api.deleteContact(a, b);
    await env.api.deleteContact(b, a);
    const { proof } = await env.api.requestDeletionProof(a, b);
    const [header, body, signature] = proof!.split('.') as [string, string, string];
    const i = Math.floor(body.length / 2);
    const edited = `${header}.${body.slice(0, i)}${body[i] === 'A' ? 'B' : 'A'}${body.slice(i + 1)}.${signature}`;
    expect(edited).not.toBe(proof);
    const publicKey = await importJWK(await key(), 'ES256');
    await expect(compactVerify(proof!, publicKey)).resolves.toBeDefined();
    await expect(compactVerify(edited, publicKey)).rejects.toThrow();
  });

  it('non-mutual pairs are refused FORBIDDEN, the same for the deleter, the silently deleted party, friends and strangers', async () => {
    const [a, b, c, d, s] = names('r5-refused', 'a', 'b', 'c', 'd', 's');
    await env.api.befriend(a, b);
    await env.api.befriend(c, d);
    await env.api.token(s);
    await env.api.deleteContact(a, b);
    const refusals = [
      await env.api.requestDeletionProof(a, b),
      await env.api.requestDeletionProof(b, a),
      await env.api.requestDeletionProof(c, d),
      await env.api.requestDeletionProof(c, s),
    ];
    for (const r of refusals) {
      expect(r).toEqual({ proof: null, userErrors: [refusals[2]!.userErrors[0]] });
      expect(codes(r)).toEqual(['FORBIDDEN']);
    }
  });
});

describe('R6 deletion notice level', () => {
  const SUB = `subscription($after: String) { notices(after: $after) { ${NOTICE_FIELDS} } }`;

  it('NOTIFY sends ContactRemovedYou to the peer at once', async () => {
    const [a, b] = names('r6-notify', 'a', 'b');
    await env.api.befriend(a, b);
    const { endCursor } = await env.api.notices(b);
    const sub = collect<{ notices: Notice }>(env.server.ws(await env.api.token(b)), SUB, {
      after: endCursor,
    });
    await env.server.waitForStreams(1);
    const r = await env.api.deleteContact(a, b, 'NOTIFY');
    expect(r.contact?.state).toBe('DELETED_BY_ME');
    const [first] = await sub.take(1);
    expect(first?.data?.notices).toMatchObject({ __typename: 'ContactRemovedYou', byUserId: a, at: now() });
    sub.dispose();
    expect(kinds((await env.api.notices(b)).notices).filter((k) => k === 'ContactRemovedYou')).toHaveLength(
      1,
    );
  });

  it('SILENT sends nothing: the next notice the peer receives is an unrelated one', async () => {
    const [a, b, s] = names('r6-silent', 'a', 'b', 's');
    await env.api.befriend(a, b);
    const before = await env.api.notices(b);
    const sub = collect<{ notices: Notice }>(env.server.ws(await env.api.token(b)), SUB, {
      after: before.endCursor,
    });
    await env.server.waitForStreams(1);
    await env.api.deleteContact(a, b); // SILENT is the default
    await env.api.deleteContact(a, b).then((r) => expect(codes(r)).toEqual(['NOT_FRIENDS']));
    const sentinel = await env.api.sendFriendRequest(s, b);
    const [first] = await sub.take(1);
    expect(first?.data?.notices).toMatchObject({
      __typename: 'FriendRequestReceived',
      requestId: sentinel.request!.id,
    });
    sub.dispose();
    const after = await env.api.notices(b);
    expect(after.notices.slice(0, before.notices.length)).toEqual(before.notices);
    expect(kinds(after.notices.slice(before.notices.length))).toEqual(['FriendRequestReceived']);
  });
});

describe('R8 preview', () => {
  const act: Record<Action, (a: string, b: string) => Promise<PairChange>> = {
    DELETE: (a, b) => env.api.deleteContact(a, b),
    BLOCK: (a, b) => env.api.blockContact(a, b),
    BLOCK_AND_DELETE: (a, b) => env.api.blockContact(a, b, true),
  };
  const actions = Object.keys(act) as Action[];
  /** Where the viewer `a` stands before the action (set up over the API). */
  const before: Record<string, (a: string, b: string) => Promise<void>> = {
    friends: async (a, b) => void (await friendsWithHistory(a, b)),
    'one-way deleted by the viewer': async (a, b) => {
      await friendsWithHistory(a, b);
      await env.api.deleteContact(a, b);
    },
    'mutually deleted': async (a, b) => {
      await friendsWithHistory(a, b);
      await env.api.deleteContact(a, b);
      await env.api.deleteContact(b, a);
    },
    'blocked by the viewer': async (a, b) => {
      await friendsWithHistory(a, b);
      await env.api.blockContact(a, b);
    },
    strangers: async (a, b) => {
      await env.api.token(a);
      await env.api.token(b);
    },
  };
  const matrix = Object.keys(before).flatMap((situation) =>
    actions.map((action) => [situation, action] as const),
  );

  it.each(matrix)('%s: the %s preview equals what the action then does', async (situation, action) => {
    const [a, b] = names(`r8-${situation.replaceAll(' ', '-')}-${action}`, 'a', 'b');
    await before[situation]!(a, b);
    const stateBefore = (await env.api.contact(a, b))?.state ?? null;
    const p = await env.api.preview(a, b, action);
    expect(p).toMatchObject({ action, stateBefore });
    const r = await act[action](a, b);
    if (!p.allowed) {
      expect(codes(r)).toEqual([p.refusal]);
      expect(p.stateAfter).toBe(stateBefore);
      expect((await env.api.contact(a, b))?.state ?? null).toBe(stateBefore);
      return;
    }
    expect(r.userErrors).toEqual([]);
    expect(p.stateAfter).toBe(r.contact?.state);
    expect(p.retentionStateAfter).toBe(r.retention?.state);
    // BLOCK_AND_DELETE purges now: the preview's purgeAt is the purge's instant.
    expect(p.purgeAt).toBe(action === 'BLOCK_AND_DELETE' ? r.retention?.purgedAt : r.retention?.purgeAt);
    expect(p.restorable).toBe(r.retention?.restorable);
    if (action === 'BLOCK_AND_DELETE') expect(p.messagesPurged).toBe(situation === 'strangers' ? 0 : 3);
    else expect(p.messagesPurged).toBe(0);
  });

  it('a DELETE preview of a peer who deleted you already equals the action only once you delete: then both see MUTUALLY_DELETED', async () => {
    const [a, b] = names('r8-mutual', 'a', 'b');
    await friendsWithHistory(a, b);
    await env.api.deleteContact(b, a);
    // a may not learn b's deletion by asking: the preview reads as for a peer who did nothing.
    expect(await env.api.preview(a, b, 'DELETE')).toMatchObject({
      stateAfter: 'DELETED_BY_ME',
      retentionStateAfter: 'ONE_WAY_DELETED',
      purgeAt: null,
      restorable: true,
    });
    const r = await env.api.deleteContact(a, b);
    expect(r.contact?.state).toBe('MUTUALLY_DELETED');
    expect(r.retention).toMatchObject({ state: 'BUFFERED', purgeAt: inDays(30), restorable: true });
  });

  it('a preview changes nothing: states, retention and notices of both sides are as before', async () => {
    const [a, b] = names('r8-nothing', 'a', 'b');
    const conversationId = await friendsWithHistory(a, b);
    const snapshot = async () => ({
      aContact: await env.api.contact(a, b),
      bContact: await env.api.contact(b, a),
      aRetention: await env.api.retention(a, conversationId),
      bRetention: await env.api.retention(b, conversationId),
      aNotices: await env.api.notices(a),
      bNotices: await env.api.notices(b),
      stored: await storedMessages(env.db, conversationId),
    });
    const before = await snapshot();
    for (const action of actions) {
      await env.api.preview(a, b, action);
      await env.api.preview(b, a, action);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('a refused action previews as refused: DELETE of a stranger is NOT_FRIENDS; an unknown user is NOT_FOUND', async () => {
    const [a, s] = names('r8-refused', 'a', 's');
    await env.api.token(s);
    expect(await env.api.preview(a, s, 'DELETE')).toMatchObject({
      allowed: false,
      refusal: 'NOT_FRIENDS',
      stateBefore: null,
      stateAfter: null,
    });
    const r = await env.api.raw(
      a,
      '{ deletionPreview(userId: "nobody-ever-seen", action: DELETE) { allowed } }',
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
