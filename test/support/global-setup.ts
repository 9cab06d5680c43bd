import pg from 'pg';
import { adminUrl } from './env.js';

/** Fails the run at once — never skips — when the test Postgres cannot be reached. */
export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `Tests need Postgres at ${adminUrl()} (set TEST_DATABASE_URL to override): ${(err as Error).message}`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}
