// One test file's world, opened in `beforeAll` and disposed in `afterAll` (both lines stay in the
// file, so every reader sees what it owns and when it ends):
//
//   let env: TestEnv;
//   beforeAll(async () => { env = await openTestEnv(); });
//   afterAll(() => env?.close());
import { ManualClock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { type Api, apiClient } from './client.js';
import { createTestDatabase, type Driver, type TestDatabase } from './db.js';
import { type GroupApi, groupClient } from './groups.js';
import { type RichClient, richClient } from './rich-messages.js';
import { startTestApp, type TestApp } from './server.js';

/** Where every test clock starts unless told otherwise. */
export const EPOCH = '2026-01-01T00:00:00.000Z';

/** A fresh migrated database, an app on it driven by a manual clock, and a client of its API. */
export interface TestEnv extends AsyncDisposable {
  db: TestDatabase;
  server: TestApp;
  clock: ManualClock;
  api: Api;
  /** The group operations over the same client. */
  groups: GroupApi;
  /** Messages with attachments and payments, downloads and the ledger. */
  rich: RichClient;
  /** Stops the app (closing its clients) and drops the database. */
  close(): Promise<void>;
}

export async function openTestEnv(
  opts: { driver?: Driver; config?: Partial<Config>; start?: string } = {},
): Promise<TestEnv> {
  const db = await createTestDatabase(opts.driver ?? 'pg');
  try {
    const clock = new ManualClock(opts.start ?? EPOCH);
    const server = await startTestApp(db.handle, { clock, ...(opts.config ? { config: opts.config } : {}) });
    const close = async () => {
      await server.stop();
      await db.drop();
    };
    const api = apiClient(server, db);
    const env: Omit<TestEnv, 'rich'> = {
      db,
      server,
      clock,
      api,
      groups: groupClient(api),
      close,
      [Symbol.asyncDispose]: close,
    };
    return Object.assign(env, { rich: richClient(env) });
  } catch (err) {
    await db.drop();
    throw err;
  }
}
