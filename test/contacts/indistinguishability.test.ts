// R2 and N3: the party that a peer silently deleted, or blocked, sees exactly what the party of a
// control pair sees, where nothing happened — by every query, every refused mutation, and the notice
// stream. The one difference is sending a message, and that refusal is the same for both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.js';
import {
  CONTACT,
  MESSAGE,
  NOTICE_FIELDS,
  type Notice,
  PREVIEW,
  REQUEST,
  RETENTION,
  USER_ERRORS,
} from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { collect } from '../support/server.js';

const HOUR_S = 60 * 60;
const DAY_S = 24 * HOUR_S;

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv({ config: { limits: { ...DEFAULT_LIMITS, maxCost: 20_000 } } });
  // The comparison reads every field of the pair at once (cost ~6,100): above the default limit of 5,000.
});
afterAll(() => env?.close());

/** One pair: `a` may act on `b`; `s` is a stranger whose request to `b` marks the end of a stream. */
interface Pair {
  a: string;
  b: string;
  s: string;
  conversationId: string;
}

const PAGE = 'pageInfo { hasNextPage endCursor }';
const MESSAGES = `messages(first: 10) { edges { cursor node { ${MESSAGE} } } ${PAGE} }`;
const CONVERSATION = `id kind peer { id name } retention { ${RETENTION} } ${MESSAGES}`;
const FULL_CONTACT = CONTACT.replace(
  'conversation { id kind peer { id } }',
  `conversation { ${CONVERSATION} }`,
);

/** Everything `b` can read about its pair, in one query. */
const VIEW = `query View($peer: ID!, $conversationId: ID!) {
  me { id name }
  contact(userId: $peer) { ${FULL_CONTACT} }
  contacts(first: 10) { edges { cursor node { ${FULL_CONTACT} } } ${PAGE} }
  conversation(id: $conversationId) { ${CONVERSATION} }
  conversations(first: 10) { edges { cursor node { ${CONVERSATION} } } ${PAGE} }
  retentionStatus(conversationId: $conversationId) { ${RETENTION} }
  messages(conversationId: $conversationId, first: 10) { edges { cursor node { ${MESSAGE} } } ${PAGE} }
  previewDelete: deletionPreview(userId: $peer, action: DELETE) { ${PREVIEW} }
  previewBlock: deletionPreview(userId: $peer, action: BLOCK) { ${PREVIEW} }
  previewBlockAndDelete: deletionPreview(userId: $peer, action: BLOCK_AND_DELETE) { ${PREVIEW} }
  incoming: friendRequests(direction: INCOMING, first: 10) { edges { cursor node { ${REQUEST} } } ${PAGE} }
  outgoing: friendRequests(direction: OUTGOING, first: 10) { edges { cursor node { ${REQUEST} } } ${PAGE} }
  notices(first: 100) { edges { cursor node { ${NOTICE_FIELDS} } } ${PAGE} }
}`;

/** Mutations `b` may try that are refused whatever happened (they change nothing). */
const REFUSED = `mutation Refused($peer: ID!) {
  requestDeletionProof(input: { userId: $peer }) { proof ${USER_ERRORS} }
  sendFriendRequest(input: { userId: $peer }) { request { id } contact { state } ${USER_ERRORS} }
  unblockContact(input: { userId: $peer }) { contact { state } ${USER_ERRORS} }
}`;

const SUBSCRIPTION = `subscription($after: String) { notices(after: $after) { ${NOTICE_FIELDS} } }`;

/**
 * Replaces the pair's user ids by their roles and every other id or cursor by its order of first
 * appearance, so two pairs' answers compare equal iff they have the same shape. All pairs live
 * through the same instants (one manual clock), so instants are compared as they are — stricter than
 * normalising them.
 */
function normalise(value: unknown, p: Pair): unknown {
  const roles = new Map([
    [p.a, '<a>'],
    [p.b, '<b>'],
    [p.s, '<s>'],
  ]);
  const ids = new Map<string, string>();
  const ID_KEYS = new Set(['id', 'cursor', 'endCursor', 'requestId', 'messageId', 'conversationId']);
  const walk = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (typeof v !== 'string') return v;
    const role = roles.get(v);
    if (role) return role;
    if (key && ID_KEYS.has(key)) {
      if (!ids.has(v)) ids.set(v, `<id${ids.size + 1}>`);
      return ids.get(v);
    }
    return v;
  };
  return walk(value);
}

async function viewOf(p: Pair) {
  await env.api.notices(p.b); // waits until every committed notice of b is final, so the query shows it
  const vars = { peer: p.a, conversationId: p.conversationId };
  return env.api.gql(p.b, VIEW, vars);
}

describe('R2 a deleted or blocked party cannot tell', () => {
  const pairs: Record<'deleted' | 'blocked' | 'control', Pair> = {} as never;
  const views: Record<string, unknown> = {};
  const streams: Record<string, { live: unknown; replay: unknown }> = {};
  const refusals: Record<string, unknown> = {};

  beforeAll(async () => {
    // The same history for three pairs, at the same instants.
    for (const name of ['deleted', 'blocked', 'control'] as const) {
      const [a, b, s] = [`${name}-a`, `${name}-b`, `${name}-s`];
      await env.api.token(s);
      const conversationId = await env.api.befriend(a, b);
      await env.api.say(a, conversationId, 'hello');
      await env.api.say(b, conversationId, 'hi there');
      pairs[name] = { a, b, s, conversationId };
    }
    env.clock.advance(DAY_S);
    const cursors: Record<string, string> = {};
    const live: Record<string, ReturnType<typeof collect<{ notices: Notice }>>> = {};
    for (const [name, p] of Object.entries(pairs)) {
      cursors[name] = (await env.api.notices(p.b)).endCursor;
      live[name] = collect<{ notices: Notice }>(env.server.ws(await env.api.token(p.b)), SUBSCRIPTION, {
        after: cursors[name],
      });
    }
    await env.server.waitForStreams(3);
    // What happens: a silently deletes b; a blocks b; nothing.
    expect((await env.api.deleteContact(pairs.deleted.a, pairs.deleted.b)).userErrors).toEqual([]);
    expect((await env.api.blockContact(pairs.blocked.a, pairs.blocked.b)).userErrors).toEqual([]);
    env.clock.advance(HOUR_S);
    // A stranger's request marks the end of each b's stream: whatever b was told came before it.
    for (const p of Object.values(pairs)) await env.api.sendFriendRequest(p.s, p.b, 'sentinel');
    for (const [name, p] of Object.entries(pairs)) {
      const replay = collect<{ notices: Notice }>(env.server.ws(await env.api.token(p.b)), SUBSCRIPTION, {
        after: cursors[name],
      });
      streams[name] = {
        live: normalise(await live[name]!.take(1), p),
        replay: normalise(await replay.take(1), p),
      };
      live[name]!.dispose();
      replay.dispose();
      views[name] = normalise(await viewOf(p), p);
      refusals[name] = normalise(await env.api.gql(p.b, REFUSED, { peer: p.a }), p);
    }
  });

  it('everything b can query is what a control b sees: contact, contacts, conversations, retention, messages, previews, requests, notices', () => {
    expect(views.deleted).toEqual(views.control);
    expect(views.blocked).toEqual(views.control);
    // The control view is what a friend sees: a FRIEND, ACTIVE, both messages, previews as for a friend.
    expect(views.control).toMatchObject({
      contact: {
        state: 'FRIEND',
        conversation: { retention: { state: 'ACTIVE', reason: 'T1', holds: null } },
      },
      retentionStatus: { state: 'ACTIVE', visibleMessages: 2 },
      previewDelete: { allowed: true, stateAfter: 'DELETED_BY_ME', retentionStateAfter: 'ONE_WAY_DELETED' },
      incoming: { edges: [{ node: { greeting: 'sentinel' } }] },
    });
  });

  it('b’s notice stream, live and replayed, holds nothing about it: the next notice is the stranger’s request', () => {
    for (const name of ['deleted', 'blocked', 'control']) {
      expect(streams[name]).toEqual(streams.control);
      expect(streams[name]!.live).toMatchObject([
        {
          data: { notices: { __typename: 'FriendRequestReceived', fromUserId: '<s>', greeting: 'sentinel' } },
        },
      ]);
      expect(streams[name]!.replay).toEqual(streams[name]!.live);
    }
  });

  it('the mutations b may try that change nothing are refused the same way (proof, request, unblock)', () => {
    expect(refusals.deleted).toEqual(refusals.control);
    expect(refusals.blocked).toEqual(refusals.control);
    expect(refusals.control).toMatchObject({
      requestDeletionProof: { proof: null, userErrors: [{ code: 'FORBIDDEN' }] },
      sendFriendRequest: { request: null, userErrors: [{ code: 'ALREADY_EXISTS' }] },
      unblockContact: { contact: null, userErrors: [{ code: 'NOT_FOUND' }] },
    });
  });

  it('the only difference is sending: refused with one identical VERIFICATION_REQUIRED payload for deleted and blocked', async () => {
    const send = (p: Pair) => env.api.sendMessage(p.b, p.conversationId, 'still there?');
    const deleted = await send(pairs.deleted);
    const blocked = await send(pairs.blocked);
    expect(deleted).toEqual(blocked);
    expect(deleted).toEqual({
      message: null,
      userErrors: [
        {
          code: 'VERIFICATION_REQUIRED',
          message: deleted.userErrors[0]!.message,
          field: ['input', 'conversationId'],
        },
      ],
    });
    // The refusal changed nothing b can see.
    expect(normalise(await viewOf(pairs.deleted), pairs.deleted)).toEqual(views.control);
    expect(normalise(await viewOf(pairs.blocked), pairs.blocked)).toEqual(views.control);
    const control = await send(pairs.control);
    expect(control.userErrors).toEqual([]);
    expect(control.message?.body).toBe('still there?');
  });
});
