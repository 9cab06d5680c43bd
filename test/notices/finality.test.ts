import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_QUEUE, NoticeBus } from '../../src/notices/notices.bus.js';
import { countPending, type StoredNotice } from '../../src/notices/notices.store.js';
import { silentLogger } from '../support/db.js';
import { adminUrl } from '../support/env.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { eventually, keyOf, publishTagged, TAGGED_FIELDS, type TaggedNotice } from '../support/notices.js';
import { collect } from '../support/server.js';

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
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv();
  });
  afterAll(() => env?.close());

  it('a long transaction in another database of the same server does not delay a notice', async () => {
    const token = await env.server.token('dana');
    const sub = collect<{ notices: TaggedNotice }>(
      env.server.ws(token),
      `subscription { notices { ${TAGGED_FIELDS} } }`,
    );
    await env.server.waitForStreams(1);
    const elsewhere = await holdXid(adminUrl());
    try {
      await env.db.handle.db.transaction((tx) =>
        publishTagged(tx, ['dana'], 'while-elsewhere', 1, env.server.clock.now()),
      );
      const [first] = await sub.take(1);
      expect(first?.data?.notices && keyOf(first.data.notices)).toBe('while-elsewhere:1');
      // Final while the other transaction still runs. Waited for, not read once: a transaction of
      // another database that ends during the read holds that one read's horizon back (the estimate
      // may be more cautious, never less); `elsewhere` itself, still open, never does.
      await eventually(async () => (await countPending(env.db.handle.db)) === 0, 'nothing pending', 10_000);
    } finally {
      await elsewhere.release();
      sub.dispose();
    }
  });

  it('an older open transaction of this database holds a newer notice back until it ends, then both arrive in order', async () => {
    const bus = env.server.app.deps.bus;
    const token = await env.server.token('erin');
    const streams = bus.streamCount;
    const sub = collect<{ notices: TaggedNotice }>(
      env.server.ws(token),
      `subscription { notices { ${TAGGED_FIELDS} } }`,
    );
    await env.server.waitForStreams(streams + 1);
    // The older writer takes its transaction id first, then the newer one commits.
    const older = new pg.Client({ connectionString: env.db.url! });
    await older.connect();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      const feedBefore = bus.feedPosition;
      const deliveredBefore = bus.delivered;
      await env.db.handle.db.transaction((tx) =>
        publishTagged(tx, ['erin'], 'newer', 1, env.server.clock.now()),
      );
      expect(await countPending(env.db.handle.db, 'erin')).toBe(1); // committed, not final: it could be overtaken
      // Not delivered while the older one is open, checked once the bus has read the newer notice and
      // held it back (an event, not a pause): a bus that is merely slow cannot pass for one that waits.
      await eventually(() => bus.heldBack, 'the bus to hold the newer notice back', 10_000);
      await older.query(
        `INSERT INTO notices (recipient_ids, kind, payload, at)
         VALUES ('{erin}', 'ConversationPurged', '{"conversationId":"older","reason":"1","purgedMessages":1}', now())`,
      );
      await older.query(`SELECT pg_notify('ties_notices', '')`);
      expect(bus.feedPosition).toEqual(feedBefore); // the feed has not handed it to anyone
      expect(bus.delivered).toBe(deliveredBefore);
      expect(sub.results).toEqual([]);
      await older.query('COMMIT');
    } finally {
      await older.end();
    }
    // Once the older transaction ended, both arrive, the older one first.
    const got = await sub.take(2);
    expect(got.map((r) => r.data?.notices && keyOf(r.data.notices))).toEqual(['older:1', 'newer:1']);
    sub.dispose();
  });

  it('a notice held back by an older transaction arrives once it ends, though nothing wakes the bus and its safety poll is 10 minutes off', async () => {
    // A bus of its own whose safety poll is far out of reach: within this test only the bus's own
    // re-poll while a notice is held back can deliver it (without it the notice would wait 10 min).
    const bus = new NoticeBus(env.db.handle, silentLogger, DEFAULT_MAX_QUEUE, 10 * 60_000);
    await bus.start();
    const stream = await bus.open('fay', null);
    let got: StoredNotice | undefined;
    const next = stream.next().then((r) => {
      got = r.value;
    });
    // The older transaction takes its id first and writes no notice: its commit sends no NOTIFY.
    const older = await holdXid(env.db.url!);
    let released = false;
    try {
      await env.db.handle.db.transaction((tx) =>
        publishTagged(tx, ['fay'], 'held', 1, env.server.clock.now()),
      );
      await eventually(() => bus.heldBack, 'the bus to hold the notice back', 10_000);
      expect(got).toBeUndefined();
      await older.release();
      released = true;
      await eventually(() => got !== undefined, 'the held-back notice after the older one ended', 10_000);
      expect(got?.payload).toMatchObject({ conversationId: 'held', purgedMessages: 1 });
    } finally {
      if (!released) await older.release();
      await stream.return();
      await next;
      await bus.stop();
    }
  });
});
