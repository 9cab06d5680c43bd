import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { adminUrl, urlFor } from './env.js';

export type Driver = 'pg' | 'pglite';

export interface TestDatabase {
  driver: Driver;
  /** The database URL (pg only); a second app instance can open it too. */
  url: string | undefined;
  handle: DatabaseHandle;
  /** Opens another handle on the same database (pg only): a second instance. */
  openAnother(): Promise<DatabaseHandle>;
  drop(): Promise<void>;
}

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * A fresh, migrated database for one test file: a new database on the test Postgres server, or an
 * in-memory PGlite.
 */
export async function createTestDatabase(driver: Driver = 'pg'): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const handle = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://', logger: silentLogger });
    await migrateDatabase(handle);
    return {
      driver,
      url: undefined,
      handle,
      openAnother: () => Promise.reject(new Error('PGlite is one in-process connection: no second instance')),
      drop: () => handle.close(),
    };
  }
  const name = `ties_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = urlFor(name);
  const opened: DatabaseHandle[] = [];
  const open = async () => {
    const h = await openDatabase({
      databaseUrl: url,
      dataDir: 'memory://',
      logger: silentLogger,
      poolSize: 30,
    });
    opened.push(h);
    return h;
  };
  const handle = await open();
  await migrateDatabase(handle);
  return {
    driver,
    url,
    handle,
    openAnother: open,
    async drop() {
      for (const h of opened) await h.close().catch(() => {});
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
