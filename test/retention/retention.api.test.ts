// T4/T5 over the API: the retention status of a direct conversation, always from the viewer's view,
// and the sweep (operator only, idempotent, never early).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names, type Retention, storedMessages } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';

const DAY_S = 24 * 60 * 60;

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

const now = () => env.clock.now().toISOString();
const inDays = (days: number) => new Date(env.clock.now().getTime() + days * DAY_S * 1000).toISOString();

/** The status every friend sees: ACTIVE by T1, nothing scheduled. */
const active = (conversationId: string, visibleMessages: number): Retention => ({
  conversationId,
  state: 'ACTIVE',
  period: 'FOREVER',
  nextExpiryAt: null,
  purgeAt: null,
  purgedAt: null,
  restorable: false,
  restorableUntil: null,
  reason: 'T1',
  visibleMessages,
  holds: null,
});

async function friendsWithHistory(a: string, b: string): Promise<string> {
  const conversationId = await env.api.befriend(a, b);
  await env.api.say(a, conversationId, 'one', 'two');
  await env.api.say(b, conversationId, 'three');
  return conversationId;
}

describe('T4 retention status, from the viewer’s view', () => {
  it('friends both see ACTIVE (T1) with every message visible', async () => {
    const [a, b] = names('t4-active', 'a', 'b');
    const id = await friendsWithHistory(a, b);
    expect(await env.api.retention(a, id)).toEqual(active(id, 3));
    expect(await env.api.retention(b, id)).toEqual(active(id, 3));
  });

  it('after a one-way delete the deleter sees ONE_WAY_DELETED (R2, restorable, no deadline); the peer still sees ACTIVE', async () => {
    const [a, b] = names('t4-oneway', 'a', 'b');
    const id = await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    expect(await env.api.retention(a, id)).toEqual({
      ...active(id, 3),
      state: 'ONE_WAY_DELETED',
      restorable: true,
      reason: 'R2',
    });
    expect(await env.api.retention(b, id)).toEqual(active(id, 3));
  });

  it('a mutual delete is BUFFERED for both (R3) until purgeAt, then PURGED for both after the sweep', async () => {
    const [a, b] = names('t4-buffered', 'a', 'b');
    const id = await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    await env.api.deleteContact(b, a);
    const purgeAt = inDays(30);
    const buffered = {
      ...active(id, 3),
      state: 'BUFFERED',
      purgeAt,
      restorable: true,
      restorableUntil: purgeAt,
      reason: 'R3',
    };
    expect(await env.api.retention(a, id)).toEqual(buffered);
    expect(await env.api.retention(b, id)).toEqual(buffered);
    env.clock.advance(30 * DAY_S);
    await env.api.sweep();
    const purged = { ...active(id, 0), state: 'PURGED', purgedAt: purgeAt, reason: 'R3' };
    expect(await env.api.retention(a, id)).toEqual(purged);
    expect(await env.api.retention(b, id)).toEqual(purged);
  });

  it('a block is BLOCKED (R4, history kept) for the blocker; the blocked party sees ACTIVE', async () => {
    const [a, b] = names('t4-blocked', 'a', 'b');
    const id = await friendsWithHistory(a, b);
    await env.api.blockContact(a, b);
    expect(await env.api.retention(a, id)).toEqual({
      ...active(id, 3),
      state: 'BLOCKED',
      restorable: true,
      reason: 'R4',
    });
    expect(await env.api.retention(b, id)).toEqual(active(id, 3));
  });

  it('block and delete is PURGED (R4, not restorable) for the blocker at once; the blocked party sees ACTIVE, emptied', async () => {
    const [a, b] = names('t4-purged-r4', 'a', 'b');
    const id = await friendsWithHistory(a, b);
    await env.api.blockContact(a, b, true);
    expect(await env.api.retention(a, id)).toEqual({
      ...active(id, 0),
      state: 'PURGED',
      purgedAt: now(),
      reason: 'R4',
    });
    expect(await env.api.retention(b, id)).toEqual(active(id, 0));
  });

  it('Conversation.retention is the same status as retentionStatus', async () => {
    const [a, b] = names('t4-field', 'a', 'b');
    const id = await friendsWithHistory(a, b);
    await env.api.deleteContact(b, a);
    for (const who of [a, b]) {
      const r = await env.api.gql<{ conversation: { retention: Retention } }>(
        who,
        `query($id: ID!) { conversation(id: $id) { retention {
          conversationId state period nextExpiryAt purgeAt purgedAt restorable restorableUntil reason visibleMessages holds { id reason placedAt } } } }`,
        { id },
      );
      expect(r.conversation.retention).toEqual(await env.api.retention(who, id));
    }
  });

  it('holds are null for ordinary users and a list for operators (T3)', async () => {
    const [u] = names('t4-holds', 'u');
    const operator = 't4-holds-operator';
    await env.api.token(operator, { operator: true });
    await env.api.token(u);
    // The operator befriends u with their operator token.
    const sent = await env.api.gql<{ sendFriendRequest: { request: { id: string } } }>(
      u,
      'mutation($id: ID!) { sendFriendRequest(input: { userId: $id }) { request { id } } }',
      { id: operator },
    );
    const opToken = await env.api.token(operator, { operator: true });
    const accepted = await env.server.http<{
      respondToFriendRequest: { contact: { conversation: { id: string } } };
    }>(
      'mutation($id: ID!) { respondToFriendRequest(input: { requestId: $id, accept: true }) { contact { conversation { id } } } }',
      { id: sent.sendFriendRequest.request.id },
      opToken,
    );
    const id = accepted.data!.respondToFriendRequest.contact.conversation.id;
    const q = 'query($id: ID!) { retentionStatus(conversationId: $id) { holds { id } } }';
    expect((await env.server.http(q, { id }, opToken)).data).toEqual({ retentionStatus: { holds: [] } });
    expect(await env.api.gql(u, q, { id })).toEqual({ retentionStatus: { holds: null } });
  });

  it('a conversation the viewer is not a party of is NOT_FOUND', async () => {
    const [a, b, c] = names('t4-outsider', 'a', 'b', 'c');
    const id = await friendsWithHistory(a, b);
    await env.api.token(c);
    const r = await env.api.raw(c, 'query($id: ID!) { retentionStatus(conversationId: $id) { state } }', {
      id,
    });
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });
});

describe('T5 sweep', () => {
  it('purges nothing before purgeAt, purges at purgeAt, and a second run purges nothing', async () => {
    await env.api.sweep(); // whatever earlier tests left due
    const [a, b] = names('t5-sweep', 'a', 'b');
    const id = await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    await env.api.deleteContact(b, a);
    const purgeAt = inDays(30);
    env.clock.advance(30 * DAY_S - 1);
    expect((await env.api.sweep()).run).toMatchObject({
      purgedMessages: 0,
      purgedConversations: 0,
      purgedFiles: 0,
    });
    expect(await storedMessages(env.db, id)).toBe(3);
    expect(await env.api.retention(a, id)).toMatchObject({ state: 'BUFFERED', restorable: true });
    env.clock.advance(1);
    expect(now()).toBe(purgeAt);
    expect((await env.api.sweep()).run).toMatchObject({
      purgedMessages: 3,
      purgedConversations: 1,
      purgedFiles: 0,
    });
    expect(await storedMessages(env.db, id)).toBe(0);
    expect((await env.api.sweep()).run).toMatchObject({
      purgedMessages: 0,
      purgedConversations: 0,
      purgedFiles: 0,
    });
    expect(await env.api.retention(b, id)).toMatchObject({ state: 'PURGED', purgedAt: purgeAt });
  });

  it('at purgeAt the history reads PURGED and shows no message even before the sweeper deletes the rows (R3)', async () => {
    const [a, b] = names('t5-due', 'a', 'b');
    const id = await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    await env.api.deleteContact(b, a);
    const purgeAt = inDays(30);
    env.clock.advance(30 * DAY_S);
    expect(await storedMessages(env.db, id)).toBe(3); // not swept yet
    for (const viewer of [a, b]) {
      expect(await env.api.retention(viewer, id)).toMatchObject({
        state: 'PURGED',
        purgedAt: purgeAt,
        restorable: false,
        visibleMessages: 0,
        reason: 'R3',
      });
      const page = await env.api.gql<{ messages: { edges: unknown[] } }>(
        viewer,
        'query($id: ID!) { messages(conversationId: $id) { edges { node { id } } } }',
        { id },
      );
      expect(page.messages.edges).toEqual([]);
    }
    await env.api.sweep();
    expect(await storedMessages(env.db, id)).toBe(0);
    expect(await env.api.retention(a, id)).toMatchObject({ state: 'PURGED', purgedAt: purgeAt });
  });

  it('is refused FORBIDDEN for non-operators and then purges nothing', async () => {
    const [a, b] = names('t5-forbidden', 'a', 'b');
    const id = await friendsWithHistory(a, b);
    await env.api.deleteContact(a, b);
    await env.api.deleteContact(b, a);
    env.clock.advance(31 * DAY_S);
    const r = await env.api.gql<{ runRetentionSweep: unknown }>(
      a,
      'mutation { runRetentionSweep { run { purgedMessages } userErrors { code message field } } }',
    );
    expect(r.runRetentionSweep).toMatchObject({ run: null, userErrors: [{ code: 'FORBIDDEN' }] });
    expect(await storedMessages(env.db, id)).toBe(3);
    const anonymous = await env.server.http('mutation { runRetentionSweep { run { purgedMessages } } }');
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect((await env.api.sweep()).run?.purgedConversations).toBe(1);
  });
});
