import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { sql } from 'drizzle-orm';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLFormattedError,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import onHeaders from 'on-headers';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import proxyaddr from 'proxy-addr';
import { WebSocketServer } from 'ws';
import { authenticate, type Viewer } from './auth.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import type { ProofSigner } from './contacts/contacts.proof.js';
import type { DatabaseHandle } from './db/client.js';
import { mountDemo } from './demo/demo.route.js'; // the live demo at /demo (config.demo)
import { downloadExport } from './export/export.route.js';
import { downloadFile } from './files/files.route.js';
import { fileStore } from './files/files.store.js';
import { type Context, createLoaders } from './graphql/context.js';
import { type FormattedError, isExposed, maskError, rateLimitedError } from './graphql/errors.js';
import { admitSource, checkCost, limitError, limitRules } from './graphql/limits.js';
import { buildSchema } from './graphql/schema.js';
import { createMetrics } from './metrics.js';
import { NoticeBus, StreamError } from './notices/notices.bus.js';
import { createRateLimiter } from './ratelimits/ratelimits.js';
import type { Deps } from './shared/deps.js';
import { ensureUser } from './users/users.store.js';

export const GRAPHIQL_DIR = fileURLToPath(new URL('../.graphiql', import.meta.url));

/** A subscription asked over HTTP: it is served over graphql-ws on the same path (N1). */
const SUBSCRIPTION_OVER_HTTP = new GraphQLError(
  'Subscriptions are served over graphql-ws (protocol graphql-transport-ws) on this path, not over HTTP.',
  { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
);

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
  /**
   * Graceful stop, as load balancers need it: `/readyz` answers 503 at once and every answer closes
   * its connection; after `config.stopDelaySeconds` the listener closes, sockets close with 1001,
   * requests already received are answered and any request that still arrives on a kept-alive
   * connection gets 503 with `Connection: close` before anything runs. Resolves once every
   * connection ended. Leaves the database open.
   */
  stop(): Promise<void>;
  readonly url: string;
  readonly deps: Deps;
  readonly httpServer: Server;
}

/** Users seen by this process, so first-sight creation costs one INSERT per user per process. */
const SEEN_USERS_MAX = 100_000;
/** A client's `X-Request-Id` is kept when it looks like one; else the server makes one. */
const REQUEST_ID = /^[\w.:-]{1,100}$/;
/**
 * Apollo's own refusals of a malformed request that carry an HTTP 4xx but no code (a persisted
 * query whose hash does not match its query) are the client's doing: BAD_REQUEST, not a fault.
 */
function clientErrorOfApollo(formatted: FormattedError, error: unknown): FormattedError {
  const own = error instanceof GraphQLError ? error.extensions : undefined;
  const status = (own?.http as { status?: number } | undefined)?.status;
  if (own?.code !== undefined || status === undefined || status < 400 || status >= 500) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_REQUEST' } };
}

/** The operation name the access log line carries (set on the response's context). */
const operationOf = (res: object) =>
  (res as { locals?: { context?: Context } }).locals?.context?.operation.name ?? null;

/**
 * One HTTP server: `/graphql` (POST/GET and graphql-ws over WebSocket; GraphiQL for browsers),
 * `/healthz`, `/readyz`, `/metrics`. No globals: everything comes from `opts`.
 */
export function createApp(opts: AppOptions): App {
  const { config, database, clock, logger } = opts;
  const db = database.db;
  const bus = new NoticeBus(database, logger, config.noticeQueueMax);
  const metrics = createMetrics(bus);
  const rateLimiter = createRateLimiter(db, config.rateLimits);
  const deps: Deps = { config, db, clock, logger, bus, proof: opts.proof, rateLimiter, metrics };
  const schema = buildSchema();
  const { limits } = config;
  // One set of operation limits for both transports (graphql-ws bypasses Apollo's validation).
  const shapeRules = limitRules(limits, config.introspection);
  const wsRules = [...specifiedRules, ...shapeRules];
  const seen = new Set<string>();
  /** SIGTERM seen: /readyz answers 503, every answer closes its connection. */
  let stopping = false;
  /** The listener is closed: a request arriving on a kept-alive connection is answered 503. */
  let draining = false;
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
    loaders: createLoaders(db, viewer?.userId ?? null, clock),
    operation: { name: null },
  });

  // --- HTTP ----------------------------------------------------------------------------------
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy, which hop's X-Forwarded-For names the client (per-address rate limits).
  app.set('trust proxy', config.trustProxy);
  const trust = app.get('trust proxy fn') as (addr: string, i: number) => boolean;
  const httpServer = createServer(app);

  /** Counts one request without a valid token against its address; the refusal when over the limit. */
  const limitAnonymous = async (address: string | undefined): Promise<GraphQLError | undefined> => {
    const wait = await rateLimiter.anonymous(address ?? 'unknown');
    if (wait === undefined) return undefined;
    metrics.rateLimited('anonymous');
    return rateLimitedError(wait);
  };

  const apollo = new ApolloServer<Context>({
    schema,
    validationRules: shapeRules,
    // Introspection is refused by our own rule when it is off (limitRules), on both transports alike.
    introspection: true,
    // A second guard behind admitSource: the parser itself stops past the token limit.
    parseOptions: { maxTokens: limits.maxTokens },
    // main.ts owns SIGTERM/SIGINT; Apollo's own handler would call stop() a second time and never return.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    // The request id is added in willSendResponse, where the context is known.
    formatError: (formatted, error) =>
      maskError(
        clientErrorOfApollo(formatted as FormattedError, error),
        error,
        '',
        'GRAPHQL_VALIDATION_FAILED',
      ) as GraphQLFormattedError,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      {
        // Requests carry their id into every error, so a hidden fault can be found in the log.
        async requestDidStart({ contextValue }) {
          return {
            async didResolveOperation({ request, document, operation, operationName }) {
              contextValue.operation.name = operationName;
              if (operation?.operation === 'subscription') throw SUBSCRIPTION_OVER_HTTP;
              const refusal = checkCost(
                schema,
                document,
                request.variables,
                operationName ?? undefined,
                limits,
              );
              if (refusal) throw refusal;
            },
            async didEncounterErrors({ errors }) {
              for (const e of errors) {
                if (!isExposed(e.toJSON() as FormattedError, e))
                  logFault(e.originalError ?? e, contextValue.requestId);
              }
            },
            async willSendResponse({ response }) {
              if (response.body.kind === 'single' && response.body.singleResult.errors) {
                for (const e of response.body.singleResult.errors)
                  metrics.error(String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'), 'http');
                response.body.singleResult.errors = response.body.singleResult.errors.map((e) =>
                  e.extensions?.code === 'INTERNAL_SERVER_ERROR'
                    ? { ...e, extensions: { ...e.extensions, requestId: contextValue.requestId } }
                    : e,
                );
              }
            },
          };
        },
      },
    ],
  });

  // The graceful stop (App.stop): from its start every answer closes its connection, so clients
  // reconnect (through the load balancer, to another instance) instead of reusing this one; once
  // the listener is closed, a request arriving on a kept-alive connection is refused before
  // anything runs — a clean 503, never a reset, and nothing of it committed.
  app.use((req, res, next) => {
    // Also for a request that started before the stop and is answered after it began.
    onHeaders(res, () => {
      if (stopping) res.setHeader('Connection', 'close');
    });
    if (!draining || req.path === '/readyz') return next();
    res
      .status(503)
      .setHeader('Retry-After', '1')
      .json({
        errors: [
          {
            message: 'The server is stopping; nothing ran. Send the request again.',
            extensions: { code: 'SERVICE_UNAVAILABLE' },
          },
        ],
      });
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
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // Attachments' bytes (Attachment.url), with the same bearer token as /graphql.
  app.get('/files/:id', downloadFile(deps, fileStore, limitAnonymous));
  // G12: a conversation archive, for the user who exported it, until its link expires.
  app.get('/exports/:id', downloadExport(deps, limitAnonymous));

  // One access-log line per HTTP request to /graphql: request id, operation name, status,
  // duration — never a header (the token), a query string or a variable.
  app.use(
    '/graphql',
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      quietReqLogger: true,
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
      customSuccessObject: (_req, res, val) => ({ ...val, operation: operationOf(res) }),
      customErrorObject: (_req, res, _err, val) => ({ ...val, operation: operationOf(res) }),
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    }),
  );

  // GraphiQL, bundled locally (scripts/build-graphiql.mjs): for browsers asking for HTML.
  if (config.graphiql)
    app.use('/graphiql', express.static(GRAPHIQL_DIR, { index: false, maxAge: '1h', dotfiles: 'allow' }));
  app.get('/graphql', (req, res, next) => {
    if (!config.graphiql) return next();
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

  // The live demo app at /demo and its development token endpoint (config.demo; never in production).
  mountDemo(app, deps);

  let apolloMiddleware: express.RequestHandler = (_req, _res, next) => next(new Error('server not started'));
  /** The cheapest refusals first: a document too long or of too many tokens is never parsed. */
  const admitDocument = (req: Request, res: Response, next: NextFunction) => {
    const query =
      req.method === 'GET' ? req.query.query : (req.body as { query?: unknown } | undefined)?.query;
    const refusal = typeof query === 'string' ? admitSource(query, limits) : undefined;
    if (!refusal) return next();
    metrics.error('GRAPHQL_VALIDATION_FAILED', 'http');
    res
      .status(400)
      .json({ errors: [{ message: refusal.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
  };
  app.use(
    '/graphql',
    (_req, res, next) => {
      res.locals.started = performance.now();
      next();
    },
    express.json({ limit: limits.maxRequestBytes }),
    admitDocument,
    (req, res, next) => apolloMiddleware(req, res, next),
  );

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
  // A message larger than an HTTP body closes the socket (1009) before it is read.
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: limits.maxRequestBytes,
  });
  type SocketExtra = {
    viewer?: Viewer;
    expiryTimer?: NodeJS.Timeout;
    /** Operations started on this socket: when, and under which name (access log, metrics). */
    operations?: Map<string, { started: number; name: string | null; requestId: string }>;
  };
  /** graphql-js's own request errors, coded as Apollo codes them on HTTP. */
  const coded = (errors: readonly GraphQLError[], code: string) =>
    errors.map((e) =>
      e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { code } }),
    );
  const logOperation = (requestId: string, name: string | null, status: string, started: number) =>
    logger.info(
      {
        requestId,
        operation: name ?? null,
        transport: 'ws',
        status,
        responseTime: Math.round(performance.now() - started),
      },
      'operation',
    );

  /**
   * Parses, validates and prices one graphql-ws operation before it runs, with the same limits
   * as HTTP. A refusal is an `error` message for that operation id only: the socket and its other
   * operations stay up.
   */
  const prepare = (payload: {
    query: string;
    variables?: Record<string, unknown> | null;
    operationName?: string | null;
  }) => {
    const source = admitSource(payload.query, limits);
    if (source) return [source];
    let document: DocumentNode;
    try {
      document = parse(payload.query, { maxTokens: limits.maxTokens });
    } catch (err) {
      return coded(
        [err instanceof GraphQLError ? err : limitError('The operation is nested too deeply.')],
        'GRAPHQL_PARSE_FAILED',
      );
    }
    let errors: readonly GraphQLError[];
    try {
      errors = validate(schema, document, wsRules);
    } catch {
      errors = [limitError('The operation is nested too deeply.')];
    }
    if (errors.length > 0) return coded(errors, 'GRAPHQL_VALIDATION_FAILED');
    const cost = checkCost(
      schema,
      document,
      payload.variables ?? undefined,
      payload.operationName ?? undefined,
      limits,
    );
    return cost ? [cost] : document;
  };

  const wsCleanup = useServer<Record<string, unknown>, SocketExtra>(
    {
      schema,
      // Close reasons never carry an internal message, whatever NODE_ENV says.
      isProd: true,
      onConnect: async (ctx) => {
        if (stopping) {
          // Going away, not forbidden: the client should reconnect (to another instance), not drop its token.
          ctx.extra.socket.close(1001, 'Going away');
          return false;
        }
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const auth =
          typeof raw === 'string' ? await authenticate(raw, config.jwtSecret, systemClock.now()) : undefined;
        if (!auth?.ok) {
          const limited = await limitAnonymous(proxyaddr(ctx.extra.request, trust));
          if (limited) {
            ctx.extra.socket.close(
              4429,
              `Too many requests; retry in ${limited.extensions.retryAfterSeconds} s`,
            );
            return false;
          }
          return false;
        }
        await admit(auth.viewer);
        ctx.extra.viewer = auth.viewer;
        ctx.extra.operations = new Map();
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
      onSubscribe: (ctx, id, payload) => {
        const started = performance.now();
        const requestId = randomUUID();
        let name = payload.operationName ?? null;
        const refuse = (errors: readonly GraphQLError[]) => {
          for (const e of errors) metrics.error(String(e.extensions?.code), 'ws');
          logOperation(requestId, name, 'refused', started);
          return errors;
        };
        // ctx.subscriptions already holds this one.
        if (Object.keys(ctx.subscriptions).length > limits.maxOperationsPerSocket)
          return refuse([
            new GraphQLError(
              `This socket already carries ${limits.maxOperationsPerSocket} live operations; complete one first.`,
              { extensions: { code: 'RATE_LIMITED' } },
            ),
          ]);
        const prepared = prepare(payload);
        if (Array.isArray(prepared)) return refuse(prepared);
        name = getOperationAST(prepared, payload.operationName)?.name?.value ?? null;
        ctx.extra.operations?.set(id, { started, name, requestId });
        const contextValue = contextFor(ctx.extra.viewer ?? null, requestId);
        contextValue.operation.name = name;
        return {
          schema,
          document: prepared,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue,
        };
      },
      onOperation: (ctx, id) => {
        // Set up (a subscription) or answered (a query or mutation): the duration the histogram keeps.
        const op = ctx.extra.operations?.get(id);
        if (op) metrics.operation(op.name, 'ws', (performance.now() - op.started) / 1000);
      },
      onComplete: (ctx, id) => {
        const op = ctx.extra.operations?.get(id);
        if (!op) return;
        ctx.extra.operations?.delete(id);
        logOperation(op.requestId, op.name, 'complete', op.started);
      },
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return;
        const requestId = (args.contextValue as Context).requestId;
        return {
          ...result,
          errors: result.errors.map((e) => {
            const formatted = e.toJSON() as FormattedError;
            if (!isExposed(formatted, e)) logFault(e.originalError ?? e, requestId);
            const masked = maskError(formatted, e, requestId);
            metrics.error(String(masked.extensions?.code), 'ws');
            return masked;
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
  // graphql-ws reports a socket's errors on the console and closes it 1011. The one a client can
  // cause — a message over maxPayload, which ws has already answered with 1009 — goes to our log
  // as a warning instead; anything else is still closed as graphql-ws does.
  wsServer.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.once('error', (err: Error & { code?: string }) => {
      logger.warn({ err: { message: err.message, code: err.code } }, 'WebSocket error');
      if (socket.readyState === socket.OPEN) socket.close(1011, 'Internal server error');
    });
  });

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
        context: async ({ req, res }) => {
          const requestId = String(req.id);
          const header = req.headers.authorization;
          const auth = header ? await authenticate(header, config.jwtSecret, systemClock.now()) : undefined;
          let context: Context;
          if (auth?.ok) {
            await admit(auth.viewer);
            context = contextFor(auth.viewer, requestId);
          } else {
            const limited = await limitAnonymous(req.ip);
            if (limited) throw limited;
            if (auth) {
              throw new GraphQLError(auth.reason, {
                extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
              });
            }
            context = contextFor(null, requestId);
          }
          // The access log and the duration histogram read the operation's name from here.
          res.locals.context = context;
          res.once('finish', () => {
            const started = res.locals.started as number | undefined;
            if (started !== undefined)
              metrics.operation(context.operation.name, 'http', (performance.now() - started) / 1000);
          });
          return context;
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
        const listening = httpServer.listening;
        // Load balancers read /readyz (503 from now on) and stop sending; until then, serve.
        if (listening && config.stopDelaySeconds > 0) {
          logger.info(
            { delaySeconds: config.stopDelaySeconds },
            'stopping: /readyz is 503; serving until the delay ends',
          );
          await new Promise((r) => setTimeout(r, config.stopDelaySeconds * 1000));
        }
        draining = true;
        // No new connections. net.Server's close, not http.Server's: the latter also closes idle
        // kept-alive connections at once, and a client sending on one at that moment gets a reset.
        const closed = listening
          ? new Promise<void>((resolve) => NetServer.prototype.close.call(httpServer, () => resolve()))
          : Promise.resolve();
        await wsCleanup.dispose(); // sockets closed with 1001: clients reconnect elsewhere
        // An idle kept-alive connection ends when its keep-alive timeout runs out (the server
        // announced it in every answer, so clients stop reusing it before then) or when its next
        // request is answered 503. With no delay (development, tests) nobody is routed here any
        // more: idle connections close at once.
        let idleTimer: NodeJS.Timeout | undefined;
        if (config.stopDelaySeconds === 0) httpServer.closeIdleConnections();
        else {
          idleTimer = setTimeout(() => httpServer.closeIdleConnections(), httpServer.keepAliveTimeout + 1000);
          idleTimer.unref();
        }
        await closed; // every request already received has been answered
        clearTimeout(idleTimer);
        await apollo.stop();
        await bus.stop();
      })();
      return stopped;
    },
  };
}
