// Fuzz: documents and variable sets generated from the schema itself (every root field, random
// arguments — well-formed, crafted or of the wrong type —, random selections through interfaces),
// plus mangled and random text, sent over HTTP and over one graphql-ws socket. Whatever comes in,
// the answer is never a 5xx, never INTERNAL_SERVER_ERROR, never internal text, and the server and
// the socket stay up.
import fc from 'fast-check';
import {
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/graphql/schema.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { collect } from '../support/server.js';

const RUNS_PER_TRANSPORT = 1_000;
// endOnFailure: each run is a round trip, so shrinking would take minutes; the assertion message
// carries the failing document and the answer instead.
/** What no answer may contain: stacks, file paths, SQL, driver and engine messages. */
const INTERNAL =
  /\bat [\w.<>]+ \(|node_modules|\.ts:\d|\/work\/|\bSELECT\b|\bINSERT INTO\b|\brelation "|syntax error at or near|invalid input syntax|Maximum call stack|Cannot read properties|is not a function|undefined is not/;

const schema = buildSchema();
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Values that have broken servers: crafted cursors, ids of every shape, extremes. */
function pools(realIds: string[]) {
  const strings = [
    '',
    'x',
    ' ',
    'a'.repeat(300),
    "'; DROP TABLE users; --",
    '../../etc/passwd',
    '\u0000',
    '😀',
    '00000000-0000-0000-0000-000000000000',
    b64(['x', 'y']),
    b64([true, false]),
    b64(['not-a-date', 'id']),
    b64([1e308, -1]),
    b64(['2026-01-01T00:00:00Z']),
    b64({}),
    b64(null),
    'bm90LWpzb24',
    '%%%',
    ...realIds,
  ];
  return {
    string: fc.oneof(
      fc.constantFrom(...strings),
      fc.string({ maxLength: 40 }),
      fc.uuid(),
      fc.base64String({ maxLength: 40 }),
    ),
    int: fc.oneof(
      fc.constantFrom(0, 1, -1, 5, 100, 101, 2 ** 31 - 1, -(2 ** 31)),
      fc.integer({ min: -200, max: 200 }),
    ),
    dateTime: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom('2026-02-30T00:00:00Z', 'yesterday', '', '9999-99-99'),
    ),
  };
}

type Gen = fc.GeneratorValue;

/** One generated operation: its text and variables. */
function generate(
  g: Gen,
  p: ReturnType<typeof pools>,
): { query: string; variables: Record<string, unknown> } {
  const mode = g(() => fc.constantFrom('schema', 'schema', 'schema', 'schema', 'mangled', 'text'));
  if (mode === 'text') return { query: g(() => fc.string({ maxLength: 200 })), variables: {} };
  const defs: string[] = [];
  const variables: Record<string, unknown> = {};

  const scalar = (name: string): unknown => {
    if (name === 'Int') return g(() => p.int);
    if (name === 'Boolean') return g(() => fc.boolean());
    if (name === 'DateTime') return g(() => p.dateTime);
    if (name === 'Float') return g(() => fc.double({ noNaN: true }));
    return g(() => p.string);
  };
  const value = (type: GraphQLInputType, depth = 0): unknown => {
    if (isNonNullType(type)) return value(type.ofType, depth);
    if (g(() => fc.nat(12)) === 0) return null;
    if (isListType(type))
      return Array.from({ length: g(() => fc.nat(3)) }, () =>
        value(type.ofType as GraphQLInputType, depth + 1),
      );
    if (isEnumType(type))
      return g(() =>
        fc.oneof(fc.constantFrom(...type.getValues().map((v) => v.name)), fc.string({ maxLength: 8 })),
      );
    if (isInputObjectType(type)) {
      const out: Record<string, unknown> = {};
      for (const f of Object.values(type.getFields()))
        if (isNonNullType(f.type) || g(() => fc.boolean())) out[f.name] = value(f.type, depth + 1);
      return out;
    }
    return scalar(type.name);
  };
  const args = (field: GraphQLField<unknown, unknown>): string => {
    const given = field.args.filter((a) => isNonNullType(a.type) || g(() => fc.boolean()));
    if (given.length === 0) return '';
    return `(${given
      .map((a) => {
        const name = `v${defs.length}`;
        defs.push(`$${name}: ${String(a.type)}`);
        // Mostly of the declared type; sometimes any JSON at all.
        variables[name] = g(() => fc.nat(5)) === 0 ? g(() => fc.jsonValue({ maxDepth: 2 })) : value(a.type);
        return `${a.name}: $${name}`;
      })
      .join(', ')})`;
  };
  const selection = (type: GraphQLOutputType | GraphQLNamedType, depth: number): string => {
    const named = getNamedType(type);
    if (isLeafType(named)) return '';
    if (depth <= 0) return '{ __typename }';
    if (isAbstractType(named)) {
      const possible = schema.getPossibleTypes(named);
      const picked = g(() =>
        fc.subarray([...possible], { minLength: 0, maxLength: Math.min(3, possible.length) }),
      );
      return `{ __typename ${picked.map((t) => `... on ${t.name} ${selection(t, depth - 1)}`).join(' ')} }`;
    }
    if (!isObjectType(named)) return '{ __typename }';
    const fields = Object.values(named.getFields());
    const picked = g(() => fc.subarray(fields, { minLength: 1, maxLength: Math.min(4, fields.length) }));
    return `{ ${picked.map((f) => `${f.name}${args(f)} ${selection(f.type, depth - 1)}`).join(' ')} }`;
  };

  const operation = g(() => fc.constantFrom('query', 'query', 'mutation'));
  const root = operation === 'query' ? schema.getQueryType()! : schema.getMutationType()!;
  const fields = Object.values(root.getFields());
  const picked = g(() => fc.subarray(fields, { minLength: 1, maxLength: Math.min(2, fields.length) }));
  const body = picked.map((f, i) => `f${i}: ${f.name}${args(f)} ${selection(f.type, 3)}`).join(' ');
  let query = `${operation}${defs.length ? `(${defs.join(', ')})` : ''} { ${body} }`;
  if (mode === 'mangled') {
    // Cut, duplicate or drop a stretch of an otherwise valid document.
    const at = g(() => fc.nat(query.length));
    const len = g(() => fc.nat(10));
    query = g(() => fc.boolean())
      ? query.slice(0, at) + query.slice(at + len)
      : query.slice(0, at) + query.slice(at - len);
  }
  return { query, variables };
}

interface Answer {
  status: number;
  text: string;
  codes: string[];
}

function check(a: Answer, sent: { query: string }): void {
  const context = `for ${JSON.stringify(sent.query).slice(0, 300)}: ${a.text.slice(0, 500)}`;
  expect(a.status, context).toBeLessThan(500);
  expect(a.codes, context).not.toContain('INTERNAL_SERVER_ERROR');
  expect(INTERNAL.test(a.text), context).toBe(false);
}

const codesOf = (body: unknown): string[] => {
  const errors =
    (body as { errors?: { extensions?: { code?: string } }[] })?.errors ?? (Array.isArray(body) ? body : []);
  return (errors as { extensions?: { code?: string } }[]).map((e) => String(e?.extensions?.code));
};

describe('Fuzz: generated documents and variables over HTTP and graphql-ws', () => {
  let env: TestEnv;
  let tokens: string[];
  let realIds: string[];
  beforeAll(async () => {
    env = await openTestEnv();
    // Real objects, so generated ids sometimes hit something: a friendship, a conversation, a message.
    const alice = await env.server.token('alice');
    const bob = await env.server.token('bob');
    await env.server.http('{ me { id } }', {}, bob);
    const req = await env.server.http<{ sendFriendRequest: { request: { id: string } } }>(
      'mutation { sendFriendRequest(input: { userId: "bob" }) { request { id } } }',
      {},
      alice,
    );
    const requestId = req.data!.sendFriendRequest.request.id;
    const acc = await env.server.http<{
      respondToFriendRequest: { contact: { conversation: { id: string } } };
    }>(
      `mutation { respondToFriendRequest(input: { requestId: "${requestId}", accept: true }) { contact { conversation { id } } } }`,
      {},
      bob,
    );
    const conversationId = acc.data!.respondToFriendRequest.contact.conversation.id;
    const msg = await env.server.http<{ sendMessage: { message: { id: string } } }>(
      `mutation { sendMessage(input: { conversationId: "${conversationId}", body: "hi" }) { message { id } } }`,
      {},
      alice,
    );
    realIds = ['alice', 'bob', requestId, conversationId, msg.data!.sendMessage.message.id];
    tokens = [alice, bob, await env.server.token('olga', { operator: true })];
  });
  afterAll(() => env?.close());

  it(`${RUNS_PER_TRANSPORT} operations over HTTP: never a 5xx, INTERNAL_SERVER_ERROR or internal text`, async () => {
    const p = pools(realIds);
    await fc.assert(
      fc.asyncProperty(fc.gen(), fc.nat(2), async (g, who) => {
        const sent = generate(g, p);
        const res = await fetch(`${env.server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[who]}` },
          body: JSON.stringify(sent),
        });
        const text = await res.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        check({ status: res.status, text, codes: codesOf(body) }, sent);
      }),
      { numRuns: RUNS_PER_TRANSPORT, endOnFailure: true },
    );
    expect((await fetch(`${env.server.url}/healthz`)).status).toBe(200);
  });

  it(`${RUNS_PER_TRANSPORT} operations over one graphql-ws socket: the same, and the socket stays open`, async () => {
    const p = pools(realIds);
    let closed: number | undefined;
    const client = env.server.ws(tokens[0], { onClosed: (code) => (closed = code) });
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const sent = generate(g, p);
        // Subscriptions stay open; only queries and mutations are sent on the shared socket.
        if (/^\s*subscription/.test(sent.query)) return;
        const op = collect(client, sent.query, sent.variables, { timeoutMs: 10_000 });
        await op.settle();
        const body = op.error ?? op.results[0];
        const text = JSON.stringify(body ?? null);
        check({ status: 200, text, codes: codesOf(body) }, sent);
        expect(closed, `socket closed after ${sent.query.slice(0, 200)}`).toBeUndefined();
      }),
      { numRuns: RUNS_PER_TRANSPORT, endOnFailure: true },
    );
    await client.dispose();
    expect((await fetch(`${env.server.url}/healthz`)).status).toBe(200);
  });
});
