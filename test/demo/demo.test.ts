// The demo's server side (src/demo/demo.route.ts): /demo and its development token endpoint when
// DEMO is on; nothing at all when it is off or in production; DEMO=1 refused in production.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth.js';
import { systemClock } from '../../src/clock.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { DEMO_CAST, DEMO_TOKEN_TTL_SECONDS } from '../../src/demo/cast.js';
import { userExists } from '../../src/users/users.store.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startTestApp, TEST_SECRET, type TestApp } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SECRET = 'a-production-secret-of-at-least-32-chars';
/** What no answer may carry: a stack trace, a source path, an internal message. */
const INTERNAL = /\n\s+at |\.ts:\d+|node_modules|TypeError|SyntaxError|Unexpected token/;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function post(url: string, body: string, contentType = 'application/json') {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text };
}

describe('demo: configuration', () => {
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'ties-demo-config-'));
    dirs.push(d);
    return d;
  };
  const production = {
    NODE_ENV: 'production',
    JWT_SECRET: SECRET,
    DATABASE_URL: 'postgres://db.example/ties',
    PROOF_SIGNING_KEY: '{}',
    VERIFICATION_WEBHOOK_URL: 'https://sms.example/send',
  };

  it('is on by default outside production and off by default in production; DEMO=0 turns it off', () => {
    expect(loadConfig({ DATA_DIR: tempDir() }).demo).toBe(true);
    expect(loadConfig({ DATA_DIR: tempDir(), DEMO: '0' }).demo).toBe(false);
    expect(loadConfig(production).demo).toBe(false);
    expect(loadConfig({ ...production, DEMO: '0' }).demo).toBe(false);
  });

  it('DEMO=1 with NODE_ENV=production stops start-up with a ConfigError naming DEMO', () => {
    for (const value of ['1', 'true']) {
      let error: unknown;
      try {
        loadConfig({ ...production, DEMO: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('DEMO=1');
      expect((error as Error).message).toContain('production');
    }
  });

  it('the server process started with DEMO=1 in production exits with the message and no stack trace', async () => {
    const failure = await promisify(execFile)(TSX, ['src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...production, DEMO: '1', DATA_DIR: tempDir() },
      timeout: 60_000,
    }).then(
      () => {
        throw new Error('the server started');
      },
      (err: { code?: number; stderr?: string; killed?: boolean }) => err,
    );
    expect(failure.killed).toBeFalsy();
    expect(failure.code).toBe(78); // EX_CONFIG
    expect(failure.stderr).toContain('DEMO=1 is not allowed with NODE_ENV=production');
    expect(failure.stderr).not.toMatch(/\n\s+at |\.ts:\d+:\d+/);
  });

  it('a DEMO value that is not a switch is refused naming it', () => {
    expect(() => loadConfig({ DATA_DIR: tempDir(), DEMO: 'yes' })).toThrow(/DEMO/);
  });
});

describe('demo: on', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, ['scripts/build-demo.mjs'], { cwd: ROOT });
    db = await createTestDatabase('pg');
    t = await startTestApp(db.handle, { config: { demo: true } });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('GET /demo answers the page, which loads only from this server', async () => {
    for (const path of ['/demo', '/demo/', '/demo?as=bob']) {
      const res = await fetch(`${t.url}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      const html = await res.text();
      expect(html).toContain('/demo/demo.js');
      expect(html).not.toMatch(/https?:\/\//);
    }
    const js = await fetch(`${t.url}/demo/demo.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });

  it('POST /demo/token hands out a short-lived token for a cast member, operator only for the operator', async () => {
    const before = systemClock.now().getTime();
    for (const u of DEMO_CAST) {
      const r = await post(`${t.url}/demo/token`, JSON.stringify({ userId: u.id }));
      expect(r.status).toBe(200);
      const body = JSON.parse(r.text) as {
        token: string;
        operator: boolean;
        expiresAt: string;
        timeTravel: boolean;
      };
      expect(body.operator).toBe(u.operator);
      expect(body.timeTravel).toBe(false);
      const auth = await authenticate(body.token, TEST_SECRET, systemClock.now());
      expect(auth.ok).toBe(true);
      if (!auth.ok) continue;
      expect(auth.viewer.userId).toBe(u.id);
      expect(auth.viewer.operator).toBe(u.operator);
      const ttl = auth.viewer.expiresAt!.getTime() - before;
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual((DEMO_TOKEN_TTL_SECONDS + 2) * 1000);
      // The token works on /graphql.
      const me = await t.http<{ me: { id: string } }>('{ me { id } }', {}, body.token);
      expect(me.data?.me.id).toBe(u.id);
    }
  });

  it('every cast member exists once a token was handed out, so they can find each other', async () => {
    await post(`${t.url}/demo/token`, JSON.stringify({ userId: 'alice' }));
    for (const u of DEMO_CAST) expect(await userExists(db.handle.db, u.id)).toBe(true);
    const { token } = JSON.parse((await post(`${t.url}/demo/token`, '{"userId":"carol"}')).text) as {
      token: string;
    };
    // dan never asked for a token; carol can still ask him to be friends.
    const r = await t.http<{ sendFriendRequest: { userErrors: unknown[] } }>(
      'mutation { sendFriendRequest(input: { userId: "dan" }) { userErrors { code } } }',
      {},
      token,
    );
    expect(r.data?.sendFriendRequest.userErrors).toEqual([]);
  });

  it('bad input gets a clear 400 JSON error with no internal text', async () => {
    const cases: [string, string?][] = [
      ['{"userId":"mallory"}'],
      ['{"userId":""}'],
      ['{"userId":42}'],
      ['{}'],
      ['[]'],
      ['"alice"'],
      ['null'],
      ['{"userId":"alice","operator":true}'],
      ['{"userId":'],
      ['not json at all'],
      ['userId=alice', 'application/x-www-form-urlencoded'],
      ['{"userId":"alice"}', 'text/plain'],
    ];
    for (const [body, type] of cases) {
      const r = await post(`${t.url}/demo/token`, body, type);
      expect(r.status, body).toBe(400);
      expect(r.type, body).toMatch(/^application\/json/);
      const json = JSON.parse(r.text) as { errors: { message: string; extensions: { code: string } }[] };
      expect(json.errors[0]!.extensions.code, body).toMatch(/^(BAD_REQUEST|BAD_USER_INPUT)$/);
      expect(json.errors[0]!.message.length).toBeGreaterThan(10);
      expect(r.text, body).not.toMatch(INTERNAL);
      expect(r.text, body).not.toContain('token"');
    }
    const unknown = await post(`${t.url}/demo/token`, '{"userId":"mallory"}');
    expect(unknown.text).toContain('alice');
    const big = await post(`${t.url}/demo/token`, JSON.stringify({ userId: 'x'.repeat(10_000) }));
    expect(big.status).toBe(413);
    expect(big.text).not.toMatch(INTERNAL);
  });

  it('the development code reader refuses bad input and answers 404 before any code was sent', async () => {
    const bad = await post(`${t.url}/demo/verification-code`, '{"userId":"alice","groupId":"nope"}');
    expect(bad.status).toBe(400);
    expect(bad.text).not.toMatch(INTERNAL);
    const none = await post(
      `${t.url}/demo/verification-code`,
      '{"userId":"alice","groupId":"00000000-0000-4000-8000-000000000000"}',
    );
    expect(none.status).toBe(404);
    expect(JSON.parse(none.text).errors[0].extensions.code).toBe('NOT_FOUND');
  });
});

describe('demo: off', () => {
  let db: TestDatabase;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('pg');
    // Off by configuration; and on in the configuration but in production mode (mountDemo refuses
    // it there too, whatever a hand-built configuration says).
    apps.push(await startTestApp(db.handle, { config: { demo: false } }));
    apps.push(await startTestApp(db.handle, { config: { demo: true, nodeEnv: 'production' } }));
  }, 120_000);
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await db?.drop();
  });

  it('/demo, its assets, /demo/token and the code reader answer 404 and change nothing', async () => {
    for (const t of apps) {
      for (const path of ['/demo', '/demo/', '/demo?as=alice', '/demo/demo.js', '/demo/index.html']) {
        expect((await fetch(`${t.url}${path}`)).status, path).toBe(404);
      }
      for (const path of ['/demo/token', '/demo/verification-code']) {
        const r = await post(`${t.url}${path}`, '{"userId":"alice"}');
        expect(r.status, path).toBe(404);
        expect(r.text).not.toContain('token"');
      }
      expect((await post(`${t.url}/demo/token`, 'not json')).status).toBe(404);
    }
    for (const u of DEMO_CAST) expect(await userExists(db.handle.db, u.id)).toBe(false);
  });
});
