import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { eventually, publishTagged, settleNotices, TAGGED_FIELDS } from '../support/notices.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

const STACK = /\n\s+at |\.ts:\d+|node_modules/;

/** Raw POST /graphql with any body and headers. */
async function post(t: TestApp, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[] },
  };
}

describe('Errors: bad input never yields a 500 or a stack trace; faults are hidden', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv({ config: { limits: { ...DEFAULT_LIMITS, maxDepth: 3 } } });
  });
  afterAll(() => env?.close());

  describe('malformed requests', () => {
    it('a malformed JSON body gets HTTP 400 with a GraphQL-shaped error and no stack trace', async () => {
      const r = await post(env.server, '{"query": "{ now }"');
      expect(r.status).toBe(400);
      expect(r.json.errors).toHaveLength(1);
      expect(r.json.errors?.[0]).toMatchObject({
        message: expect.any(String),
        extensions: { code: 'BAD_REQUEST' },
      });
      expect(r.text).not.toMatch(STACK);
      expect(r.text).not.toMatch(/SyntaxError/);
    });

    it('a body that is not a GraphQL request gets a 400 with a code, not a 500', async () => {
      const r = await post(env.server, '[1, 2, 3]');
      expect(r.status).toBe(400);
      expect(r.json.errors?.[0]?.extensions?.code).toEqual(expect.any(String));
      expect(r.text).not.toMatch(STACK);
    });

    it('a subscription sent over HTTP is refused with 400 BAD_REQUEST naming graphql-ws, not a hidden fault', async () => {
      const token = await env.server.token('sub-over-http');
      const r = await post(env.server, JSON.stringify({ query: 'subscription { notices { cursor } }' }), {
        authorization: `Bearer ${token}`,
      });
      expect(r.status).toBe(400);
      expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
      expect(r.json.errors?.[0]?.message).toMatch(/graphql-ws/);
      expect(r.text).not.toMatch(STACK);
    });

    it('a query that does not parse is refused with GRAPHQL_PARSE_FAILED', async () => {
      const r = await post(env.server, JSON.stringify({ query: '{ now ' }));
      expect(r.status).toBe(400);
      expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
      expect(r.text).not.toMatch(STACK);
    });
  });

  describe('depth limit (DESIGN.md: limits apply on the WebSocket path as well)', () => {
    const DEEP_QUERY = '{ notices { edges { node { cursor } } } }'; // depth 4 > 3
    const DEEP_SUB = 'subscription { notices { ... on FriendRequestReceived { request { from { id } } } } }'; // depth 4

    it('a query deeper than the limit is refused over HTTP with GRAPHQL_VALIDATION_FAILED', async () => {
      const r = await env.server.http(DEEP_QUERY, {}, await env.server.token('alice'));
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(r.data).toBeUndefined();
      // At the limit it runs.
      const ok = await env.server.http(
        '{ notices { pageInfo { endCursor } } }',
        {},
        await env.server.token('alice'),
      );
      expect(ok.errors).toBeUndefined();
    });

    it('a query or subscription deeper than the limit is refused over graphql-ws with GRAPHQL_VALIDATION_FAILED', async () => {
      const client = env.server.ws(await env.server.token('alice'));
      for (const deep of [DEEP_QUERY, DEEP_SUB]) {
        const op = collect(client, deep);
        await op.settle();
        const errs = op.error as { message: string; extensions?: { code?: string } }[];
        expect(Array.isArray(errs)).toBe(true);
        expect(errs[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(op.results).toEqual([]);
      }
      expect(env.server.app.deps.bus.streamCount).toBe(0);
      // The socket stays usable for operations within the limit.
      const [r] = await collect<{ now: string }>(client, '{ now }').take(1);
      expect(typeof r?.data?.now).toBe('string');
      await client.dispose();
    });
  });

  describe('internal faults', () => {
    /** An instance with the default depth limit, over the same database. */
    let faults: TestApp;
    beforeAll(async () => {
      faults = await startTestApp(env.db.handle);
    });
    afterAll(async () => {
      await faults?.stop();
    });

    /** A notice row whose kind is no GraphQL type: resolving its type fails on the server. */
    const insertUnknownKind = async (userId: string) => {
      await env.db.handle.db.transaction(async (tx) => {
        await tx.execute(
          sql`INSERT INTO notices (recipient_ids, kind, payload, at)
              VALUES (ARRAY[${userId}]::text[], 'SecretInternalKind', '{}'::jsonb, now())`,
        );
        await tx.execute(sql`SELECT pg_notify('ties_notices', '')`);
      });
    };
    const HIDDEN = {
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
    };

    it('a fault while answering over HTTP reaches the client as INTERNAL_SERVER_ERROR, message hidden, with the requestId', async () => {
      await insertUnknownKind('ivan');
      await settleNotices(env.db.handle.db);
      const token = await faults.token('ivan');
      const r = await post(
        faults,
        JSON.stringify({ query: '{ notices { edges { cursor node { cursor } } } }' }),
        {
          authorization: `Bearer ${token}`,
          'x-request-id': 'req-fault-1',
        },
      );
      expect(r.status).toBe(200);
      expect(r.json.errors).toHaveLength(1);
      expect(r.json.errors?.[0]).toMatchObject({
        ...HIDDEN,
        extensions: { ...HIDDEN.extensions, requestId: 'req-fault-1' },
      });
      expect(r.text).not.toMatch(/SecretInternalKind|Abstract type/);
      expect(r.text).not.toMatch(STACK);
    });

    it('a fault in a subscription, replayed or live, reaches the client as INTERNAL_SERVER_ERROR, message hidden, with a requestId', async () => {
      const token = await faults.token('judy');
      await env.db.handle.db.transaction((tx) => publishTagged(tx, ['judy'], 'ok', 0, faults.clock.now()));
      await settleNotices(env.db.handle.db);
      const first = await faults.http<{ notices: { edges: { cursor: string }[] } }>(
        '{ notices(first: 1) { edges { cursor } } }',
        {},
        token,
      );
      const okCursor = first.data!.notices.edges[0]!.cursor;
      const live = collect(faults.ws(token), `subscription { notices { ${TAGGED_FIELDS} } }`);
      await faults.waitForStreams(1);
      await insertUnknownKind('judy');
      const replayed = collect(
        faults.ws(token),
        `subscription ($after: String) { notices(after: $after) { cursor } }`,
        {
          after: okCursor,
        },
      );
      for (const s of [live, replayed]) {
        await eventually(() => s.results.some((r) => r.errors), 'an error result');
        const r = s.results.find((x) => x.errors)!;
        expect(r.errors).toHaveLength(1);
        expect(r.errors?.[0]).toMatchObject(HIDDEN);
        expect(JSON.stringify(r)).not.toMatch(/SecretInternalKind|Abstract type|Notice/);
        s.dispose();
      }
    });
  });
});

describe('Errors: a broken database is an internal fault, not a client error', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv();
  });
  afterAll(() => env?.close());

  it('a query whose table is gone answers INTERNAL_SERVER_ERROR over HTTP and graphql-ws, with no SQL in it', async () => {
    const token = await env.server.token('kim');
    await env.db.handle.db.transaction((tx) => publishTagged(tx, ['kim'], 'k', 0, env.server.clock.now()));
    await settleNotices(env.db.handle.db);
    const page = await env.server.http<{ notices: { pageInfo: { endCursor: string } } }>(
      '{ notices { pageInfo { endCursor } } }',
      {},
      token,
    );
    const cursor = page.data!.notices.pageInfo.endCursor;
    await env.db.handle.db.execute(sql`DROP TABLE notice_horizon`);

    const r = await env.server.http(
      'query ($after: String) { notices(after: $after) { edges { cursor } } }',
      { after: cursor },
      token,
    );
    expect(r.errors?.[0]).toMatchObject({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
    });
    expect(JSON.stringify(r)).not.toMatch(/notice_horizon|relation|SELECT/i);

    const sub = collect(
      env.server.ws(token),
      'subscription ($after: String) { notices(after: $after) { cursor } }',
      {
        after: cursor,
      },
    );
    const [res] = await sub.take(1);
    expect(res?.errors?.[0]).toMatchObject({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
    });
    expect(JSON.stringify(res)).not.toMatch(/notice_horizon|relation|SELECT/i);
    sub.dispose();
  });
});
