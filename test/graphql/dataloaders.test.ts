// Per-request DataLoaders: a contacts or conversations page costs the same few statements whatever
// its size, and batching answers exactly what the one-conversation query answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentPg } from '../../bench/instrument.js';
import { type Page, RETENTION, type Retention } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { groupClient } from '../support/groups.js';

const FRIENDS = 50;
const MAX_PAGE_STATEMENTS = 6; // contacts + conversations + retention facts + users, and slack

const viewer = 'dl-viewer';
const friend = (i: number) => `dl-friend-${String(i).padStart(2, '0')}`;

let env: TestEnv;
const counter = instrumentPg();

interface ContactRow {
  state: string;
  user: { id: string; name: string };
  conversation: { id: string; retention: Retention };
}
interface ConversationRow {
  id: string;
  retention: Retention;
}

/** The page documents whose cost is measured, by connection field. */
const PAGES = {
  contacts: `query($first: Int) { contacts(first: $first) { edges { node {
    state user { id name } conversation { id retention { state reason visibleMessages } } } } } }`,
  conversations: `query($first: Int) { conversations(first: $first) { edges { node {
    id retention { state } messages(first: 2) { edges { node { id body } } } } } } }`,
};

/**
 * The notice bus' polls, which run on their own timer and wake-ups: they read the snapshot
 * (`pg_current_snapshot()` in notices.store.ts; `pg_snapshot_xmin` in older versions).
 */
const BUS_POLL = /pg_current_snapshot\(\)|pg_snapshot_xmin/;

/** The statements the server sends while `run` is under way, the notice bus' polls left out. */
async function statementsOf<T>(run: () => Promise<T>): Promise<{ value: T; statements: string[] }> {
  const log: string[] = [];
  counter.log = log;
  try {
    const value = await run();
    return { value, statements: log.filter((text) => !BUS_POLL.test(text)) };
  } finally {
    counter.log = undefined;
  }
}

/** One page of `field` as the viewer, and the statements it cost. */
const page = (field: keyof typeof PAGES, first: number) =>
  statementsOf(
    async () => (await env.api.gql<Record<string, Page<unknown>>>(viewer, PAGES[field], { first }))[field]!,
  );

beforeAll(async () => {
  env = await openTestEnv();
  await env.api.token(viewer);
  const conversationIds: string[] = [];
  for (let i = 0; i < FRIENDS; i++) conversationIds.push(await env.api.befriend(viewer, friend(i)));
  // One pair in each retention state the viewer can see.
  await env.api.deleteContact(viewer, friend(0)); // ONE_WAY_DELETED (R2)
  await env.api.deleteContact(viewer, friend(1));
  await env.api.deleteContact(friend(1), viewer); // BUFFERED (R3)
  await env.api.blockContact(viewer, friend(2)); // BLOCKED (R4)
  await env.api.blockContact(viewer, friend(3), true); // PURGED (R4)
  await env.api.deleteContact(friend(4), viewer); // still ACTIVE for the viewer (R2)
  await env.api.say(viewer, conversationIds[5]!, 'one', 'two');
  await env.api.say(friend(5), conversationIds[5]!, 'three'); // ACTIVE with history
});
afterAll(() => env?.close());

describe('a page costs a fixed number of statements, not one per row', () => {
  it.each(Object.keys(PAGES) as (keyof typeof PAGES)[])(
    '%s(first: 50) sends as many statements as a page of 10, and few',
    async (field) => {
      const ten = await page(field, 10);
      const fifty = await page(field, 50);
      expect(ten.value.edges).toHaveLength(10);
      expect(fifty.value.edges).toHaveLength(FRIENDS);
      const sent = fifty.statements.join('\n');
      expect(fifty.statements.length, sent).toBe(ten.statements.length);
      expect(fifty.statements.length, sent).toBeLessThanOrEqual(MAX_PAGE_STATEMENTS);
    },
  );
});

describe('batching answers what the one-conversation query answers', () => {
  const single = (conversationId: string) => env.api.retention(viewer, conversationId);

  it('every retention status on a contacts page equals retentionStatus(conversationId)', async () => {
    const page = await env.api.gql<{ contacts: Page<ContactRow> }>(
      viewer,
      `{ contacts(first: 100) { edges { node { state user { id name }
        conversation { id retention { ${RETENTION} } } } } } }`,
    );
    const nodes = page.contacts.edges.map((e) => e.node);
    expect(new Set(nodes.map((n) => n.conversation.retention.state))).toEqual(
      new Set(['ACTIVE', 'ONE_WAY_DELETED', 'BUFFERED', 'BLOCKED', 'PURGED']),
    );
    const byPeer = new Map(nodes.map((n) => [n.user.id, n]));
    expect(byPeer.get(friend(0))?.state).toBe('DELETED_BY_ME');
    expect(byPeer.get(friend(1))?.state).toBe('MUTUALLY_DELETED');
    expect(byPeer.get(friend(5))?.conversation.retention.visibleMessages).toBe(3);
    for (const n of nodes) expect(n.conversation.retention).toEqual(await single(n.conversation.id));
  });

  it('every retention status on a conversations page equals retentionStatus(conversationId)', async () => {
    const page = await env.api.gql<{ conversations: Page<ConversationRow> }>(
      viewer,
      `{ conversations(first: 100) { edges { node { id retention { ${RETENTION} } } } } }`,
    );
    const nodes = page.conversations.edges.map((e) => e.node);
    expect(nodes).toHaveLength(FRIENDS);
    for (const n of nodes) expect(n.retention).toEqual(await single(n.id));
  });

  it('every messages page on a conversations page equals messages(conversationId), page after page', async () => {
    const conversationId = (await env.api.befriend(viewer, friend(60)))!;
    await env.api.say(viewer, conversationId, 'm1', 'm2', 'm3', 'm4', 'm5');
    const MESSAGES = 'pageInfo { hasNextPage endCursor } edges { cursor node { id body sender { id } } }';
    const page = await env.api.gql<{
      conversations: Page<{ id: string; messages: Page<unknown> & { pageInfo: unknown } }>;
    }>(viewer, `{ conversations(first: 100) { edges { node { id messages(first: 2) { ${MESSAGES} } } } } }`);
    const nodes = page.conversations.edges.map((e) => e.node);
    const single = async (id: string, after?: string) =>
      (
        await env.api.gql<{ messages: unknown }>(
          viewer,
          `query($id: ID!, $after: String) { messages(conversationId: $id, first: 2, after: $after) { ${MESSAGES} } }`,
          { id, after },
        )
      ).messages;
    for (const n of nodes) expect(n.messages).toEqual(await single(n.id));
    const busy = nodes.find((n) => n.id === conversationId)!;
    expect(busy.messages.edges.map((e) => (e.node as { body: string }).body)).toEqual(['m5', 'm4']);
    // The next page through the batched field, two conversations at once with different cursors.
    const after = (busy.messages.pageInfo as { endCursor: string }).endCursor;
    const other = nodes.find((n) => n.messages.edges.length > 0 && n.id !== conversationId)!;
    const two = await env.api.gql<Record<string, { messages: unknown }>>(
      viewer,
      `query($a: ID!, $b: ID!, $after: String) {
        a: conversation(id: $a) { messages(first: 2, after: $after) { ${MESSAGES} } }
        b: conversation(id: $b) { messages(first: 2) { ${MESSAGES} } } }`,
      { a: conversationId, b: other.id, after },
    );
    expect(two.a!.messages).toEqual(await single(conversationId, after));
    expect((two.a!.messages as Page<{ body: string }>).edges.map((e) => e.node.body)).toEqual(['m3', 'm2']);
    expect(two.b!.messages).toEqual(await single(other.id));
  });

  it('the other side of each pair sees its own view on its page: R2 hides a one-way delete, R3 buffers a mutual one', async () => {
    const pageOf = async (who: string) =>
      (
        await env.api.gql<{ conversations: Page<ConversationRow> }>(
          who,
          `{ conversations(first: 100) { edges { node { id retention { state } } } } }`,
        )
      ).conversations.edges.map((e) => e.node.retention.state);
    expect(await pageOf(friend(0))).toEqual(['ACTIVE']); // the viewer's delete is silent (R2)
    expect(await pageOf(friend(4))).toEqual(['ONE_WAY_DELETED']);
    expect(await pageOf(friend(1))).toEqual(['BUFFERED']);
    expect(await pageOf(friend(2))).toEqual(['ACTIVE']); // a block is invisible to the blocked (R4)
  });

  it('a later mutation of the same operation sees its own change, not an earlier field’s batch', async () => {
    const peer = friend(10);
    const r = await env.api.gql<{
      removed: { contact: { conversation: { retention: { state: string } } } };
      restored: { contact: { conversation: { retention: { state: string } } } };
    }>(
      viewer,
      `mutation($id: ID!) {
        removed: deleteContact(input: { userId: $id }) { contact { conversation { retention { state } } } }
        restored: sendFriendRequest(input: { userId: $id }) { contact { conversation { retention { state } } } }
      }`,
      { id: peer },
    );
    expect(r.removed.contact.conversation.retention.state).toBe('ONE_WAY_DELETED');
    expect(r.restored.contact.conversation.retention.state).toBe('ACTIVE'); // R2: re-adding restores at once
  });
});

describe('groups: a page costs a fixed number of statements too', () => {
  const grouper = 'dl-grouper';
  const GROUP_PAGES = {
    groups: `query($first: Int) { groups(first: $first) { edges { node {
      id name owner { id name } viewerRole memberCount pendingTransfer { id }
      conversation { id retention { state visibleMessages } } } } } }`,
    conversations: `query($first: Int) { conversations(first: $first) { edges { node {
      id kind group { id name } retention { state visibleMessages } } } } }`,
  };

  beforeAll(async () => {
    const groups = groupClient(env.api);
    for (let i = 0; i < FRIENDS; i++) {
      const g = await groups.make(grouper, [friend(i)]);
      if (i % 2 === 0) await groups.transfer(grouper, g.id, friend(i));
      await env.api.say(friend(i), g.conversation.id, `hello ${i}`);
    }
  });

  it.each(Object.keys(GROUP_PAGES) as (keyof typeof GROUP_PAGES)[])(
    '%s(first: 50) of group rows sends as many statements as a page of 10',
    async (field) => {
      const run = (first: number) =>
        statementsOf(
          async () =>
            (
              await env.api.gql<Record<string, Page<{ retention?: Retention }>>>(
                grouper,
                GROUP_PAGES[field],
                {
                  first,
                },
              )
            )[field]!,
        );
      const ten = await run(10);
      const fifty = await run(50);
      expect(fifty.value.edges).toHaveLength(FRIENDS);
      expect(fifty.statements.length, fifty.statements.join('\n')).toBe(ten.statements.length);
      expect(fifty.statements.length, fifty.statements.join('\n')).toBeLessThanOrEqual(8);
    },
  );
});
