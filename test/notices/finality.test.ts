import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPending } from '../../src/notices/notices.store.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { adminUrl } from '../support/env.js';
import { keyOf, publishTagged, TAGGED_FIELDS, type TaggedNotice } from '../support/notices.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

/** Opens a transaction that holds a transaction id (as a writer does) on the database at `url`. */
async function holdXid(url: string): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query('SELECT pg_current_xact_id()');
  return {
    async release() {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

// Needs several connections to one server: Postgres only (PGlite is a single connection).
describe('N1 finality: only transactions that could write notices hold delivery back', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('pg');
    t = await startTestApp(db.handle);
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('a long transaction in another database of the same server does not delay a notice', async () => {
    const token = await t.token('dana');
    const sub = collect<{ notices: TaggedNotice }>(
      t.ws(token),
      `subscription { notices { ${TAGGED_FIELDS} } }`,
    );
    await t.waitForStreams(1);
    const elsewhere = await holdXid(adminUrl());
    try {
      await db.handle.db.transaction((tx) =>
        publishTagged(tx, ['dana'], 'while-elsewhere', 1, t.clock.now()),
      );
      const [first] = await sub.take(1);
      expect(first?.data?.notices && keyOf(first.data.notices)).toBe('while-elsewhere:1');
      expect(await countPending(db.handle.db)).toBe(0);
    } finally {
      await elsewhere.release();
    }
  });

  it('an older open transaction of this database holds a newer notice back until it ends, then both arrive in order', async () => {
    const token = await t.token('erin');
    const sub = collect<{ notices: TaggedNotice }>(
      t.ws(token),
      `subscription { notices { ${TAGGED_FIELDS} } }`,
    );
    await t.waitForStreams(1);
    // The older writer takes its transaction id first, then the newer one commits.
    const older = new pg.Client({ connectionString: db.url! });
    await older.connect();
    await older.query('BEGIN');
    await older.query('SELECT pg_current_xact_id()');
    await db.handle.db.transaction((tx) => publishTagged(tx, ['erin'], 'newer', 1, t.clock.now()));
    expect(await countPending(db.handle.db, 'erin')).toBe(1); // committed, not final: it could be overtaken
    expect(sub.results).toEqual([]);
    await older.query(
      `INSERT INTO notices (recipient_ids, kind, payload, at)
       VALUES ('{erin}', 'ConversationPurged', '{"conversationId":"older","reason":"1","purgedMessages":1}', now())`,
    );
    await older.query(`SELECT pg_notify('ties_notices', '')`);
    await older.query('COMMIT');
    await older.end();
    const got = await sub.take(2);
    expect(got.map((r) => r.data?.notices && keyOf(r.data.notices))).toEqual(['older:1', 'newer:1']);
  });
});
