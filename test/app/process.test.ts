import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth.js';
import { systemClock } from '../../src/clock.js';
import { rows } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { eventually } from '../support/notices.js';
import { startProcess } from '../support/process.js';
import { collect, TEST_SECRET } from '../support/server.js';

/** What one HTTP request over `node:http` came to: an answer, or an error on a new or a reused socket. */
type Outcome =
  | { body: string; status: number; connection: string | undefined; json: unknown; reused: boolean }
  | { body: string; error: string; reused: boolean };

/** POSTs a GraphQL request through `agent`, telling whether it went on a kept-alive socket. */
function post(url: string, agent: http.Agent, token: string, query: string, variables: object, body: string) {
  return new Promise<Outcome>((resolve) => {
    const req = http.request(`${url}/graphql`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ body, error: err.code ?? err.message, reused: req.reusedSocket }),
    );
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => {
        text += String(d);
      });
      res.on('error', (err: NodeJS.ErrnoException) =>
        resolve({ body, error: err.code ?? err.message, reused: req.reusedSocket }),
      );
      res.on('end', () =>
        resolve({
          body,
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          json: JSON.parse(text),
          reused: req.reusedSocket,
        }),
      );
    });
    req.end(JSON.stringify({ query, variables }));
  });
}

/** GET `path` on a fresh connection: its status, or null once nothing listens. */
function probe(url: string, path: string) {
  return new Promise<number | null>((resolve) => {
    const req = http.get(`${url}${path}`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(null));
  });
}

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { message { id } userErrors { code } } }`;

// A real process on real Postgres: the shell (main.ts) owns SIGTERM, drains, and exits 0.
describe('process: SIGTERM stops the server gracefully', () => {
  let db: TestDatabase;
  const dataDir = mkdtempSync(join(tmpdir(), 'ties-process-'));
  /** The environment of a development server on this file's database; `extra` adds or overrides. */
  const serverEnv = (extra: Record<string, string>) => ({
    NODE_ENV: 'development',
    DATABASE_URL: db.url!,
    JWT_SECRET: TEST_SECRET,
    PORT: '0',
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    ...extra,
  });
  beforeAll(async () => {
    db = await createTestDatabase('pg');
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('closes a live subscription with 1001, finishes, and exits 0 (in development mode, where Apollo would add its own handler)', async () => {
    const { child, url, out } = await startProcess(serverEnv({ SWEEP_INTERVAL_SECONDS: '1' }));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const token = await signToken(TEST_SECRET, { userId: 'pat', ttlSeconds: 600, now: systemClock.now() });
    const { createClient } = await import('graphql-ws');
    const WebSocket = (await import('ws')).default;
    const closes: number[] = [];
    const client = createClient({
      url: `${url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
      on: { closed: (e) => closes.push((e as { code: number }).code) },
    });
    const sub = collect(client, 'subscription { notices { cursor } }');
    // The subscription is registered once the process reports one live stream.
    for (let i = 0; i < 600; i++) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      if (/^ties_notice_streams 1$/m.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^ties_notice_streams 1$/m);

    child.kill('SIGTERM');
    await eventually(() => closes.length > 0, 'the socket to close');
    expect(closes[0]).toBe(1001);
    expect(await exited).toBe(0);
    expect(out()).toContain('"msg":"stopped"');
    expect(out()).not.toContain('graceful stop took longer');
    await sub.settle().catch(() => {});
    await client.dispose();
  });

  // As a load balancer sees it.
  it('16 clients sending on kept-alive connections: each request is answered 2xx and committed, or 503 and not; never a reset on a kept-alive connection; /readyz reads 503', async () => {
    const { child, url, out } = await startProcess(
      serverEnv({
        SWEEP_INTERVAL_SECONDS: '0',
        STOP_DELAY_SECONDS: '1',
        RATE_LIMIT_MUTATIONS: '0', // 16 clients send far more than a user's default budget
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const tokenOf = (userId: string) =>
      signToken(TEST_SECRET, { userId, ttlSeconds: 600, now: systemClock.now() });
    const [ann, bob] = [await tokenOf('stop-ann'), await tokenOf('stop-bob')];
    const gql = async <T>(token: string, query: string, variables: object = {}) => {
      const r = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return ((await r.json()) as { data: T }).data;
    };
    await gql(bob, '{ me { id } }');
    const asked = await gql<{ sendFriendRequest: { request: { id: string } } }>(
      ann,
      'mutation($u: ID!) { sendFriendRequest(input: { userId: $u }) { request { id } } }',
      { u: 'stop-bob' },
    );
    const accepted = await gql<{ respondToFriendRequest: { contact: { conversation: { id: string } } } }>(
      bob,
      'mutation($r: ID!) { respondToFriendRequest(input: { requestId: $r, accept: true }) { contact { conversation { id } } } }',
      { r: asked.sendFriendRequest.request.id },
    );
    const conversationId = accepted.respondToFriendRequest.contact.conversation.id;
    const send = (agent: http.Agent, body: string) =>
      post(url, agent, ann, SEND, { input: { conversationId, body } }, body);

    const outcomes: Outcome[] = [];
    let signalled = false;
    let listenerClosed = false;
    // 16 busy clients, each on its own kept-alive connection, sending until nothing listens.
    const busy = Array.from({ length: 16 }, async (_, c) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let n = 0; ; n++) {
        const o = await send(agent, `busy-${c}-${n}`);
        outcomes.push(o);
        if ('error' in o || (signalled && o.status === 503)) break; // the listener is closed, or closing
      }
      agent.destroy();
    });
    // 4 quiet clients: one request before the signal, the next on the same kept-alive connection
    // once the listener is closed — it must get a clean 503, not a reset.
    const quietAgents = Array.from({ length: 4 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    for (const [q, agent] of quietAgents.entries()) outcomes.push(await send(agent, `quiet-${q}-0`));
    // Let the busy clients reach full speed on kept-alive connections first.
    await eventually(
      () => outcomes.filter((o) => 'status' in o && o.reused).length >= 64,
      'kept-alive traffic',
    );

    const readiness: number[] = [];
    child.kill('SIGTERM');
    signalled = true;
    for (;;) {
      const status = await probe(url, '/readyz');
      if (status === null) break;
      readiness.push(status);
    }
    listenerClosed = true;
    const quiet = await Promise.all(quietAgents.map((agent, q) => send(agent, `quiet-${q}-1`)));
    outcomes.push(...quiet);
    await Promise.all(busy);
    for (const agent of quietAgents) agent.destroy();
    expect(await exited).toBe(0);
    expect(listenerClosed).toBe(true);

    // /readyz turned 503 once the signal was handled and stayed so while the listener was open.
    const firstNotReady = readiness.indexOf(503);
    expect(firstNotReady, readiness.join(' ')).toBeGreaterThanOrEqual(0);
    expect(
      readiness.slice(0, firstNotReady).every((s) => s === 200),
      readiness.join(' '),
    ).toBe(true);
    expect(
      readiness.slice(firstNotReady).every((s) => s === 503),
      readiness.join(' '),
    ).toBe(true);
    // The quiet connections were kept alive across the delay and answered 503 + Connection: close.
    for (const o of quiet) {
      expect(o).toMatchObject({ status: 503, connection: 'close', reused: true });
      expect(
        (o as { json: { errors: { extensions: { code: string } }[] } }).json.errors[0]?.extensions.code,
      ).toBe('SERVICE_UNAVAILABLE');
    }
    // Every request: 2xx and committed, or 503 / a refused new connection and not committed.
    const stored = new Set(
      (
        await rows<{ body: string }>(
          db.handle.db,
          sql`SELECT body FROM messages WHERE conversation_id = ${conversationId}`,
        )
      ).map((r) => r.body),
    );
    const answered = new Set<string>();
    for (const o of outcomes) {
      if ('error' in o) {
        expect(o.reused, `${o.body}: ${o.error} on a kept-alive connection`).toBe(false);
        expect(['ECONNREFUSED', 'ECONNRESET']).toContain(o.error);
        expect(stored.has(o.body), `${o.body} failed but was committed`).toBe(false);
      } else if (o.status === 200) {
        expect(o.json).toMatchObject({ data: { sendMessage: { userErrors: [] } } });
        answered.add(o.body);
      } else {
        expect(o.status, o.body).toBe(503);
        expect(stored.has(o.body), `${o.body} answered 503 but was committed`).toBe(false);
      }
    }
    expect(stored).toEqual(answered);
    // Some requests were answered during the delay, after the signal, with Connection: close.
    expect(outcomes.some((o) => 'status' in o && o.status === 200 && o.connection === 'close')).toBe(true);
    expect(out()).toContain('"msg":"stopped"');
  });
});
