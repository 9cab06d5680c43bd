import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

/** The statements prepared on the connection running `tx`, with the text each was prepared from. */
const prepared = (tx: Parameters<typeof rows>[0]) =>
  rows<{ name: string; statement: string }>(
    tx,
    sql`SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'ties_%' ORDER BY name`,
  );

describe('repeated statements are prepared once per connection (src/db/statement-cache.ts)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pg');
  });
  afterAll(() => db?.drop());

  it('a text seen once runs unnamed; from its second run on one connection it is a named, prepared statement', async () => {
    await db.handle.db.transaction(async (tx) => {
      const probe = () => rows<{ n: number }>(tx, sql`SELECT ${41}::int + 1 AS n /* cache probe */`);
      expect(await probe()).toEqual([{ n: 42 }]);
      expect((await prepared(tx)).filter((p) => p.statement.includes('cache probe'))).toEqual([]);
      expect(await probe()).toEqual([{ n: 42 }]);
      expect(await probe()).toEqual([{ n: 42 }]);
      const named = (await prepared(tx)).filter((p) => p.statement.includes('cache probe'));
      expect(named).toHaveLength(1); // prepared once, reused by the third run
      expect(named[0]!.name).toMatch(/^ties_\d+$/);
    });
  });

  it('a prepared statement answers with each run’s own parameters', async () => {
    await db.handle.db.transaction(async (tx) => {
      const echo = (v: string) => rows<{ v: string }>(tx, sql`SELECT ${v}::text AS v /* echo */`);
      const answers = [];
      for (const v of ['a', 'b', 'c', 'd']) answers.push((await echo(v))[0]!.v);
      expect(answers).toEqual(['a', 'b', 'c', 'd']);
    });
  });
});
