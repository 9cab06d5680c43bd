import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, rows } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../src/db/migrate.js';
import { silentLogger } from '../support/db.js';
import { adminUrl, urlFor } from '../support/env.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ties-cli-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const migrationFiles = () => readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql'));

describe('npm run token', () => {
  it('prints one token, alone on the last line, that a server started from the same directory accepts', async () => {
    const dataDir = tempDir();
    const env = { PATH: process.env.PATH ?? '', DATA_DIR: dataDir };
    const { stdout } = await run(
      TSX,
      ['src/token-cli.ts', 'una', '--operator', '--device', 'phone', '--ttl', '2h'],
      {
        cwd: ROOT,
        env,
      },
    );
    const token = stdout.trim().split('\n').at(-1)!;
    expect(token.split('.')).toHaveLength(3);
    // The server reads the same configuration: the secret generated into DATA_DIR.
    const config = loadConfig({ DATA_DIR: dataDir });
    const auth = await authenticate(`Bearer ${token}`, config.jwtSecret, systemClock.now());
    expect(auth).toMatchObject({ ok: true, viewer: { userId: 'una', operator: true, deviceId: 'phone' } });
    if (!auth.ok) return;
    const ttl = auth.viewer.expiresAt!.getTime() - systemClock.now().getTime();
    expect(ttl).toBeGreaterThan(2 * 3600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * 3600_000);
    // Another directory has another secret: the token is refused there.
    const other = loadConfig({ DATA_DIR: tempDir() });
    expect((await authenticate(token, other.jwtSecret, systemClock.now())).ok).toBe(false);
  });

  it('refuses a call without a user id, or with a malformed ttl, with exit code 2 and the usage', async () => {
    const env = { PATH: process.env.PATH ?? '', DATA_DIR: tempDir() };
    for (const args of [[], ['una', '--ttl', 'soon']]) {
      const failure = await run(TSX, ['src/token-cli.ts', ...args], { cwd: ROOT, env }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      expect(failure.code).toBe(2);
      expect(failure.stderr).toContain('usage: npm run token');
    }
  });
});

// Needs several connections: Postgres only (PGlite is one in-process connection).
describe('migrations', () => {
  it('two instances migrating a fresh database at once apply each migration exactly once', async () => {
    const name = `ties_test_migrate_${Math.random().toString(16).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const handles = await Promise.all(
        [0, 1].map(() =>
          openDatabase({ databaseUrl: urlFor(name), dataDir: 'memory://', logger: silentLogger }),
        ),
      );
      await Promise.all(handles.map((h) => migrateDatabase(h)));
      await Promise.all(handles.map((h) => h.close()));
      const c = new pg.Client({ connectionString: urlFor(name) });
      await c.connect();
      const applied = await c.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      const tables = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
      await c.end();
      expect(applied.rows[0].n).toBe(migrationFiles().length);
      expect(tables.rows[0].n).toBeGreaterThanOrEqual(7);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('migrating an up-to-date embedded (PGlite) database again changes nothing', async () => {
    const dataDir = tempDir();
    for (let i = 0; i < 2; i++) {
      const h = await openDatabase({ databaseUrl: undefined, dataDir, logger: silentLogger });
      await migrateDatabase(h);
      const [r] = await rows<{ n: number }>(
        h.db,
        sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
      );
      expect(r!.n).toBe(migrationFiles().length);
      await h.close();
    }
  });
});
