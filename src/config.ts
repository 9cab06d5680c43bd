import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

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
  /** Largest query depth accepted over HTTP and WebSocket. */
  maxQueryDepth: number;
  /** Live notices buffered per subscription before it falls back to reading from the table. */
  noticeQueueMax: number;
}

const boolish = z
  .enum(['0', '1', 'true', 'false', ''])
  .optional()
  .transform((v) => v === '1' || v === 'true');

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
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).max(50).default(12),
  NOTICE_QUEUE_MAX: z.coerce.number().int().min(10).default(10_000),
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
  const parsed = EnvSchema.safeParse(env);
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
    maxQueryDepth: e.MAX_QUERY_DEPTH,
    noticeQueueMax: e.NOTICE_QUEUE_MAX,
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
