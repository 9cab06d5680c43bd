import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

const LIMITS = { windowSeconds: 60, mutationsPerUser: 3, anonymousPerIp: 3 };
const REQUEST = `mutation($u: ID!) { sendFriendRequest(input: { userId: $u }) {
  request { id } userErrors { code field retryAfterSeconds } } }`;

interface RequestPayload {
  sendFriendRequest: {
    request: { id: string } | null;
    userErrors: { code: string; retryAfterSeconds: number | null }[];
  };
}

describe('Rate limits: per user for mutations, per address without a token, on both transports', () => {
  let db: TestDatabase;
  let t: TestApp;
  /** A second instance on the same database: the limit is the database's, not a process's. */
  let t2: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('pg');
    t = await startTestApp(db.handle, { config: { rateLimits: LIMITS } });
    t2 = await startTestApp(await db.openAnother(), { config: { rateLimits: LIMITS } });
  });
  afterAll(async () => {
    await t2?.stop();
    await t?.stop();
    await db?.drop();
  });

  /** Users exist once they used a token. */
  const users = async (...ids: string[]) => {
    for (const id of ids) await t.http('{ me { id } }', {}, await t.token(id));
  };
  const pendingTo = async (userId: string) =>
    (
      await rows<{ n: number }>(
        db.handle.db,
        sql`SELECT count(*)::int AS n FROM friend_requests WHERE to_id = ${userId} AND status = 'PENDING'`,
      )
    )[0]!.n;

  it('the 4th mutation in the window answers RATE_LIMITED with a retry-after and changes nothing; others are not affected', async () => {
    await users('ann', 'p1', 'p2', 'p3', 'p4', 'ben');
    const ann = await t.token('ann');
    for (const peer of ['p1', 'p2', 'p3']) {
      const r = await t.http<RequestPayload>(REQUEST, { u: peer }, ann);
      expect(r.data?.sendFriendRequest.userErrors).toEqual([]);
    }
    const fourth = await t.http<RequestPayload>(REQUEST, { u: 'p4' }, ann);
    expect(fourth.status).toBe(200);
    expect(fourth.data?.sendFriendRequest.request).toBeNull();
    const [err] = fourth.data!.sendFriendRequest.userErrors;
    expect(err?.code).toBe('RATE_LIMITED');
    expect(err?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err?.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await pendingTo('p4')).toBe(0);
    // Over graphql-ws, and through the second instance: the same counter.
    const client = t2.ws(ann);
    const [viaWs] = await collect<RequestPayload>(client, REQUEST, { u: 'p4' }).take(1);
    expect(viaWs?.data?.sendFriendRequest.userErrors[0]?.code).toBe('RATE_LIMITED');
    expect(await pendingTo('p4')).toBe(0);
    await client.dispose();
    // Another user has a window of their own; queries are not counted.
    const ben = await t.token('ben');
    expect(
      (await t.http<RequestPayload>(REQUEST, { u: 'p4' }, ben)).data?.sendFriendRequest.userErrors,
    ).toEqual([]);
    expect((await t.http('{ me { id } }', {}, ann)).errors).toBeUndefined();
  });

  it('each root mutation field counts: three aliased mutations in one operation use the whole window', async () => {
    await users('cat', 'q1', 'q2', 'q3', 'q4');
    const cat = await t.token('cat');
    const r = await t.http<Record<string, RequestPayload['sendFriendRequest']>>(
      `mutation { ${['q1', 'q2', 'q3', 'q4']
        .map(
          (u) => `${u}: sendFriendRequest(input: { userId: "${u}" }) { request { id } userErrors { code } }`,
        )
        .join(' ')} }`,
      {},
      cat,
    );
    const codes = ['q1', 'q2', 'q3', 'q4'].map((u) => r.data?.[u]?.userErrors[0]?.code ?? 'OK');
    expect(codes).toEqual(['OK', 'OK', 'OK', 'RATE_LIMITED']);
    expect(await pendingTo('q4')).toBe(0);
  });

  it('without a valid token, the 4th request from one address gets HTTP 429 with Retry-After; a socket is closed 4429', async () => {
    await db.handle.db.execute(sql`DELETE FROM rate_limits WHERE key LIKE 'anonymous:%'`);
    const anonymous = () =>
      fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ now }' }),
      });
    expect((await anonymous()).status).toBe(200);
    // A bad token counts as no token (guessing tokens is what this limit slows down).
    const bad = await t.http('{ now }', {}, 'not-a-token');
    expect(bad.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t2.http('{ now }')).errors).toBeUndefined();
    const fourth = await anonymous();
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await fourth.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
    });
    expect(body.errors[0]?.extensions).not.toHaveProperty('http');

    let closed: number | undefined;
    const client = t.ws(undefined, { onClosed: (code) => (closed = code) });
    const op = collect(client, '{ now }');
    await op.settle().catch(() => {});
    await new Promise<void>((r) => {
      const wait = () => (closed !== undefined ? r() : setTimeout(wait, 10));
      wait();
    });
    expect(closed).toBe(4429);
    // Signed-in users are not held back by their address.
    expect((await t.http('{ me { id } }', {}, await t.token('dan'))).errors).toBeUndefined();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/ties_rate_limited_total\{limit="anonymous"\} [1-9]/);
  });
  it('the retention sweep deletes counters whose window ended over an hour ago and keeps the rest', async () => {
    await db.handle.db.execute(sql`INSERT INTO rate_limits (key, points, expire) VALUES
      ('mutation:gone', 3, now() - interval '2 hours'),
      ('mutation:recent', 3, now() - interval '10 minutes'),
      ('mutation:live', 1, now() + interval '1 minute')`);
    const op = await t.token('sweeper', { operator: true });
    const r = await t.http<{ runRetentionSweep: { run: { prunedRateLimits: number } } }>(
      'mutation { runRetentionSweep { run { prunedRateLimits } userErrors { code } } }',
      {},
      op,
    );
    expect(r.data?.runRetentionSweep.run.prunedRateLimits).toBe(1);
    const left = await rows<{ key: string }>(
      db.handle.db,
      sql`SELECT key FROM rate_limits WHERE key IN ('mutation:gone', 'mutation:recent', 'mutation:live') ORDER BY key`,
    );
    expect(left.map((x) => x.key)).toEqual(['mutation:live', 'mutation:recent']);
  });
});
