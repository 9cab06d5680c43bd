import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { sql } from 'drizzle-orm';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GraphQLError, type GraphQLFormattedError, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { authenticate, type Viewer } from './auth.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import type { ProofSigner } from './contacts/contacts.proof.js';
import type { DatabaseHandle } from './db/client.js';
import { type Context, createLoaders, type Deps } from './graphql/context.js';
import { depthLimit } from './graphql/depth.js';
import { type FormattedError, isExposed, maskError } from './graphql/errors.js';
import { buildSchema } from './graphql/schema.js';
import { NoticeBus, StreamError } from './notices/notices.bus.js';
import { ensureUser } from './users/users.store.js';

export const GRAPHIQL_DIR = fileURLToPath(new URL('../.graphiql', import.meta.url));

export interface AppOptions {
  config: Config;
  database: DatabaseHandle;
  clock: Clock;
  logger: Logger;
  proof: ProofSigner;
}

export interface App {
  /** Listens on `port` (0 = any free port) and resolves with the base URL. */
  start(port?: number): Promise<string>;
  /** Graceful stop: stops accepting, closes sockets with 1001, waits for in-flight work. Leaves the database open. */
  stop(): Promise<void>;
  readonly url: string;
  readonly deps: Deps;
  readonly httpServer: Server;
}

/** Users seen by this process, so first-sight creation costs one INSERT per user per process. */
const SEEN_USERS_MAX = 100_000;

/**
 * One HTTP server: `/graphql` (POST/GET and graphql-ws over WebSocket; GraphiQL for browsers),
 * `/healthz`, `/readyz`, `/metrics`. No globals: everything comes from `opts`.
 */
export function createApp(opts: AppOptions): App {
  const { config, database, clock, logger } = opts;
  const db = database.db;
  const bus = new NoticeBus(database, logger, config.noticeQueueMax);
  const deps: Deps = { config, db, clock, logger, bus, proof: opts.proof };
  const schema = buildSchema();
  const rules = [...specifiedRules, depthLimit(config.maxQueryDepth)];
  const seen = new Set<string>();
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let url = '';

  const logFault = (err: unknown, requestId: string) => logger.error({ err, requestId }, 'internal error');

  /** Creates the user row on first sight (API.md: just-in-time). */
  const admit = async (viewer: Viewer): Promise<void> => {
    if (seen.has(viewer.userId)) return;
    await ensureUser(db, viewer.userId, viewer.name, clock.now());
    if (seen.size >= SEEN_USERS_MAX) seen.clear();
    seen.add(viewer.userId);
  };

  const contextFor = (viewer: Viewer | null, requestId: string): Context => ({
    deps,
    viewer,
    requestId,
    loaders: createLoaders(db),
  });

  // --- metrics -------------------------------------------------------------------------------
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'ties_notice_streams',
    help: 'Live notice subscriptions on this instance.',
    registers: [registry],
    collect() {
      this.set(bus.streamCount);
    },
  });
  new Gauge({
    name: 'ties_notice_stream_fallbacks',
    help: 'Times a subscription fell too far behind and read on from the table instead of its buffer.',
    registers: [registry],
    collect() {
      this.set(bus.fallbacks);
    },
  });
  new Gauge({
    name: 'ties_notices_delivered',
    help: 'Notices handed to subscribers by this instance since start.',
    registers: [registry],
    collect() {
      this.set(bus.delivered);
    },
  });

  // --- HTTP ----------------------------------------------------------------------------------
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);

  const apollo = new ApolloServer<Context>({
    schema,
    validationRules: [depthLimit(config.maxQueryDepth)],
    introspection: true,
    // main.ts owns SIGTERM/SIGINT; Apollo's own handler would call stop() a second time and never return.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    // The request id is added in willSendResponse, where the context is known.
    formatError: (formatted, error) =>
      maskError(formatted as FormattedError, error, '', 'GRAPHQL_VALIDATION_FAILED') as GraphQLFormattedError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      {
        // Requests carry their id into every error, so a hidden fault can be found in the log.
        async requestDidStart({ contextValue }) {
          return {
            async didEncounterErrors({ errors }) {
              for (const e of errors) {
                if (!isExposed(e.toJSON() as FormattedError, e))
                  logFault(e.originalError ?? e, contextValue.requestId);
              }
            },
            async willSendResponse({ response }) {
              if (response.body.kind === 'single' && response.body.singleResult.errors) {
                response.body.singleResult.errors = response.body.singleResult.errors.map((e) =>
                  e.extensions?.code === 'INTERNAL_SERVER_ERROR'
                    ? { ...e, extensions: { ...e.extensions, requestId: contextValue.requestId } }
                    : e,
                );
              }
            },
          };
        },
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    let database = false;
    let migrations = false;
    try {
      const r = (await db.execute(
        // The newest migration is recorded: migrations ran on this database.
        sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
      )) as unknown as { rows: { n: number }[] };
      database = true;
      migrations = (r.rows[0]?.n ?? 0) > 0;
    } catch {
      // database unreachable or not migrated: reported below
    }
    // Read after the query: a stop or a lost listener while it ran must show in this answer.
    const checks = { database, migrations, listener: bus.connected, stopping };
    const ready = database && migrations && checks.listener && !stopping;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  // GraphiQL, bundled locally (scripts/build-graphiql.mjs): for browsers asking for HTML.
  app.use('/graphiql', express.static(GRAPHIQL_DIR, { index: false, maxAge: '1h', dotfiles: 'allow' }));
  app.get('/graphql', (req, res, next) => {
    const wantsHtml =
      req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
    if (!wantsHtml || req.query.query !== undefined) return next();
    const page = `${GRAPHIQL_DIR}/index.html`;
    if (!existsSync(page)) {
      res
        .status(503)
        .type('text')
        .send('GraphiQL is not built; run `node scripts/build-graphiql.mjs` (npm start does).');
      return;
    }
    res.sendFile(page, { dotfiles: 'allow' });
  });

  let apolloMiddleware: express.RequestHandler = (_req, _res, next) => next(new Error('server not started'));
  app.use('/graphql', express.json({ limit: '1mb' }), (req, res, next) => apolloMiddleware(req, res, next));

  // Malformed JSON (and anything else that reaches here) gets a GraphQL-shaped answer, never a stack trace.
  app.use((err: { type?: string; status?: number }, req: Request, res: Response, _next: NextFunction) => {
    const requestId = randomUUID();
    if (err.type === 'entity.parse.failed') {
      res
        .status(400)
        .json({ errors: [{ message: 'Malformed JSON body.', extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    if (err.type === 'entity.too.large') {
      res
        .status(413)
        .json({ errors: [{ message: 'Request body too large.', extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    if (err.status && err.status >= 400 && err.status < 500) {
      res
        .status(err.status)
        .json({ errors: [{ message: 'Bad request.', extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    logger.error({ err, requestId, path: req.path }, 'unhandled HTTP error');
    res.status(500).json({
      errors: [
        { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } },
      ],
    });
  });

  // --- WebSocket (graphql-ws) -------------------------------------------------------------------
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  type SocketExtra = {
    viewer?: Viewer;
    expiryTimer?: NodeJS.Timeout;
  };
  const wsCleanup = useServer<Record<string, unknown>, SocketExtra>(
    {
      schema,
      // graphql-ws bypasses Apollo: the same validation rules (depth) apply here.
      validate: (s, doc) => validate(s, doc, rules),
      onConnect: async (ctx) => {
        if (stopping) {
          // Going away, not forbidden: the client should reconnect (to another instance), not drop its token.
          ctx.extra.socket.close(1001, 'Going away');
          return false;
        }
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (typeof raw !== 'string') return false;
        const auth = await authenticate(raw, config.jwtSecret, systemClock.now());
        if (!auth.ok) return false;
        await admit(auth.viewer);
        ctx.extra.viewer = auth.viewer;
        const exp = auth.viewer.expiresAt;
        if (exp) {
          // The socket lives no longer than its token.
          const ms = Math.max(0, exp.getTime() - systemClock.now().getTime());
          ctx.extra.expiryTimer = setTimeout(
            () => ctx.extra.socket.close(4403, 'Token expired'),
            Math.min(ms, 2 ** 31 - 1),
          );
        }
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.expiryTimer) clearTimeout(ctx.extra.expiryTimer);
      },
      context: (ctx) => contextFor(ctx.extra.viewer ?? null, randomUUID()),
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return;
        const requestId = (args.contextValue as Context).requestId;
        return {
          ...result,
          errors: result.errors.map((e) => {
            const formatted = e.toJSON() as FormattedError;
            if (!isExposed(formatted, e)) logFault(e.originalError ?? e, requestId);
            return maskError(formatted, e, requestId);
          }),
        } as never;
      },
      onError: (_ctx, _id, _payload, errs) =>
        errs.map((e) => {
          const cause = e.originalError;
          if (cause instanceof StreamError)
            return { message: cause.message, extensions: { code: cause.code } };
          const requestId = randomUUID();
          if (!isExposed(e.toJSON() as FormattedError, e)) logFault(e.originalError ?? e, requestId);
          return maskError(
            e.toJSON() as FormattedError,
            e,
            requestId,
            'GRAPHQL_VALIDATION_FAILED',
          ) as GraphQLFormattedError;
        }),
    },
    wsServer,
  );

  return {
    deps,
    httpServer,
    get url() {
      return url;
    },
    async start(port = config.port) {
      await bus.start();
      await apollo.start();
      apolloMiddleware = expressMiddleware(apollo, {
        context: async ({ req }) => {
          const requestId = String(req.headers['x-request-id'] ?? randomUUID()).slice(0, 100);
          const header = req.headers.authorization;
          if (!header) return contextFor(null, requestId);
          const auth = await authenticate(header, config.jwtSecret, systemClock.now());
          if (!auth.ok) {
            throw new GraphQLError(auth.reason, {
              extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
            });
          }
          await admit(auth.viewer);
          return contextFor(auth.viewer, requestId);
        },
      });
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const { port: actual } = httpServer.address() as AddressInfo;
      url = `http://127.0.0.1:${actual}`;
      logger.info({ url: `${url}/graphql` }, 'ties is listening');
      return url;
    },
    stop() {
      // Every caller waits for the same drain: a second stop() must not return before it ends.
      stopped ??= (async () => {
        stopping = true;
        // Drains in parallel: HTTP (in-flight requests finish, idle connections close, no new ones)
        // and graphql-ws (sockets closed with 1001).
        await apollo.stop();
        await bus.stop();
      })();
      return stopped;
    },
  };
}
