import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import type { Logger } from 'pino';
import { CommitSignals } from './commit-signal.js';
import { DataDirLockedError, lockDataDir } from './lock.js';
import * as schema from './schema.js';
import { StatementCachingClient } from './statement-cache.js';

export type Schema = typeof schema;
/** One Database type for both drivers: real Postgres (node-postgres) and embedded PGlite. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle; every store function takes a `Db` so it runs inside or outside one. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema>;
export type Db = Database | Tx;

/** Runs raw SQL and returns its rows, the same way on both drivers. */
export async function rows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** Listens on a notification channel; the callback runs after each NOTIFY commit. */
export interface Listener {
  /** True while the LISTEN connection is up. */
  readonly connected: boolean;
  close(): Promise<void>;
}

export interface DatabaseHandle {
  db: Database;
  driver: 'pg' | 'pglite';
  /**
   * Opens the instance's one dedicated LISTEN connection. It re-LISTENs after a reconnect and
   * calls `onWake` then too, so a subscriber misses nothing that was notified while it was down.
   */
  listen(channel: string, onWake: () => void): Promise<Listener>;
  /**
   * Wake-ups after COMMIT (commit-signal.ts): a transaction opened with `db.transaction` that wrote
   * notices wakes this handle's listeners directly once it commits, and the other instances by a
   * coalesced NOTIFY.
   */
  signals: CommitSignals;
  /**
   * Where the notice feed polls: on Postgres a connection of its own, so delivery never queues
   * behind the requests that hold the pool; on PGlite the one connection.
   */
  feedDb: Database;
  /** Runs `fn` while holding a session-level advisory lock on a dedicated connection. */
  withExclusiveLock<T>(key: number, fn: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Postgres URL; undefined → PGlite under `dataDir` (or in memory when `dataDir` is 'memory://'). */
  databaseUrl: string | undefined;
  dataDir: string;
  logger: Logger;
  /** Largest number of pooled connections (pg only). */
  poolSize?: number;
  /** At most one wake-up NOTIFY per this many milliseconds (commit-signal.ts). */
  coalesceMs?: number;
}

/** Makes `db.transaction` fire the handle's commit signals once the transaction has committed. */
function signalCommits(db: Database, signals: CommitSignals): Database {
  const begin = db.transaction.bind(db);
  db.transaction = ((fn, config) => signals.run(() => begin(fn, config))) as Database['transaction'];
  return db;
}

/** Opens the database named by the configuration. */
export async function openDatabase(opts: OpenOptions): Promise<DatabaseHandle> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPglite(opts.dataDir, opts.logger);
}

/** Exit code of a command refused because another process holds the embedded database (EX_TEMPFAIL). */
export const EXIT_DATA_DIR_LOCKED = 75;

/**
 * `openDatabase` for a command's entry point (server, sweep, migrate): when another process holds
 * the embedded database, it prints who and what to do instead, and exits 75 having touched nothing.
 */
export async function openDatabaseOrExit(opts: OpenOptions): Promise<DatabaseHandle> {
  try {
    return await openDatabase(opts);
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    process.stderr.write(`ties: ${err.message}\n`);
    process.exit(EXIT_DATA_DIR_LOCKED);
  }
}

const RECONNECT_DELAY_MS = 500;

function openPostgres(url: string, opts: OpenOptions): DatabaseHandle {
  // Repeated statements are prepared once per connection (statement-cache.ts).
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 20,
    Client: StatementCachingClient,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a handler it kills the process.
  pool.on('error', (err) => opts.logger.warn({ err }, 'idle database connection failed'));
  const signals = new CommitSignals(
    async (channel, tag) => {
      await pool.query('SELECT pg_notify($1, $2)', [channel, tag]);
    },
    randomUUID(),
    opts.logger,
    opts.coalesceMs,
  );
  const db = signalCommits(drizzlePg(pool, { schema }) as unknown as Database, signals);
  const feedPool = new pg.Pool({ connectionString: url, max: 1, Client: StatementCachingClient });
  feedPool.on('error', (err) => opts.logger.warn({ err }, 'idle feed connection failed'));
  const feedDb = drizzlePg(feedPool, { schema }) as unknown as Database;
  const listeners = new Set<Listener>();

  return {
    db,
    driver: 'pg',
    signals,
    feedDb,
    async listen(channel, onWake) {
      let client: pg.Client | undefined;
      let closed = false;
      let connected = false;
      let timer: NodeJS.Timeout | undefined;
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: url });
        // Our own wake-ups reached our listeners directly at commit.
        c.on('notification', (m) => {
          if (m.payload !== signals.tag) onWake();
        });
        c.on('error', (err) => {
          opts.logger.warn({ err }, 'notice listener connection failed; reconnecting');
          connected = false;
          c.end().catch(() => {});
          schedule();
        });
        c.on('end', () => {
          if (connected && !closed) {
            connected = false;
            schedule();
          }
        });
        await c.connect();
        await c.query(`LISTEN "${channel}"`);
        client = c;
        connected = true;
        onWake(); // anything committed while we were not listening
      };
      const schedule = (): void => {
        if (closed || timer) return;
        timer = setTimeout(() => {
          timer = undefined;
          connect().catch((err) => {
            opts.logger.warn({ err }, 'notice listener reconnect failed');
            schedule();
          });
        }, RECONNECT_DELAY_MS);
      };
      await connect();
      const offLocal = signals.onLocal(channel, onWake);
      const listener: Listener = {
        get connected() {
          return connected;
        },
        async close() {
          closed = true;
          connected = false;
          offLocal();
          if (timer) clearTimeout(timer);
          listeners.delete(listener);
          await client?.end().catch(() => {});
        },
      };
      listeners.add(listener);
      return listener;
    },
    async withExclusiveLock(key, fn) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [key]);
        return await fn(signalCommits(drizzlePg(client, { schema }) as unknown as Database, signals));
      } finally {
        await client.end().catch(() => {});
      }
    },
    async close() {
      await signals.flush(); // the last commits' wake-up goes out before the pool closes
      for (const l of [...listeners]) await l.close();
      await feedPool.end();
      await pool.end();
    },
  };
}

async function openPglite(dataDir: string, logger: Logger): Promise<DatabaseHandle> {
  const inMemory = dataDir === 'memory://';
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  // One process per data directory (see lock.ts): refused here, before PGlite reads a file.
  const lock = inMemory ? undefined : lockDataDir(dataDir);
  const client = new PGlite(inMemory ? undefined : `${dataDir}/pglite`);
  try {
    await client.waitReady;
  } catch (err) {
    lock?.release();
    throw err;
  }
  // One process per data directory: there are no other instances to wake.
  const signals = new CommitSignals(undefined, randomUUID(), logger);
  const db = signalCommits(drizzlePglite(client, { schema }) as unknown as Database, signals);
  const unsubs = new Set<() => Promise<void>>();
  return {
    db,
    driver: 'pglite',
    signals,
    feedDb: db,
    async listen(channel, onWake) {
      // PGlite is one in-process connection that never disconnects. Commits through `db.transaction`
      // wake the listener directly; a NOTIFY (from an autocommit write) reaches it after COMMIT.
      const unsub = await client.listen(channel, () => onWake());
      const offLocal = signals.onLocal(channel, onWake);
      let connected = true;
      const close = async (): Promise<void> => {
        connected = false;
        unsubs.delete(close);
        offLocal();
        await unsub();
      };
      unsubs.add(close);
      onWake();
      return {
        get connected() {
          return connected;
        },
        close,
      };
    },
    // One connection: nothing else can run migrations at the same time.
    withExclusiveLock: (_key, fn) => fn(db),
    async close() {
      for (const u of [...unsubs]) await u();
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}
