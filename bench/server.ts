/**
 * A server under test, run as a child process of bench/run.ts (so its RSS and CPU are its own).
 * `tsx bench/server.ts <mode> [databaseUrl]`, driven over the IPC channel:
 *   ties   — the ties app (createApp via startTestApp) on its own pool, over the bench database;
 *   apollo — a bare Apollo Server 5 on express5 answering a constant `me { id }` (no DB, no auth);
 *   ws     — a bare graphql-ws server (same graphql-ws/ws) with a trivial one-subscription schema,
 *            broadcasting from memory the notice the parent names in each `publish` message.
 * Listens on 127.0.0.1 only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { makeExecutableSchema } from '@graphql-tools/schema';
import express from 'express';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ChildRequest, ChildStats } from './child.js';
import { instrumentPg } from './instrument.js';

const mode = process.argv[2];
const databaseUrl = process.argv[3];

const send = (msg: unknown) => process.send?.(msg);
const sql = instrumentPg();
const elu0 = performance.eventLoopUtilization();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

interface Server {
  url: string;
  streams(): number;
  publish(seq: number): void;
  stop(): Promise<void>;
}

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startTies(): Promise<Server> {
  if (!databaseUrl) throw new Error('ties mode needs a database URL');
  const { openDatabase } = await import('../src/db/client.js');
  const { systemClock } = await import('../src/clock.js');
  const { silentLogger } = await import('../test/support/db.js');
  const { startTestApp } = await import('../test/support/server.js');
  // The production default pool (20 connections): no poolSize given.
  const database = await openDatabase({ databaseUrl, dataDir: 'memory://', logger: silentLogger });
  // Rate limits on, as in production, but raised out of reach: the bench pays for the counting
  // (one upsert per mutation field) without being refused.
  const rateLimits = { windowSeconds: 60, mutationsPerUser: 1e9, anonymousPerIp: 1e9 };
  const t = await startTestApp(database, { clock: systemClock, config: { rateLimits } });
  return {
    url: t.url,
    streams: () => t.app.deps.bus.streamCount,
    publish: () => {
      throw new Error('ties notices are published through the database');
    },
    async stop() {
      await t.stop();
      await database.close();
    },
  };
}

async function startApollo(): Promise<Server> {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  const apollo = new ApolloServer({
    typeDefs: 'type Query { me: User! } type User { id: ID! }',
    resolvers: { Query: { me: () => ({ id: 'bench' }) } },
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
  });
  await apollo.start();
  app.use('/graphql', express.json({ limit: '1mb' }), expressMiddleware(apollo));
  const url = await listen(httpServer);
  return {
    url,
    streams: () => 0,
    publish: () => {},
    stop: () => apollo.stop(),
  };
}

/** One subscriber's queue: the same shape as ties' NoticeStream, minus positions and the database. */
class Feed implements AsyncIterableIterator<unknown> {
  private readonly queue: unknown[] = [];
  private wake: (() => void) | undefined;
  private done = false;
  constructor(private readonly feeds: Set<Feed>) {
    feeds.add(this);
  }
  push(v: unknown): void {
    this.queue.push(v);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  async next(): Promise<IteratorResult<unknown>> {
    for (;;) {
      if (this.done) return { value: undefined, done: true };
      if (this.queue.length > 0) return { value: this.queue.shift(), done: false };
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
  }
  async return(): Promise<IteratorResult<unknown>> {
    this.done = true;
    this.feeds.delete(this);
    this.wake?.();
    return { value: undefined, done: true };
  }
  [Symbol.asyncIterator]() {
    return this;
  }
}

async function startWs(): Promise<Server> {
  const feeds = new Set<Feed>();
  const schema = makeExecutableSchema({
    typeDefs: /* GraphQL */ `
      interface Notice { cursor: String! }
      type ConversationPurged implements Notice {
        cursor: String!
        conversationId: ID!
        reason: String!
        purgedMessages: Int!
      }
      type Query { ok: Boolean! }
      type Subscription { notices: Notice! }
    `,
    resolvers: {
      Query: { ok: () => true },
      Subscription: { notices: { subscribe: () => new Feed(feeds), resolve: (n: unknown) => n } },
      Notice: { __resolveType: () => 'ConversationPurged' },
    },
  });
  const httpServer = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const cleanup = useServer({ schema }, wss);
  const url = await listen(httpServer);
  return {
    url,
    streams: () => feeds.size,
    publish(seq) {
      // The same fields ties resolves (payload spread, type name, an opaque cursor of similar length).
      const n = {
        conversationId: `bench-${seq}`,
        reason: 'R3',
        purgedMessages: 0,
        __typename: 'ConversationPurged',
        cursor: Buffer.from(`n1:${1000 + seq}:${seq}`).toString('base64url'),
      };
      for (const f of feeds) f.push(n);
    },
    async stop() {
      for (const f of [...feeds]) await f.return();
      await cleanup.dispose();
      await new Promise<void>((r) => {
        wss.close(() => r());
      });
      httpServer.closeAllConnections();
      await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}

function stats(s: Server): ChildStats {
  const m = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    cpuMicros: cpu.user + cpu.system,
    elu: performance.eventLoopUtilization(elu0).utilization,
    streams: s.streams(),
    statements: sql.statements,
    busStatements: sql.bus,
    loopDelayMaxMs: loopDelay.max / 1e6,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  };
}

async function main(): Promise<void> {
  const server =
    mode === 'ties' ? await startTies() : mode === 'apollo' ? await startApollo() : await startWs();
  let stopping = false;
  process.on('message', async (m: ChildRequest) => {
    try {
      if (m.cmd === 'publish') return server.publish(m.seq);
      if (m.cmd === 'gc') {
        for (let i = 0; i < 3; i++) globalThis.gc?.();
        await new Promise((r) => setTimeout(r, 50));
        globalThis.gc?.();
        loopDelay.reset();
      }
      if (m.cmd === 'stop') {
        if (stopping) return;
        stopping = true;
        await server.stop();
        send({ id: m.id, result: stats(server) });
        process.disconnect?.();
        return;
      }
      send({ id: m.id, result: stats(server) });
    } catch (err) {
      send({ id: 'id' in m ? m.id : -1, error: String((err as Error)?.stack ?? err) });
    }
  });
  // The parent gone (crash or Ctrl-C): never outlive it.
  process.on('disconnect', () => {
    if (!stopping) process.exit(0);
  });
  send({ event: 'ready', url: server.url });
}

main().catch((err) => {
  send({ event: 'failed', error: String((err as Error)?.stack ?? err) });
  process.exit(1);
});
