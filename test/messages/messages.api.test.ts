// Direct messages over the API: validation, newest-first Relay pages, party-only access, notices.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, MESSAGE, NOTICE_FIELDS, type Notice, names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { collect } from '../support/server.js';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

const codes = (r: { userErrors: { code: string }[] }) => r.userErrors.map((e) => e.code);

describe('sendMessage', () => {
  it('sends a message of 1 to 10,000 characters, stamped with the server clock and its sender', async () => {
    const [a, b] = names('send-ok', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    env.clock.advance(60);
    const r = await env.api.sendMessage(a, conversationId, 'hello');
    expect(r.userErrors).toEqual([]);
    expect(r.message).toEqual({
      id: r.message!.id,
      conversationId,
      sender: { id: a },
      body: 'hello',
      sentAt: env.clock.now().toISOString(),
      starred: false,
    });
    expect((await env.api.sendMessage(b, conversationId, 'x')).userErrors).toEqual([]);
    expect((await env.api.sendMessage(b, conversationId, 'y'.repeat(10_000))).userErrors).toEqual([]);
  });

  it.each([
    ['an empty body', ''],
    ['a body of only spaces', '   \n\t '],
    ['a body over 10,000 characters', 'z'.repeat(10_001)],
  ])('refuses %s with BAD_USER_INPUT on input.body and stores nothing', async (_what, body) => {
    const [a, b] = names(`send-bad-${body.length}`, 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    expect(await env.api.sendMessage(a, conversationId, body)).toEqual({
      message: null,
      userErrors: [{ code: 'BAD_USER_INPUT', message: expect.any(String), field: ['input', 'body'] }],
    });
    expect(await env.api.bodies(a, conversationId)).toEqual([]);
  });

  it('counts characters, not UTF-16 units: 10,000 emoji are accepted, 10,001 refused', async () => {
    const [a, b] = names('send-emoji', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    expect((await env.api.sendMessage(a, conversationId, '🙂'.repeat(10_000))).userErrors).toEqual([]);
    expect(codes(await env.api.sendMessage(a, conversationId, '🙂'.repeat(10_001)))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('refuses a body holding U+0000 with BAD_USER_INPUT, never with a 500', async () => {
    const [a, b] = names('send-nul', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const r = await env.api.raw(
      a,
      `mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } userErrors { code field } } }`,
      {
        i: { conversationId, body: 'a\u0000b' },
      },
    );
    expect(r).toEqual({
      status: 200,
      data: {
        sendMessage: { message: null, userErrors: [{ code: 'BAD_USER_INPUT', field: ['input', 'body'] }] },
      },
    });
  });

  it('refuses a conversation the sender is not a party of, or that does not exist, with NOT_FOUND (a malformed id: BAD_USER_INPUT)', async () => {
    const [a, b, c] = names('send-outsider', 'a', 'b', 'c');
    const conversationId = await env.api.befriend(a, b);
    await env.api.token(c);
    expect(await env.api.sendMessage(c, conversationId, 'let me in')).toMatchObject({
      message: null,
      userErrors: [{ code: 'NOT_FOUND', field: ['input', 'conversationId'] }],
    });
    expect(await env.api.sendMessage(a, 'not-an-id', 'hi')).toMatchObject({
      message: null,
      userErrors: [{ code: 'BAD_USER_INPUT', field: ['input', 'conversationId'] }],
    });
    expect(codes(await env.api.sendMessage(a, '00000000-0000-4000-8000-000000000000', 'hi'))).toEqual([
      'NOT_FOUND',
    ]);
    expect(await env.api.bodies(a, conversationId)).toEqual([]);
  });
});

describe('messages', () => {
  it('lists newest first, in Relay pages: first, after, hasNextPage, endCursor', async () => {
    const [a, b] = names('page', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    await env.api.say(a, conversationId, 'm1', 'm2');
    await env.api.say(b, conversationId, 'm3', 'm4');
    await env.api.say(a, conversationId, 'm5');
    const bodiesOf = (p: Awaited<ReturnType<Api['messages']>>) => p.edges.map((e) => e.node.body);

    const p1 = await env.api.messages(b, conversationId, 2);
    expect(bodiesOf(p1)).toEqual(['m5', 'm4']);
    expect(p1.pageInfo).toEqual({ hasNextPage: true, endCursor: p1.edges[1]!.cursor });
    const p2 = await env.api.messages(b, conversationId, 2, p1.pageInfo.endCursor!);
    expect(bodiesOf(p2)).toEqual(['m3', 'm2']);
    expect(p2.pageInfo.hasNextPage).toBe(true);
    const p3 = await env.api.messages(b, conversationId, 2, p2.pageInfo.endCursor!);
    expect(bodiesOf(p3)).toEqual(['m1']);
    expect(p3.pageInfo).toEqual({ hasNextPage: false, endCursor: p3.edges[0]!.cursor });
    // Any cursor resumes right after its edge; the default page holds them all.
    expect(bodiesOf(await env.api.messages(b, conversationId, 10, p1.edges[0]!.cursor))).toEqual([
      'm4',
      'm3',
      'm2',
      'm1',
    ]);
    expect(bodiesOf(await env.api.messages(a, conversationId))).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
    // The same messages through Conversation.messages.
    const viaConversation = await env.api.gql<{
      conversation: { messages: { edges: { node: { body: string } }[] } };
    }>(a, 'query($id: ID!) { conversation(id: $id) { messages(first: 3) { edges { node { body } } } } }', {
      id: conversationId,
    });
    expect(viaConversation.conversation.messages.edges.map((e) => e.node.body)).toEqual(['m5', 'm4', 'm3']);
  });

  it('refuses first over 100, a negative first and a malformed cursor with BAD_USER_INPUT', async () => {
    const [a, b] = names('page-bad', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const q = `query($id: ID!, $first: Int, $after: String) { messages(conversationId: $id, first: $first, after: $after) {
      edges { node { ${MESSAGE} } } } }`;
    for (const vars of [{ first: 101 }, { first: -1 }, { after: 'not a cursor' }]) {
      const r = await env.api.raw(a, q, { id: conversationId, ...vars });
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('conversations are for their parties only', () => {
  it('a party sees the conversation and its peer; an outsider gets null, NOT_FOUND and an empty list', async () => {
    const [a, b, c] = names('party', 'a', 'b', 'c');
    const conversationId = await env.api.befriend(a, b);
    await env.api.say(a, conversationId, 'private');
    await env.api.token(c);
    const q = `query($id: ID!) { conversation(id: $id) { id kind peer { id } }
      conversations(first: 10) { edges { node { id } } pageInfo { hasNextPage } } }`;
    expect(await env.api.gql(a, q, { id: conversationId })).toEqual({
      conversation: { id: conversationId, kind: 'DIRECT', peer: { id: b } },
      conversations: { edges: [{ node: { id: conversationId } }], pageInfo: { hasNextPage: false } },
    });
    expect(await env.api.gql(b, q, { id: conversationId })).toMatchObject({
      conversation: { id: conversationId, peer: { id: a } },
    });
    expect(await env.api.gql(c, q, { id: conversationId })).toEqual({
      conversation: null,
      conversations: { edges: [], pageInfo: { hasNextPage: false } },
    });
    for (const query of [
      'query($id: ID!) { messages(conversationId: $id) { edges { node { body } } } }',
      'query($id: ID!) { retentionStatus(conversationId: $id) { state } }',
    ]) {
      const r = await env.api.raw(c, query, { id: conversationId });
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(r)).not.toContain('private');
    }
  });

  it('conversations lists the viewer’s conversations newest first, in pages', async () => {
    const [a, b, c, d] = names('list', 'a', 'b', 'c', 'd');
    const ab = await env.api.befriend(a, b);
    env.clock.advance(1);
    const ac = await env.api.befriend(c, a);
    env.clock.advance(1);
    const ad = await env.api.befriend(a, d);
    const q = `query($after: String) { conversations(first: 2, after: $after) {
      edges { node { id peer { id } } } pageInfo { hasNextPage endCursor } } }`;
    const p1 = await env.api.gql<{
      conversations: {
        edges: { node: { id: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    }>(a, q);
    expect(p1.conversations.edges.map((e) => e.node.id)).toEqual([ad, ac]);
    expect(p1.conversations.pageInfo.hasNextPage).toBe(true);
    const p2 = await env.api.gql<{
      conversations: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean } };
    }>(a, q, {
      after: p1.conversations.pageInfo.endCursor,
    });
    expect(p2.conversations.edges.map((e) => e.node.id)).toEqual([ab]);
    expect(p2.conversations.pageInfo.hasNextPage).toBe(false);
  });
});

describe('MessageReceived', () => {
  it('is sent to both parties (the sender’s other devices sync), with the message, and to no one else', async () => {
    const [a, b, c] = names('notice', 'a', 'b', 'c');
    const conversationId = await env.api.befriend(a, b);
    await env.api.token(c);
    const { endCursor } = await env.api.notices(b);
    const sub = collect<{ notices: Notice }>(
      env.server.ws(await env.api.token(b)),
      `subscription($after: String) { notices(after: $after) { ${NOTICE_FIELDS} } }`,
      { after: endCursor },
    );
    await env.server.waitForStreams(1);
    const sent = await env.api.sendMessage(a, conversationId, 'ping');
    const expected = {
      __typename: 'MessageReceived',
      at: env.clock.now().toISOString(),
      conversationId,
      messageId: sent.message!.id,
      senderId: a,
      message: sent.message,
    };
    const [live] = await sub.take(1);
    expect(live?.data?.notices).toMatchObject(expected);
    sub.dispose();
    for (const who of [a, b]) {
      const { notices } = await env.api.notices(who);
      expect(notices.filter((n) => n.__typename === 'MessageReceived')).toEqual([
        { ...expected, cursor: expect.any(String) },
      ]);
    }
    expect((await env.api.notices(c)).notices).toEqual([]);
  });
});
