import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

/** A pino logger whose JSON lines are kept in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, raw };
}

describe('Production switches: introspection, GraphiQL, access log, metrics', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pg');
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('with introspection and GraphiQL off', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(db.handle, { config: { introspection: false, graphiql: false } });
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('__schema and __type are refused on HTTP and graphql-ws alike; __typename still answers', async () => {
      const token = await t.token('olga');
      for (const q of ['{ __schema { queryType { name } } }', '{ __type(name: "User") { name } }']) {
        const r = await t.http(q, {}, token);
        expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        const client = t.ws(token);
        const op = collect(client, q);
        await op.settle();
        expect((op.error as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe(
          'GRAPHQL_VALIDATION_FAILED',
        );
        await client.dispose();
      }
      expect((await t.http<{ __typename: string }>('{ __typename }', {}, token)).data?.__typename).toBe(
        'Query',
      );
    });

    it('a browser asking for /graphql gets no GraphiQL page', async () => {
      const r = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(r.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
      expect((await fetch(`${t.url}/graphiql/index.html`)).status).toBe(404);
    });
  });

  describe('with the defaults of development', () => {
    let t: TestApp;
    const log = capturingLogger();
    beforeAll(async () => {
      t = await startTestApp(db.handle, { logger: log.logger });
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('logs one line per HTTP operation (request id, operation, status, duration), never a token or a variable', async () => {
      const token = await t.token('vera');
      const secret = 'variable-value-that-must-not-be-logged';
      const res = await fetch(`${t.url}/graphql?unused=${secret}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'x-request-id': 'req-42',
        },
        body: JSON.stringify({
          query: 'query WhoAmI($u: ID!) { me { id } contact(userId: $u) { state } }',
          variables: { u: secret },
        }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('req-42');
      await t.http('mutation Bad { nope }', {}, token);
      const lines = log.lines.filter((l) => l.reqId === 'req-42');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        operation: 'WhoAmI',
        req: { method: 'POST', path: '/graphql' },
        res: { status: 200 },
        responseTime: expect.any(Number),
      });
      expect(log.lines.some((l) => (l.res as { status?: number } | undefined)?.status === 400)).toBe(true);
      const all = log.raw.join('\n');
      expect(all).not.toContain(token);
      expect(all).not.toContain(secret);
      expect(all).not.toMatch(/authorization/i);
    });

    it('logs one line per graphql-ws operation too', async () => {
      const client = t.ws(await t.token('vera'));
      await collect(client, 'query SocketNow { now }').take(1);
      await client.dispose();
      expect(log.lines.some((l) => l.operation === 'SocketNow' && l.transport === 'ws')).toBe(true);
    });

    it('/metrics has operation durations by name, errors by code, and counters typed as counters', async () => {
      const token = await t.token('vera');
      await t.http('query Named { now }', {}, token);
      await t.http('query Named { now }', {}, token);
      await t.http('{ nope }', {}, token);
      const text = await (await fetch(`${t.url}/metrics`)).text();
      expect(text).toMatch(
        /ties_graphql_operation_duration_seconds_count\{operation="Named",transport="http"\} 2/,
      );
      expect(text).toMatch(
        /ties_graphql_errors_total\{code="GRAPHQL_VALIDATION_FAILED",transport="http"\} [1-9]/,
      );
      expect(text).toContain('# TYPE ties_notices_delivered_total counter');
      expect(text).toContain('# TYPE ties_notice_stream_fallbacks_total counter');
      expect(text).toContain('# TYPE ties_notice_streams gauge');
    });
  });
});
