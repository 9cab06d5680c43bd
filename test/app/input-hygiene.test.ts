// Input hygiene (API.md Conventions): a cursor or an id argument that cannot be decoded answers
// BAD_USER_INPUT — a top-level error on queries and subscriptions, a `userErrors` entry with its
// `field` on mutations — never INTERNAL_SERVER_ERROR, and changes nothing. A well-formed id that
// names nothing keeps answering NOT_FOUND or null; a real cursor keeps paging.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { collect, type GraphQLResponse } from '../support/server.js';

let env: TestEnv;

const [me, f1, f2, r1, r2] = names('ih', 'me', 'f1', 'f2', 'r1', 'r2');
let conversationId: string;

beforeAll(async () => {
  env = await openTestEnv();
  // Two contacts and two conversations, one second apart; two incoming requests at the same instant
  // (the id breaks the tie); three messages; notices of every one of these for `me`.
  conversationId = await env.api.befriend(me, f1);
  env.clock.advance(1);
  await env.api.befriend(me, f2);
  env.clock.advance(1);
  await env.api.sendFriendRequest(r1, me);
  await env.api.sendFriendRequest(r2, me);
  await env.api.say(me, conversationId, 'm1', 'm2', 'm3');
  await env.api.notices(me); // waits until every notice is final
});
afterAll(() => env?.close());

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const text64 = (s: string) => Buffer.from(s).toString('base64url');
const codesOf = (r: GraphQLResponse) => r.errors?.map((e) => e.extensions?.code) ?? [];
const AN_INSTANT = '2026-01-01T00:00:00.000Z';
const A_UUID = '00000000-0000-4000-8000-000000000000';

/** Cursors no connection ever hands out: every one must be refused by every connection. */
const CRAFTED: [string, string][] = [
  ['strings where an instant and an id belong', b64(['x', 'y'])],
  ['booleans', b64([true, false])],
  ['a date part that is not a date', b64(['not-a-date', A_UUID])],
  ['a date that does not exist', b64(['2026-02-30T00:00:00.000Z', A_UUID])],
  ['a date in year 0, which Postgres lacks', b64(['0000-01-01T00:00:00.000Z', A_UUID])],
  ['a date beyond year 9999', b64(['+275760-09-13T00:00:00.000Z', A_UUID])],
  ['a date without its time', b64(['2026-01-01', A_UUID])],
  ['numbers where strings belong', b64([1, 2])],
  ['an empty id', b64([AN_INSTANT, ''])],
  ['an id of 129 characters', b64([AN_INSTANT, 'x'.repeat(129)])],
  ['an id holding U+0000', b64([AN_INSTANT, 'a\u0000b'])],
  ['a string where a sequence number belongs', b64(['5'])],
  ['a negative sequence number', b64([-1])],
  ['a fractional sequence number', b64([1.5])],
  ['a sequence number past 2^53', b64([2 ** 53])],
  ['a huge number', b64([1e308, -1])],
  ['too many parts', b64([AN_INSTANT, A_UUID, 1])],
  ['an object', b64({ at: AN_INSTANT, id: A_UUID })],
  ['null', b64(null)],
  ['not JSON', text64('not-json')],
  ['not base64url', '%%%'],
];

/** Cursors that only the notice feeds could mistake for theirs. */
const CRAFTED_NOTICE: [string, string][] = [
  ['random base64', 'q83vEjRWeJq83vEjRWeJ'],
  ['a notice id past 2^63 - 1', text64('n1:1:99999999999999999999')],
  ['a notice id of 2^63', text64('n1:1:9223372036854775808')],
  ['a transaction id past 2^64 - 1', text64('n1:99999999999999999999:1')],
  ['a negative part', text64('n1:-1:1')],
  ['too few parts', text64('n1:1')],
  ['too many parts', text64('n1:1:2:3')],
  ['another version', text64('n2:1:1')],
  ['a number that is not decimal', text64('n1:0x10:1')],
];

interface Connection {
  name: string;
  /** The field with its arguments, `first: $first, after: $after` last. */
  field: string;
  /** Extra variable definitions and values. */
  defs?: string;
  vars?: () => Record<string, unknown>;
  /** What identifies a node. */
  node: string;
  /** Only for the UUID-keyed connections. */
  extra?: [string, string][];
}

const PAGE = 'edges { cursor node { %s } } pageInfo { hasNextPage endCursor }';
const CONNECTIONS: Connection[] = [
  { name: 'contacts', field: 'contacts', node: 'user { id }' },
  {
    name: 'conversations',
    field: 'conversations',
    node: 'id',
    extra: [['an id that is not a UUID', b64([AN_INSTANT, 'not-a-uuid'])]],
  },
  {
    name: 'friendRequests(direction: INCOMING)',
    field: 'friendRequests(direction: INCOMING, ',
    node: 'id',
    extra: [['an id that is not a UUID', b64([AN_INSTANT, 'not-a-uuid'])]],
  },
  {
    name: 'messages(conversationId:)',
    field: 'messages(conversationId: $c, ',
    defs: ', $c: ID!',
    vars: () => ({ c: conversationId }),
    node: 'id body',
  },
  { name: 'notices', field: 'notices', node: '__typename cursor', extra: CRAFTED_NOTICE },
];

/** One page of `c` as `me`: the raw response and the connection in it. */
async function page(c: Connection, first: number, after: string | null) {
  const field = c.field.endsWith(', ') ? c.field : `${c.field}(`;
  const query = `query($first: Int, $after: String${c.defs ?? ''}) {
    page: ${field}first: $first, after: $after) { ${PAGE.replace('%s', c.node)} } }`;
  const r = await env.api.raw<{
    page: {
      edges: { cursor: string; node: unknown }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
  }>(me, query, { first, after, ...c.vars?.() });
  return { r, page: r.data?.page };
}

/** Every node of `c`, walking pages of `first` by `endCursor`. */
async function walk(c: Connection, first: number): Promise<unknown[]> {
  const nodes: unknown[] = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const { r, page: p } = await page(c, first, after);
    expect(r.errors).toBeUndefined();
    nodes.push(...p!.edges.map((e) => e.node));
    if (!p!.pageInfo.hasNextPage) return nodes;
    after = p!.pageInfo.endCursor;
  }
  throw new Error('no last page');
}

/** The stored rows of every table a use case could change, as one comparable value. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of [
    'users',
    'contact_entries',
    'friend_requests',
    'conversations',
    'messages',
    'notices',
  ]) {
    const [r] = await rows<{ h: string | null }>(
      env.db.handle.db,
      sql`SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS h FROM ${sql.identifier(table)} t`,
    );
    out[table] = r?.h ?? '';
  }
  return out;
}

describe('cursors: a crafted one answers BAD_USER_INPUT, a real one keeps paging', () => {
  for (const c of CONNECTIONS) {
    describe(c.name, () => {
      it.each([...CRAFTED, ...(c.extra ?? [])])('after: %s → BAD_USER_INPUT', async (_what, cursor) => {
        const { r } = await page(c, 10, cursor);
        expect(r.status).toBe(200);
        expect(codesOf(r)).toEqual(['BAD_USER_INPUT']);
        expect(r.data ?? null).toBeNull();
      });

      it('the endCursor of each page leads to the next one, one node at a time', async () => {
        const all = await walk(c, 100);
        expect(all.length).toBeGreaterThanOrEqual(2);
        expect(await walk(c, 1)).toEqual(all);
      });
    });
  }

  describe('Conversation.messages', () => {
    const q = `query($c: ID!, $after: String) { conversation(id: $c) {
      messages(first: 1, after: $after) { edges { node { body } } pageInfo { hasNextPage endCursor } } } }`;
    type R = {
      conversation: {
        messages: { edges: { node: { body: string } }[]; pageInfo: { endCursor: string } };
      } | null;
    };

    it.each(CRAFTED)('after: %s → BAD_USER_INPUT at the field', async (_what, cursor) => {
      const r = await env.api.raw<R>(me, q, { c: conversationId, after: cursor });
      expect(codesOf(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors?.[0]).toMatchObject({ path: ['conversation', 'messages'] });
    });

    it('a real endCursor pages on', async () => {
      const first = await env.api.gql<R>(me, q, { c: conversationId });
      const next = await env.api.gql<R>(me, q, {
        c: conversationId,
        after: first.conversation!.messages.pageInfo.endCursor,
      });
      expect([first, next].map((p) => p.conversation!.messages.edges[0]!.node.body)).toEqual(['m3', 'm2']);
    });
  });

  describe('the notices subscription', () => {
    const SUB = 'subscription($after: String) { notices(after: $after) { __typename cursor } }';

    it('refuses each crafted cursor with BAD_USER_INPUT and ends the subscription', async () => {
      const client = env.server.ws(await env.api.token(me));
      for (const [what, cursor] of [...CRAFTED, ...CRAFTED_NOTICE]) {
        const sub = collect(client, SUB, { after: cursor });
        const [res] = await sub.take(1);
        expect({ what, codes: res?.errors?.map((e) => e.extensions?.code) }).toEqual({
          what,
          codes: ['BAD_USER_INPUT'],
        });
        await sub.settle();
        expect(sub.completed).toBe(true);
      }
      expect(env.server.app.deps.bus.streamCount).toBe(0);
      await client.dispose();
    });

    it('replays after a real cursor', async () => {
      const { notices } = await env.api.notices(me);
      const client = env.server.ws(await env.api.token(me));
      const sub = collect<{ notices: { cursor: string } }>(client, SUB, { after: notices[0]!.cursor });
      const replayed = await sub.take(notices.length - 1);
      expect(replayed.map((r) => r.data?.notices.cursor)).toEqual(notices.slice(1).map((n) => n.cursor));
      sub.dispose();
      await client.dispose();
    });
  });
});

/** Ids that no conversation, message or friend request has. */
const BAD_UUIDS = [
  'not-a-uuid',
  '',
  '00000000-0000-4000-8000-00000000000', // 35 characters
  '00000000-0000-4000-8000-0000000000000', // 37
  '00000000000040008000000000000000', // no hyphens (Postgres would take it)
  '{00000000-0000-4000-8000-000000000000}', // braces (Postgres would take it)
  'g0000000-0000-4000-8000-000000000000',
  "'; DROP TABLE conversations; --",
  'x'.repeat(300),
];
/** User ids no token can carry. */
const BAD_USER_IDS = ['', 'u'.repeat(129), '🙂'.repeat(129), 'a\u0000b'];
const UNKNOWN_UUID = randomUUID();
/** Well-formed user ids nobody has. */
const UNKNOWN_USERS = ['ih-nobody', 'n'.repeat(128), '🙂'.repeat(128)];

describe('ids: a malformed one answers BAD_USER_INPUT, a well-formed unknown one as before', () => {
  describe('queries: a top-level BAD_USER_INPUT', () => {
    const QUERIES: [string, string, 'uuid' | 'user', (r: GraphQLResponse) => void][] = [
      [
        'conversation(id:)',
        'query($id: ID!) { conversation(id: $id) { id } }',
        'uuid',
        (r) =>
          expect({ errors: r.errors, data: r.data }).toEqual({
            errors: undefined,
            data: { conversation: null },
          }),
      ],
      [
        'messages(conversationId:)',
        'query($id: ID!) { messages(conversationId: $id) { edges { cursor } } }',
        'uuid',
        (r) => expect(codesOf(r)).toEqual(['NOT_FOUND']),
      ],
      [
        'retentionStatus(conversationId:)',
        'query($id: ID!) { retentionStatus(conversationId: $id) { state } }',
        'uuid',
        (r) => expect(codesOf(r)).toEqual(['NOT_FOUND']),
      ],
      [
        'contact(userId:)',
        'query($id: ID!) { contact(userId: $id) { state } }',
        'user',
        (r) =>
          expect({ errors: r.errors, data: r.data }).toEqual({ errors: undefined, data: { contact: null } }),
      ],
      [
        'deletionPreview(userId:)',
        'query($id: ID!) { deletionPreview(userId: $id, action: DELETE) { allowed } }',
        'user',
        (r) => expect(codesOf(r)).toEqual(['NOT_FOUND']),
      ],
    ];

    describe.each(QUERIES)('%s', (_name, query, kind, unknown) => {
      it.each(kind === 'uuid' ? BAD_UUIDS : BAD_USER_IDS)('%j → BAD_USER_INPUT', async (id) => {
        const r = await env.api.raw(me, query, { id });
        expect(r.status).toBe(200);
        expect(codesOf(r)).toEqual(['BAD_USER_INPUT']);
      });

      it('a well-formed id that names nothing answers as before', async () => {
        for (const id of kind === 'uuid' ? [UNKNOWN_UUID] : UNKNOWN_USERS)
          unknown(await env.api.raw(me, query, { id }));
      });
    });

    it('an id given as a number is coerced to a string and refused like any other', async () => {
      const r = await env.api.raw(me, 'query($id: ID!) { conversation(id: $id) { id } }', { id: 12345 });
      expect(codesOf(r)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('mutations: a userErrors entry with its field, and nothing changes', () => {
    const MUTATIONS: [string, string, 'uuid' | 'user', (id: string) => unknown, string, string][] = [
      [
        'respondToFriendRequest',
        'RespondToFriendRequestInput',
        'uuid',
        (id) => ({ requestId: id, accept: true }),
        'requestId',
        'NOT_FOUND',
      ],
      [
        'sendMessage',
        'SendMessageInput',
        'uuid',
        (id) => ({ conversationId: id, body: 'hi' }),
        'conversationId',
        'NOT_FOUND',
      ],
      [
        'sendFriendRequest',
        'SendFriendRequestInput',
        'user',
        (id) => ({ userId: id }),
        'userId',
        'NOT_FOUND',
      ],
      ['deleteContact', 'DeleteContactInput', 'user', (id) => ({ userId: id }), 'userId', 'NOT_FOUND'],
      [
        'blockContact',
        'BlockContactInput',
        'user',
        (id) => ({ userId: id, deleteHistory: true }),
        'userId',
        'NOT_FOUND',
      ],
      ['unblockContact', 'UnblockContactInput', 'user', (id) => ({ userId: id }), 'userId', 'NOT_FOUND'],
      // R5: a stranger gets no proof, known or not.
      [
        'requestDeletionProof',
        'RequestDeletionProofInput',
        'user',
        (id) => ({ userId: id }),
        'userId',
        'FORBIDDEN',
      ],
    ];

    describe.each(MUTATIONS)('%s', (name, inputType, kind, input, field, unknownCode) => {
      const run = (id: string) =>
        env.api.raw<Record<string, { userErrors: { code: string; field: string[] | null }[] }>>(
          me,
          `mutation($i: ${inputType}!) { m: ${name}(input: $i) { userErrors { code field } } }`,
          { i: input(id) },
        );

      it.each(kind === 'uuid' ? BAD_UUIDS : BAD_USER_IDS)('%j → BAD_USER_INPUT on its field', async (id) => {
        const before = await snapshot();
        const r = await run(id);
        expect(r.status).toBe(200);
        expect(r.errors).toBeUndefined();
        expect(r.data?.m?.userErrors).toEqual([{ code: 'BAD_USER_INPUT', field: ['input', field] }]);
        expect(await snapshot()).toEqual(before);
      });

      it(`a well-formed id that names nothing answers ${unknownCode} as before`, async () => {
        for (const id of kind === 'uuid' ? [UNKNOWN_UUID] : UNKNOWN_USERS) {
          const before = await snapshot();
          expect((await run(id)).data?.m?.userErrors).toEqual([
            { code: unknownCode, field: ['input', field] },
          ]);
          expect(await snapshot()).toEqual(before);
        }
      });
    });
  });
});
