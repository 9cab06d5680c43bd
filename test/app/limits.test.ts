import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { publishTagged, settleNotices } from '../support/notices.js';
import { collect, type GraphQLResponse } from '../support/server.js';

/** Fragments that spread the next one twice, `levels` deep: 2^levels fields from a few hundred bytes. */
function fanOut(levels: number): string {
  const parts = ['query{...F0}'];
  for (let i = 0; i < levels; i++) parts.push(`fragment F${i} on Query{...F${i + 1} ...F${i + 1}}`);
  parts.push(`fragment F${levels} on Query{now}`);
  return parts.join(' ');
}
const aliases = (n: number, field: string) =>
  `{${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')}}`;
/** Nine fields deep through two connections (the deepest path the schema has), cost 10 × 10 × 5. */
const DEPTH_9 =
  '{ contacts(first: 10) { edges { node { conversation { messages(first: 10) { edges { node { sender { id } } } } } } } } }';
/** Eleven fields deep, every field valid (`__type` is not exempt; only GraphiQL's `__schema` is). */
const DEPTH_11 = `{ __type(name: "Query") { fields { type ${'{ ofType '.repeat(7)}{ name }${' }'.repeat(7)} } } }`;

type Errors = GraphQLResponse['errors'];
const codeOf = (errors: Errors | unknown) => (errors as Errors)?.[0]?.extensions?.code;
/** What each transport answered: HTTP's error code, or graphql-ws's error / first result. */
interface Answer {
  code: string | undefined;
  data: unknown;
}

describe('Front door: operation limits, the same on HTTP and graphql-ws', () => {
  let env: TestEnv;
  let token: string;
  beforeAll(async () => {
    env = await openTestEnv();
    token = await env.server.token('alice');
  });
  afterAll(() => env?.close());

  const overHttp = async (query: string, variables?: Record<string, unknown>): Promise<Answer> => {
    const r = await env.server.http(query, variables, token);
    return { code: codeOf(r.errors), data: r.data };
  };
  const overWs = async (query: string, variables?: Record<string, unknown>): Promise<Answer> => {
    const client = env.server.ws(token);
    try {
      const op = collect(client, query, variables);
      await op.settle();
      return { code: codeOf(op.error) ?? codeOf(op.results[0]?.errors), data: op.results[0]?.data };
    } finally {
      await client.dispose();
    }
  };
  const healthy = async () => {
    const r = await fetch(`${env.server.url}/healthz`);
    expect(r.status).toBe(200);
  };

  const attacks: [string, string, Record<string, unknown>?][] = [
    ['a fan-out of fragment spreads 20 levels deep (2^20 fields)', fanOut(20)],
    ['2,000 aliases of contact', aliases(2000, 'contact(userId: "x") { state }')],
    [
      '300 aliases of messages(first: 100)',
      aliases(300, 'messages(conversationId: "x", first: 100) { edges { cursor } }'),
    ],
    ['16 aliases (limit 15)', aliases(16, 'now')],
    ['51 directives (limit 50)', `{ now ${'@include(if: true) '.repeat(51)}}`],
    ['more than 1,000 tokens', `{ ${'__typename '.repeat(1001)}}`],
    ['more than 15,000 characters', `{ now ${' '.repeat(15_000)}}`],
    ['depth 11 (limit 10)', DEPTH_11],
    ['fields nested 5,000 deep', `${'{ contacts '.repeat(5000)}${'}'.repeat(5000)}`],
    [
      'a chain of 20,000 nested fragments',
      Array.from({ length: 20_000 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} }`).join(' '),
    ],
    [
      'a page of 100 contacts × 100 messages (cost 10,000 > 5,000)',
      '{ contacts(first: 100) { edges { node { conversation { messages(first: 100) { edges { node { id } } } } } } } }',
    ],
    [
      'the same cost through variables',
      'query($a: Int, $b: Int) { contacts(first: $a) { edges { node { conversation { messages(first: $b) { edges { node { id } } } } } } } }',
      { a: 100, b: 100 },
    ],
    [
      'no `first` on either connection (default page 50 × 50 > 5,000)',
      '{ contacts { edges { node { conversation { messages { edges { node { id body } } } } } } } }',
    ],
  ];

  describe.each([
    ['HTTP', overHttp],
    ['graphql-ws', overWs],
  ] as const)('over %s', (_name, send) => {
    it.each(attacks)(
      '%s is refused before it runs, and the server keeps answering',
      async (_what, query, vars) => {
        const r = await send(query, vars);
        expect(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']).toContain(r.code);
        expect(r.data ?? undefined).toBeUndefined();
        await healthy();
      },
    );

    it('a cycle of fragments is refused, not followed', async () => {
      const r = await send('query { ...A } fragment A on Query { ...B } fragment B on Query { ...A now }');
      expect(r.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('legitimate operations at the limits run: depth 9 through two connections, 15 aliases, GraphiQL introspection', async () => {
      expect(await send(DEPTH_9)).toEqual({ code: undefined, data: { contacts: { edges: [] } } });
      const fifteen = await send(aliases(15, 'now'));
      expect(fifteen.code).toBeUndefined();
      expect(Object.keys(fifteen.data as object)).toHaveLength(15);
      const page = await send('query($n: Int) { contacts(first: $n) { edges { node { state } } } }', {
        n: 100,
      });
      expect(page.code).toBeUndefined();
      for (const q of [
        getIntrospectionQuery(),
        getIntrospectionQuery({
          inputValueDeprecation: true,
          schemaDescription: true,
          specifiedByUrl: true,
          directiveIsRepeatable: true,
        }),
      ]) {
        const intro = await send(q);
        expect(intro.code).toBeUndefined();
        expect((intro.data as { __schema: { queryType: { name: string } } }).__schema.queryType.name).toBe(
          'Query',
        );
      }
    });
  });

  it('a document too large for an HTTP body (5 MB) is refused with 413, and on graphql-ws closes only that socket (1009)', async () => {
    const huge = aliases(330_000, 'now');
    expect(huge.length).toBeGreaterThan(DEFAULT_LIMITS.maxRequestBytes);
    const r = await fetch(`${env.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: huge }),
    });
    expect(r.status).toBe(413);
    expect(JSON.stringify(await r.json())).not.toMatch(/at .*\.js|node_modules/);

    let closedWith: number | undefined;
    const big = env.server.ws(token, { onClosed: (code) => (closedWith = code) });
    const neighbour = env.server.ws(token);
    const op = collect(big, huge);
    await op.settle();
    expect(closedWith).toBe(1009);
    const [ok] = await collect<{ now: string }>(neighbour, '{ now }').take(1);
    expect(typeof ok?.data?.now).toBe('string');
    await healthy();
  });

  it('the graphql-ws socket outlives a bad operation: a live notices subscription keeps receiving', async () => {
    const client = env.server.ws(await env.server.token('sam'));
    const live = collect<{ notices: { conversationId: string } }>(
      client,
      'subscription { notices { ... on ConversationPurged { conversationId } } }',
    );
    await env.server.waitForStreams(1);
    for (const bad of ['{ now ', fanOut(20), `{ ${'{ '.repeat(20_000)}`, aliases(2000, 'now')]) {
      const op = collect(client, bad);
      await op.settle();
      expect(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']).toContain(codeOf(op.error));
      expect(JSON.stringify(op.error)).not.toMatch(/Maximum call stack|at .*\.js/);
    }
    await env.db.handle.db.transaction((tx) => publishTagged(tx, ['sam'], 'after-bad-ops', 1, new Date()));
    const [n] = await live.take(1);
    expect(n?.data?.notices.conversationId).toBe('after-bad-ops');
    live.dispose();
    await client.dispose();
  });

  it('one socket carries at most 100 live operations: the 101st is refused, the first 100 keep working', async () => {
    const client = env.server.ws(await env.server.token('max'));
    const before = env.server.app.deps.bus.streamCount;
    const subs = Array.from({ length: 100 }, () =>
      collect<{ notices: { conversationId: string } }>(
        client,
        'subscription { notices { ... on ConversationPurged { conversationId } } }',
      ),
    );
    await env.server.waitForStreams(before + 100);
    const extra = collect(client, 'subscription { notices { cursor } }');
    await extra.settle();
    expect(codeOf(extra.error)).toBe('RATE_LIMITED');
    expect(env.server.app.deps.bus.streamCount).toBe(before + 100);
    await env.db.handle.db.transaction((tx) => publishTagged(tx, ['max'], 'to-all-100', 1, new Date()));
    await settleNotices(env.db.handle.db);
    for (const s of subs) expect((await s.take(1))[0]?.data?.notices.conversationId).toBe('to-all-100');
    // Completing one frees its place.
    subs[0]!.dispose();
    const again = collect<{ now: string }>(client, '{ now }');
    expect(typeof (await again.take(1))[0]?.data?.now).toBe('string');
    await client.dispose();
  });

  it('an operation priced once is not priced again for other ids, but a larger page size or a wrong variable is still refused', async () => {
    const q =
      'query Page($a: Int, $u: ID!) { contact(userId: $u) { state } contacts(first: $a) { edges { node { conversation { messages(first: 100) { edges { node { id } } } } } } } }';
    // 10 × 100 = 1,000 ≤ 5,000: accepted, and again with another id (priced from the cache).
    expect((await overHttp(q, { a: 10, u: 'bob' })).code).toBeUndefined();
    expect((await overHttp(q, { a: 10, u: 'carl' })).code).toBeUndefined();
    // The same document with a page of 100 (cost 10,000): the page size is part of the price.
    expect((await overHttp(q, { a: 100, u: 'bob' })).code).toBe('GRAPHQL_VALIDATION_FAILED');
    // An id of the wrong shape after the operation was priced: graphql-js's coercion refuses it.
    expect((await overHttp(q, { a: 10, u: { not: 'an id' } })).code).toBe('BAD_USER_INPUT');
    expect((await overHttp(q, { a: 'ten', u: 'bob' })).code).toBe('BAD_USER_INPUT');
  });

  it('a persisted-query hash that does not match its query is a client error, never INTERNAL_SERVER_ERROR', async () => {
    const r = await fetch(`${env.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: '{ now }',
        extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } },
      }),
    });
    const body = (await r.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(r.status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    const unknown = await fetch(`${env.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'b'.repeat(64) } } }),
    });
    expect(((await unknown.json()) as typeof body).errors?.[0]?.extensions?.code).toBe(
      'PERSISTED_QUERY_NOT_FOUND',
    );
  });
});
