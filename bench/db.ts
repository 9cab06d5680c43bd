import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { silentLogger } from '../test/support/db.js';

/** The local Postgres server the bench creates its database on (loopback only). */
export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host))
    throw new Error(`bench targets 127.0.0.1 only, not ${host}`);
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** Opens a ties database handle (drizzle over a pg pool) on it; closed by `drop()`. */
  open(poolSize?: number): Promise<DatabaseHandle>;
  drop(): Promise<void>;
}

/** A fresh, migrated database `ties_bench_<hex>` on the local server. */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  assertLoopback(ADMIN_URL);
  const name = `ties_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const opened: DatabaseHandle[] = [];
  const open = async (poolSize?: number) => {
    const h = await openDatabase({
      databaseUrl: url,
      dataDir: 'memory://',
      logger: silentLogger,
      ...(poolSize ? { poolSize } : {}),
    });
    opened.push(h);
    return h;
  };
  const first = await open(2);
  await migrateDatabase(first);
  return {
    name,
    url,
    open,
    async drop() {
      for (const h of opened.splice(0)) await h.close().catch(() => {});
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
