import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient } from 'graphql-ws';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { type App, createApp } from '../../src/app.js';
import { signToken } from '../../src/auth.js';
import { type Clock, ManualClock, systemClock } from '../../src/clock.js';
import { type Config, DEFAULT_LIMITS } from '../../src/config.js';
import { loadProofSigner, type ProofSigner } from '../../src/contacts/contacts.proof.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { silentLogger } from './db.js';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

let proofSigner: Promise<ProofSigner> | undefined;
/** One generated proof key per test process (memory only). */
function testProofSigner(): Promise<ProofSigner> {
  if (!proofSigner) {
    proofSigner = (async () => {
      const { generateKeyPair, exportJWK } = await import('jose');
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      return loadProofSigner(JSON.stringify(await exportJWK(privateKey)), '/nonexistent');
    })();
  }
  return proofSigner;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    databaseUrl: undefined,
    dataDir: 'memory://',
    jwtSecret: TEST_SECRET,
    proofKey: undefined,
    timeTravel: false,
    logLevel: 'silent',
    nodeEnv: 'test',
    sweepIntervalSeconds: 0,
    noticeQueueMax: 10_000,
    databasePoolSize: 20,
    limits: DEFAULT_LIMITS,
    // Off: the domain suites send hundreds of mutations a second per user; test/app/rate-limits
    // turns them on.
    rateLimits: { windowSeconds: 60, mutationsPerUser: 0, anonymousPerIp: 0 },
    introspection: true,
    graphiql: true,
    demo: true,
    trustProxy: false,
    stopDelaySeconds: 0,
    stopTimeoutSeconds: 30,
    verificationSender: 'file',
    verificationWebhookUrl: undefined,
    verificationFile: join(tmpdir(), `ties-codes-${process.pid}-${randomUUID()}.log`),
    ...overrides,
  };
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
}

export interface TestApp {
  app: App;
  url: string;
  clock: Clock;
  /** A token for `userId` (1 h, signed with the test secret). */
  token(
    userId: string,
    opts?: { operator?: boolean; deviceId?: string; name?: string; ttlSeconds?: number; now?: Date },
  ): Promise<string>;
  /** POST /graphql; `token` is sent as a bearer header when given. */
  http<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GraphQLResponse<T>>;
  /** A graphql-ws client authenticated as `token` (closed by `stop`). */
  ws(token: string | undefined, extra?: { onClosed?: (code: number, reason: string) => void }): Client;
  /** Resolves once this instance has at least `n` live notice streams (a subscription is registered). */
  waitForStreams(n: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts an app on a free port over `database` (the caller owns and drops the database). */
export async function startTestApp(
  database: DatabaseHandle,
  opts: { clock?: Clock; config?: Partial<Config>; logger?: Logger } = {},
): Promise<TestApp> {
  const clock = opts.clock ?? new ManualClock();
  const config = testConfig(opts.config);
  const logger = opts.logger ?? silentLogger;
  const app = createApp({ config, database, clock, logger, proof: await testProofSigner() });
  const url = await app.start(0);
  const clients: Client[] = [];
  return {
    app,
    url,
    clock,
    token: (userId, o = {}) =>
      signToken(TEST_SECRET, {
        userId,
        ttlSeconds: o.ttlSeconds ?? 3600,
        now: o.now ?? systemClock.now(),
        ...(o.operator ? { operator: true } : {}),
        ...(o.deviceId ? { deviceId: o.deviceId } : {}),
        ...(o.name ? { name: o.name } : {}),
      }),
    async http(query, variables, token) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, ...((await res.json()) as object) };
    },
    ws(token, extra = {}) {
      const client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: false,
        on: {
          closed: (e) => {
            const ev = e as { code: number; reason: string };
            extra.onClosed?.(ev.code, ev.reason);
          },
        },
        onNonLazyError: () => {},
      });
      clients.push(client);
      return client;
    },
    async waitForStreams(n) {
      for (let i = 0; i < 2000 && app.deps.bus.streamCount < n; i++)
        await new Promise((r) => setTimeout(r, 5));
      if (app.deps.bus.streamCount < n)
        throw new Error(`expected ${n} live streams, have ${app.deps.bus.streamCount}`);
    },
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
    },
  };
}

/**
 * Collects what a subscription sends; `take(n)` resolves with the first `n` results. A wait fails
 * after `timeoutMs` (default 30 s).
 */
export function collect<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
  opts: { timeoutMs?: number } = {},
) {
  const results: { data?: T; errors?: GraphQLResponse['errors'] }[] = [];
  let error: unknown;
  let completed = false;
  const waiters: (() => void)[] = [];
  const poke = () => {
    for (const w of waiters.splice(0)) w();
  };
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (r) => {
        results.push(r as never);
        poke();
      },
      error: (e) => {
        error = e;
        poke();
      },
      complete: () => {
        completed = true;
        poke();
      },
    },
  );
  const until = async (cond: () => boolean, what: string) => {
    const deadline = systemClock.now().getTime() + (opts.timeoutMs ?? 30_000);
    while (!cond()) {
      if (error || completed) break;
      if (systemClock.now().getTime() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return {
    results,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
    async take(n: number) {
      await until(() => results.length >= n, `${n} results`);
      return results.slice(0, n);
    },
    async settle() {
      await until(() => completed || error !== undefined, 'completion');
    },
    dispose,
  };
}
