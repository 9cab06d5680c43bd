import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth.js';
import { rows } from '../../src/db/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { eventually, nextClose } from '../support/notices.js';
import { collect, startTestApp, TEST_SECRET } from '../support/server.js';

const HOUR_AGO = () => new Date(Date.now() - 3600_000);

/**
 * A token signed with the test secret (HS256) carrying exactly `claims`, plus `iat` and an `exp` an
 * hour from now unless `claims` says otherwise (`exp: undefined` leaves it out).
 */
async function crafted(claims: Record<string, unknown>): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const payload = Object.fromEntries(
    Object.entries({ iat, exp: iat + 3600, ...claims }).filter(([, v]) => v !== undefined),
  );
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(TEST_SECRET));
}

/** Tokens with a valid signature whose claims the server must refuse (API.md: Identity). */
const REFUSED_CLAIMS: [string, Record<string, unknown>][] = [
  ['a numeric sub', { sub: 42 }],
  ['an object sub', { sub: { id: 'alice' } }],
  ['a null sub', { sub: null }],
  ['an empty sub', { sub: '' }],
  ['a sub of 129 characters', { sub: 'a'.repeat(129) }],
  ['a sub holding U+0000', { sub: 'a\u0000b' }],
  ['no sub', {}],
  ['no exp', { sub: 'alice', exp: undefined }],
  ['an exp that is a string', { sub: 'alice', exp: String(Math.floor(Date.now() / 1000) + 3600) }],
  ['an exp beyond any date', { sub: 'alice', exp: 1e20 }],
];

describe('authentication (API.md: Identity)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv();
  });
  afterAll(() => env?.close());

  describe('over HTTP', () => {
    it('a valid bearer token identifies the viewer as its sub', async () => {
      const r = await env.server.http<{ me: { id: string } }>(
        '{ me { id } }',
        {},
        await env.server.token('alice'),
      );
      expect(r.status).toBe(200);
      expect(r.errors).toBeUndefined();
      expect(r.data?.me.id).toBe('alice');
    });

    it('without a token, me is refused with UNAUTHENTICATED while now needs no token', async () => {
      const me = await env.server.http('{ me { id } }');
      expect(me.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(me.data ?? null).toBeNull();
      const now = await env.server.http<{ now: string }>('{ now }');
      expect(now.errors).toBeUndefined();
      expect(typeof now.data?.now).toBe('string');
    });

    it('a token signed with another secret is refused with HTTP 401 and UNAUTHENTICATED', async () => {
      const forged = await signToken('another-secret-that-is-at-least-32-characters', {
        userId: 'mallory',
        ttlSeconds: 3600,
        now: new Date(),
      });
      const r = await env.server.http('{ now }', {}, forged);
      expect(r.status).toBe(401);
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(r.data ?? null).toBeNull();
    });

    it('a garbage token is refused with HTTP 401 and UNAUTHENTICATED', async () => {
      const r = await env.server.http('{ now }', {}, 'not-a-jwt');
      expect(r.status).toBe(401);
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it.each(REFUSED_CLAIMS)(
      'a token with %s is refused with HTTP 401 and UNAUTHENTICATED',
      async (_what, claims) => {
        const r = await env.server.http('{ me { id } }', {}, await crafted(claims));
        expect(r.status).toBe(401);
        expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
        expect(r.data ?? null).toBeNull();
      },
    );

    it('tokens from signToken are accepted: a sub of 1 and of 128 characters, emoji counted as one', async () => {
      for (const userId of ['h', 'h'.repeat(128), '🙂'.repeat(128)]) {
        const r = await env.server.http<{ me: { id: string } }>(
          '{ me { id } }',
          {},
          await env.server.token(userId),
        );
        expect(r.errors).toBeUndefined();
        expect(r.data?.me.id).toBe(userId);
      }
      // The same claims crafted by hand are accepted too: the refusals above are about the claims.
      const r = await env.server.http<{ me: { id: string } }>(
        '{ me { id } }',
        {},
        await crafted({ sub: 'hank' }),
      );
      expect(r.data?.me.id).toBe('hank');
    });

    it('signToken refuses to sign a user id the server would refuse', async () => {
      for (const userId of ['', 'h'.repeat(129), 'a\u0000b']) {
        await expect(env.server.token(userId)).rejects.toThrow(TypeError);
      }
    });

    it('an expired token is refused with HTTP 401 and UNAUTHENTICATED', async () => {
      const expired = await env.server.token('alice', { ttlSeconds: 60, now: HOUR_AGO() });
      const r = await env.server.http('{ me { id } }', {}, expired);
      expect(r.status).toBe(401);
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(r)).not.toMatch(/\n\s+at /);
    });
  });

  describe('over graphql-ws', () => {
    it('a valid token in connectionParams opens a socket that answers me', async () => {
      const client = env.server.ws(await env.server.token('bob'));
      const q = collect<{ me: { id: string } }>(client, '{ me { id } }');
      const [r] = await q.take(1);
      expect(r?.errors).toBeUndefined();
      expect(r?.data?.me.id).toBe('bob');
      await client.dispose();
    });

    it('a socket without a token is closed with 4403', async () => {
      const client = env.server.ws(undefined);
      expect((await nextClose(client)).code).toBe(4403);
    });

    it('a socket with a bad token is closed with 4403', async () => {
      const client = env.server.ws('not-a-jwt');
      expect((await nextClose(client)).code).toBe(4403);
    });

    it.each(REFUSED_CLAIMS)('a socket with a token with %s is closed with 4403', async (_what, claims) => {
      const client = env.server.ws(await crafted(claims));
      expect((await nextClose(client)).code).toBe(4403);
    });

    it('a socket with a token from signToken stays open and answers me', async () => {
      const client = env.server.ws(await env.server.token('h'.repeat(128)));
      const [r] = await collect<{ me: { id: string } }>(client, '{ me { id } }').take(1);
      expect(r?.data?.me.id).toBe('h'.repeat(128));
      await client.dispose();
    });

    it('a socket with an expired token is closed with 4403', async () => {
      const client = env.server.ws(await env.server.token('bob', { ttlSeconds: 60, now: HOUR_AGO() }));
      expect((await nextClose(client)).code).toBe(4403);
    });

    it('a socket is closed with 4403 when its token expires while it is connected', async () => {
      const client = env.server.ws(await env.server.token('carol', { ttlSeconds: 2 }));
      const closed = nextClose(client);
      // The socket is accepted first: a query answers while the token is still valid.
      const [r] = await collect<{ me: { id: string } }>(client, '{ me { id } }').take(1);
      expect(r?.data?.me.id).toBe('carol');
      const sub = collect(client, 'subscription { notices { cursor } }');
      await env.server.waitForStreams(1);
      expect(await closed).toMatchObject({ code: 4403 });
      // The subscription's stream is released with the socket.
      await sub.settle().catch(() => {});
      await eventually(() => env.server.app.deps.bus.streamCount === 0, 'the stream to be released');
    });
  });

  describe('just-in-time users', () => {
    const userRow = async (id: string) =>
      rows<{ id: string; name: string }>(env.db.handle.db, sql`SELECT id, name FROM users WHERE id = ${id}`);

    it('a user row is created on first sight over HTTP, with the name claim as display name', async () => {
      expect(await userRow('dora')).toEqual([]);
      const token = await env.server.token('dora', { name: 'Dora Explorer' });
      const r = await env.server.http<{ me: { id: string; name: string } }>('{ me { id name } }', {}, token);
      expect(r.data?.me).toEqual({ id: 'dora', name: 'Dora Explorer' });
      expect(await userRow('dora')).toEqual([{ id: 'dora', name: 'Dora Explorer' }]);
    });

    it('a user row is created on first sight over graphql-ws too', async () => {
      expect(await userRow('eve')).toEqual([]);
      const client = env.server.ws(await env.server.token('eve', { name: 'Eve Online' }));
      const [r] = await collect<{ me: { name: string } }>(client, '{ me { name } }').take(1);
      expect(r?.data?.me.name).toBe('Eve Online');
      expect(await userRow('eve')).toEqual([{ id: 'eve', name: 'Eve Online' }]);
      await client.dispose();
    });

    it('a user first seen without a name claim is named by their id', async () => {
      const r = await env.server.http<{ me: { name: string } }>(
        '{ me { name } }',
        {},
        await env.server.token('frank'),
      );
      expect(r.data?.me.name).toBe('frank');
      expect(await userRow('frank')).toEqual([{ id: 'frank', name: 'frank' }]);
    });

    it('a later token with another name does not rename an existing user', async () => {
      await env.server.http('{ me { id } }', {}, await env.server.token('gina', { name: 'Gina' }));
      // A second instance has not seen gina: it must not overwrite the row either.
      const other = await startTestApp(env.db.handle);
      try {
        const r = await other.http<{ me: { name: string } }>(
          '{ me { name } }',
          {},
          await other.token('gina', { name: 'Impostor' }),
        );
        expect(r.data?.me.name).toBe('Gina');
      } finally {
        await other.stop();
      }
    });
  });
});

describe('verified tokens are remembered, never past their bounds', () => {
  const SECRET = 'a-secret-of-at-least-32-characters-for-hs256!';
  it('a token accepted once is accepted again without re-verifying, and refused once its exp passes', async () => {
    const { authenticate } = await import('../../src/auth.js');
    const t0 = new Date('2026-12-03T10:00:00Z');
    const token = await signToken(SECRET, { userId: 'zoe', ttlSeconds: 60, now: t0 });
    const first = await authenticate(`Bearer ${token}`, SECRET, t0);
    const again = await authenticate(token, SECRET, new Date(t0.getTime() + 59_000));
    expect(first.ok && again.ok && again.viewer.userId).toBe('zoe');
    // exp is iat + 60 s: at that second the cached token is refused exactly as jose refuses it.
    expect(await authenticate(token, SECRET, new Date(t0.getTime() + 60_000))).toEqual({
      ok: false,
      reason: 'Token expired.',
    });
    // Remembered under its secret only: the same token against another secret is still refused.
    expect((await authenticate(token, `${SECRET}-other`, t0)).ok).toBe(false);
  });

  it('a token whose nbf lies ahead is refused until then, remembered or not', async () => {
    const { authenticate } = await import('../../src/auth.js');
    const t0 = new Date('2026-12-03T10:00:00Z');
    const iat = Math.floor(t0.getTime() / 1000);
    const token = await new SignJWT({ nbf: iat + 30 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('yan')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(new TextEncoder().encode(SECRET));
    expect((await authenticate(token, SECRET, t0)).ok).toBe(false);
    expect((await authenticate(token, SECRET, new Date(t0.getTime() + 30_000))).ok).toBe(true);
    expect((await authenticate(token, SECRET, new Date(t0.getTime() + 10_000))).ok).toBe(false);
  });
});
