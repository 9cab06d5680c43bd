import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SECRET = 'a-production-secret-of-at-least-32-chars';
const STACK = /\n\s+at |\.ts:\d+:\d+/;

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ties-config-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** loadConfig's error, or a failure when it does not throw. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('configuration: production mode defaults nothing insecure', () => {
  it('production without JWT_SECRET and DATABASE_URL is refused with a ConfigError naming both', () => {
    const err = configError({ NODE_ENV: 'production', DATA_DIR: tempDir() });
    expect(err.message).toContain('JWT_SECRET');
    expect(err.message).toContain('DATABASE_URL');
  });

  it('production with a secret but no database is refused naming DATABASE_URL only', () => {
    const err = configError({ NODE_ENV: 'production', JWT_SECRET: SECRET, PROOF_SIGNING_KEY: '{}' });
    expect(err.message).toContain('DATABASE_URL');
    expect(err.message).not.toContain('JWT_SECRET');
  });

  it('production with a database but no secret is refused naming JWT_SECRET only', () => {
    const err = configError({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db.example/ties',
      PROOF_SIGNING_KEY: '{}',
    });
    expect(err.message).toContain('JWT_SECRET');
    expect(err.message).not.toContain('DATABASE_URL');
  });

  it('a JWT_SECRET shorter than 32 characters is refused in any mode', () => {
    expect(configError({ JWT_SECRET: 'short', DATA_DIR: tempDir() }).message).toContain('JWT_SECRET');
  });

  it('TIME_TRAVEL is refused in production', () => {
    const err = configError({
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      DATABASE_URL: 'postgres://db.example/ties',
      PROOF_SIGNING_KEY: '{}',
      TIME_TRAVEL: '1',
    });
    expect(err.message).toContain('TIME_TRAVEL');
  });

  it('production with every required setting loads, with time travel off and codes sent to the webhook', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      DATABASE_URL: 'postgres://db.example/ties',
      PROOF_SIGNING_KEY: '{}',
      VERIFICATION_WEBHOOK_URL: 'https://sms.example/send',
    });
    expect(c).toMatchObject({
      nodeEnv: 'production',
      jwtSecret: SECRET,
      timeTravel: false,
      verificationSender: 'webhook',
      verificationWebhookUrl: 'https://sms.example/send',
    });
  });

  it('G7: production refuses the development code sender, and a webhook sender needs its URL', () => {
    const prod = {
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      DATABASE_URL: 'postgres://db.example/ties',
      PROOF_SIGNING_KEY: '{}',
    };
    expect(configError(prod).message).toContain('VERIFICATION_WEBHOOK_URL');
    expect(
      configError({
        ...prod,
        VERIFICATION_SENDER: 'file',
        VERIFICATION_WEBHOOK_URL: 'https://sms.example/send',
      }).message,
    ).toContain('VERIFICATION_SENDER=webhook');
    expect(configError({ DATA_DIR: tempDir(), VERIFICATION_SENDER: 'webhook' }).message).toContain(
      'VERIFICATION_WEBHOOK_URL',
    );
    const dev = loadConfig({ DATA_DIR: tempDir() });
    expect(dev.verificationSender).toBe('file');
    expect(dev.verificationFile).toBe(join(dev.dataDir, 'verification-codes.log'));
  });

  it('DATABASE_POOL_SIZE sizes the pool (20 by default); 0 or a word is refused naming it', () => {
    expect(loadConfig({ DATA_DIR: tempDir() }).databasePoolSize).toBe(20);
    expect(loadConfig({ DATA_DIR: tempDir(), DATABASE_POOL_SIZE: '8' }).databasePoolSize).toBe(8);
    expect(configError({ DATA_DIR: tempDir(), DATABASE_POOL_SIZE: '0' }).message).toContain(
      'DATABASE_POOL_SIZE',
    );
    expect(configError({ DATA_DIR: tempDir(), DATABASE_POOL_SIZE: 'many' }).message).toContain(
      'DATABASE_POOL_SIZE',
    );
  });

  it('outside production a missing secret is generated once and kept, so every process of a directory agrees', () => {
    const dir = tempDir();
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(b.jwtSecret).toBe(a.jwtSecret);
    expect(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8'))).toEqual({ jwtSecret: a.jwtSecret });
    expect(a.databaseUrl).toBeUndefined(); // PGlite
  });

  it('the server process started in production without JWT_SECRET exits non-zero with a clear message and no stack trace', async () => {
    const run = promisify(execFile);
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATA_DIR: tempDir(),
    };
    const failure = await run(TSX, ['src/main.ts'], { cwd: ROOT, env, timeout: 60_000 }).then(
      () => {
        throw new Error('the server started');
      },
      (err: { code?: number; stderr?: string; killed?: boolean }) => err,
    );
    expect(failure.killed).toBeFalsy();
    expect(failure.code).not.toBe(0);
    expect(typeof failure.code).toBe('number');
    expect(failure.stderr).toContain('JWT_SECRET');
    expect(failure.stderr).toContain('production');
    expect(failure.stderr).not.toMatch(STACK);
  });
});
