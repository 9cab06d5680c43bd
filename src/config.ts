import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { attachmentFits, base64Length, REQUEST_OVERHEAD_BYTES } from './files/files.rules.js';

/**
 * The server's configuration: the only reader of `process.env`.
 * Embedded defaults make `npm start` work on a fresh machine; production mode
 * (`NODE_ENV=production`) defaults nothing insecure and refuses to start without
 * `JWT_SECRET` and `DATABASE_URL`.
 */
export interface Config {
  port: number;
  /** Postgres connection string; `undefined` → the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  jwtSecret: string;
  /** Private JWK (JSON) that signs deletion proofs (R5). */
  proofKey: string | undefined;
  timeTravel: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  nodeEnv: 'development' | 'production' | 'test';
  /** Seconds between two runs of the in-process retention sweeper (T5); 0 turns it off. */
  sweepIntervalSeconds: number;
  /** Live notices buffered per subscription before it falls back to reading from the table. */
  noticeQueueMax: number;
  /** Pooled Postgres connections per instance (besides its LISTEN and notice-feed connections). */
  databasePoolSize: number;
  /** What one operation may be, over HTTP and WebSocket alike. */
  limits: OperationLimits;
  /** How often a user or an address may ask. */
  rateLimits: RateLimits;
  /** Whether `__schema`/`__type` introspection is answered (GraphiQL's docs pane needs it). */
  introspection: boolean;
  /** Whether browsers get the GraphiQL page at `/graphql`. */
  graphiql: boolean;
  /**
   * Whether the live demo app is served at `/demo`, with its development token endpoint
   * (`POST /demo/token`). Outside production only: `DEMO=1` with `NODE_ENV=production` is refused.
   */
  demo: boolean;
  /** Express's `trust proxy`: which hops' `X-Forwarded-For` names the client address (per-IP limits). */
  trustProxy: boolean | number | string;
  /**
   * Seconds between SIGTERM (when `/readyz` turns 503) and the listener closing, during which
   * requests are still served, so load balancers stop sending before connections are refused.
   */
  stopDelaySeconds: number;
  /** The longest a graceful stop may take in all; past it the process exits with code 1. */
  stopTimeoutSeconds: number;
  /**
   * G7: where verification codes go. `file`: appended to `DATA_DIR/verification-codes.log`
   * (development and tests only); `webhook`: POSTed as JSON to `verificationWebhookUrl` (an SMS or
   * mail gateway). Production refuses `file`.
   */
  verificationSender: 'file' | 'webhook';
  verificationWebhookUrl: string | undefined;
  /** The file sender's file (`DATA_DIR/verification-codes.log`). */
  verificationFile: string;
}

/** Limits on one GraphQL operation; each refused before it runs (GRAPHQL_VALIDATION_FAILED). */
export interface OperationLimits {
  /** Deepest field nesting; fragments are flattened, GraphiQL's `__schema` introspection is exempt. */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexical tokens of the document. */
  maxTokens: number;
  /** Characters of the document. */
  maxQueryLength: number;
  /** Objects and values an operation could return; a connection's selection counts `first` (default 50) times. */
  maxCost: number;
  /** Largest HTTP body and largest graphql-ws message, bytes. */
  maxRequestBytes: number;
  /**
   * Largest file sent with a message, decoded bytes. Its base64 (4/3 of it) plus 64 KiB for the
   * rest of the request must fit in `maxRequestBytes` (checked by `loadConfig`).
   */
  maxAttachmentBytes: number;
  /** Live operations (subscriptions, queries still running) on one graphql-ws socket. */
  maxOperationsPerSocket: number;
}

/** Rate limits, counted per window; 0 turns one off. */
export interface RateLimits {
  windowSeconds: number;
  /** Mutations (each root field counts one) per signed-in user per window. */
  mutationsPerUser: number;
  /** Requests and socket openings without a valid token, per client address per window. */
  anonymousPerIp: number;
}

const boolish = z
  .enum(['0', '1', 'true', 'false', ''])
  .optional()
  .transform((v) => v === '1' || v === 'true');

/** `1`/`true`/`0`/`false`, or unset (then the mode decides). */
const optionalBool = z
  .enum(['0', '1', 'true', 'false', ''])
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v === '1' || v === 'true'));

/** The operation limits' defaults (README's configuration table). */
export const DEFAULT_LIMITS: OperationLimits = {
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1_000,
  maxQueryLength: 15_000, // characters
  maxCost: 5_000,
  maxRequestBytes: 1024 * 1024, // 1 MiB
  maxAttachmentBytes: 512 * 1024, // 512 KiB: 683 KiB of base64, with room for the rest of the request
  maxOperationsPerSocket: 100,
};

/** The rate limits' defaults: a person chatting never meets them; a script hammering does. */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  windowSeconds: 60,
  mutationsPerUser: 300, // 5 a second, sustained for a minute
  anonymousPerIp: 300,
};

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DATA_DIR: z.string().min(1).default('./data'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  PROOF_SIGNING_KEY: z.string().optional(),
  TIME_TRAVEL: boolish,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(60),
  NOTICE_QUEUE_MAX: z.coerce.number().int().min(10).default(10_000),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(20),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).max(100).default(DEFAULT_LIMITS.maxDepth),
  MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_LIMITS.maxAliases),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_LIMITS.maxDirectives),
  MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(DEFAULT_LIMITS.maxTokens),
  MAX_QUERY_LENGTH: z.coerce.number().int().min(1_000).max(10_000_000).default(DEFAULT_LIMITS.maxQueryLength),
  MAX_COST: z.coerce.number().int().min(100).max(100_000_000).default(DEFAULT_LIMITS.maxCost),
  MAX_REQUEST_BYTES: z.coerce
    .number()
    .int()
    .min(16_384)
    .max(100 * 1024 * 1024)
    .default(DEFAULT_LIMITS.maxRequestBytes),
  MAX_ATTACHMENT_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(100 * 1024 * 1024)
    .default(DEFAULT_LIMITS.maxAttachmentBytes),
  MAX_OPERATIONS_PER_SOCKET: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(DEFAULT_LIMITS.maxOperationsPerSocket),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(DEFAULT_RATE_LIMITS.windowSeconds),
  RATE_LIMIT_MUTATIONS: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.mutationsPerUser),
  RATE_LIMIT_ANONYMOUS: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.anonymousPerIp),
  STOP_DELAY_SECONDS: z.coerce.number().min(0).max(300).optional(),
  STOP_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3_600).default(30),
  VERIFICATION_SENDER: z.enum(['file', 'webhook']).optional(),
  VERIFICATION_WEBHOOK_URL: z
    .string()
    .url()
    .regex(/^https?:\/\//, 'must be an http(s) URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  INTROSPECTION: optionalBool,
  GRAPHIQL: optionalBool,
  DEMO: optionalBool,
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v) =>
      v === undefined || v === '' || v === 'false'
        ? false
        : v === 'true'
          ? true
          : /^\d+$/.test(v)
            ? Number(v)
            : v,
    ),
});

/** The settings that must agree with each other, checked once each is valid on its own. */
const CheckedEnvSchema = EnvSchema.superRefine((e, ctx) => {
  // An attachment travels base64-encoded inside one request (HTTP body or graphql-ws message).
  if (!attachmentFits(e.MAX_ATTACHMENT_BYTES, e.MAX_REQUEST_BYTES)) {
    const atMost = Math.floor((e.MAX_REQUEST_BYTES - REQUEST_OVERHEAD_BYTES) / 4) * 3;
    const needed = base64Length(e.MAX_ATTACHMENT_BYTES) + REQUEST_OVERHEAD_BYTES;
    ctx.addIssue({
      code: 'custom',
      path: ['MAX_ATTACHMENT_BYTES'],
      message: `${e.MAX_ATTACHMENT_BYTES} bytes are ${base64Length(e.MAX_ATTACHMENT_BYTES)} characters of base64, which with 64 KiB for the rest of the request do not fit in MAX_REQUEST_BYTES (${e.MAX_REQUEST_BYTES}); set at most ${atMost}, or raise MAX_REQUEST_BYTES to at least ${needed}`,
    });
  }
});

/** Thrown when the environment is not a valid configuration; the message lists every problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and validates the configuration from `env`.
 * Outside production, a missing `JWT_SECRET` is generated once and kept in `DATA_DIR/secrets.json`,
 * so `npm run token` and `npm start` from the same directory agree.
 * Throws `ConfigError` on invalid values, and in production on a missing secret or database.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = CheckedEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production) {
    const missing = [
      !e.JWT_SECRET && 'JWT_SECRET (at least 32 characters)',
      !e.DATABASE_URL && 'DATABASE_URL (postgres://…)',
      !e.PROOF_SIGNING_KEY && 'PROOF_SIGNING_KEY (a private EC P-256 JWK, JSON)',
    ].filter(Boolean);
    if (missing.length > 0) {
      throw new ConfigError(
        `NODE_ENV=production refuses to start without: ${missing.join(', ')}. Nothing insecure is defaulted in production.`,
      );
    }
    if (e.TIME_TRAVEL) throw new ConfigError('TIME_TRAVEL=1 is not allowed with NODE_ENV=production.');
    // The demo hands out tokens to anyone who asks: never in production.
    if (e.DEMO)
      throw new ConfigError(
        'DEMO=1 is not allowed with NODE_ENV=production: the demo at /demo hands out tokens to anyone.',
      );
    if ((e.VERIFICATION_SENDER ?? 'webhook') !== 'webhook' || !e.VERIFICATION_WEBHOOK_URL) {
      throw new ConfigError(
        'NODE_ENV=production needs VERIFICATION_SENDER=webhook and VERIFICATION_WEBHOOK_URL: the file sender writes codes to disk (development only).',
      );
    }
  }
  if (e.VERIFICATION_SENDER === 'webhook' && !e.VERIFICATION_WEBHOOK_URL) {
    throw new ConfigError('VERIFICATION_SENDER=webhook needs VERIFICATION_WEBHOOK_URL.');
  }
  const dataDir = resolve(e.DATA_DIR);
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    jwtSecret: e.JWT_SECRET ?? localSecrets(dataDir).jwtSecret,
    proofKey: e.PROOF_SIGNING_KEY,
    timeTravel: e.TIME_TRAVEL,
    logLevel: e.LOG_LEVEL,
    nodeEnv: e.NODE_ENV,
    sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS,
    noticeQueueMax: e.NOTICE_QUEUE_MAX,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    limits: {
      maxDepth: e.MAX_QUERY_DEPTH,
      maxAliases: e.MAX_ALIASES,
      maxDirectives: e.MAX_DIRECTIVES,
      maxTokens: e.MAX_TOKENS,
      maxQueryLength: e.MAX_QUERY_LENGTH,
      maxCost: e.MAX_COST,
      maxRequestBytes: e.MAX_REQUEST_BYTES,
      maxAttachmentBytes: e.MAX_ATTACHMENT_BYTES,
      maxOperationsPerSocket: e.MAX_OPERATIONS_PER_SOCKET,
    },
    rateLimits: {
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      mutationsPerUser: e.RATE_LIMIT_MUTATIONS,
      anonymousPerIp: e.RATE_LIMIT_ANONYMOUS,
    },
    // Development answers introspection and serves GraphiQL; production does neither unless asked.
    introspection: e.INTROSPECTION ?? !production,
    graphiql: e.GRAPHIQL ?? !production,
    demo: e.DEMO ?? !production,
    trustProxy: e.TRUST_PROXY,
    // Production sits behind load balancers that poll /readyz; a developer's Ctrl-C stops at once.
    stopDelaySeconds: e.STOP_DELAY_SECONDS ?? (production ? 5 : 0),
    stopTimeoutSeconds: e.STOP_TIMEOUT_SECONDS,
    verificationSender: e.VERIFICATION_SENDER ?? (production ? 'webhook' : 'file'),
    verificationWebhookUrl: e.VERIFICATION_WEBHOOK_URL,
    verificationFile: join(dataDir, 'verification-codes.log'),
  };
}

interface LocalSecrets {
  jwtSecret: string;
}

/** Secrets the server generates for itself outside production, kept in `dataDir/secrets.json`. */
function localSecrets(dataDir: string): LocalSecrets {
  const file = join(dataDir, 'secrets.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secrets: LocalSecrets = { jwtSecret: randomBytes(32).toString('base64url') };
    // 'wx' fails if another process created it first; then read theirs.
    try {
      writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
      return secrets;
    } catch {
      return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
    }
  }
}
