import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import {
  eventually,
  keyOf,
  nextClose,
  openConnection,
  publishTagged,
  TAGGED_FIELDS,
  type TaggedNotice,
  untilWaitingOnLock,
  withConnection,
} from '../support/notices.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

// Holding locks and killing the LISTEN backend need connections besides the app's: Postgres only.
describe('process lifecycle', () => {
  let db: TestDatabase;
  const opened: pg.Client[] = [];
  const apps: TestApp[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('pg');
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.end().catch(() => {});
    for (const a of apps.splice(0)) await a.stop();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const start = async () => {
    const t = await startTestApp(db.handle);
    apps.push(t);
    return t;
  };
  /** A connection that holds `lock` in an open transaction until `release()`. */
  const holdLock = async (lock: string) => {
    const c = await openConnection(db.url!);
    opened.push(c);
    await c.query('BEGIN');
    await c.query(lock);
    return { release: () => c.query('COMMIT') };
  };
  /** Resolves once a request waits on the held lock: it is in flight. */
  const untilBlocked = () => untilWaitingOnLock(db.url!);

  describe('health and readiness', () => {
    it('/healthz answers 200 while the process runs', async () => {
      const t = await start();
      const res = await fetch(`${t.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('/readyz answers 200 when the database, migrations and notice listener are up', async () => {
      const t = await start();
      const res = await fetch(`${t.url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ready',
        checks: { database: true, migrations: true, listener: true, stopping: false },
      });
    });

    it('/readyz answers 503 while the LISTEN connection is down, 200 once it is back, and no notice is lost meanwhile', async () => {
      const t = await start();
      const token = await t.token('alice');
      const sub = collect<{ notices: TaggedNotice }>(
        t.ws(token),
        `subscription { notices { ${TAGGED_FIELDS} } }`,
      );
      await t.waitForStreams(1);
      await withConnection(db.url!, (c) =>
        c.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
        ),
      );
      let down: unknown;
      await eventually(async () => {
        const res = await fetch(`${t.url}/readyz`);
        if (res.status === 503) down = await res.json();
        return res.status === 503;
      }, 'readiness to drop');
      expect(down).toMatchObject({ status: 'not ready', checks: { database: true, listener: false } });
      // Committed while the listener may still be down: its wake-up can be lost, the notice must not.
      await db.handle.db.transaction((tx) => publishTagged(tx, ['alice'], 'gap', 0, t.clock.now()));
      await eventually(async () => (await fetch(`${t.url}/readyz`)).status === 200, 'readiness to return');
      await db.handle.db.transaction((tx) => publishTagged(tx, ['alice'], 'gap', 1, t.clock.now()));
      expect((await sub.take(2)).map((r) => keyOf(r.data!.notices))).toEqual(['gap:0', 'gap:1']);
      sub.dispose();
    });

    it('/readyz answers 503 once stop has begun (a probe in flight when stop starts is answered, not ready)', async () => {
      const t = await start();
      const lock = await holdLock('LOCK TABLE drizzle.__drizzle_migrations IN ACCESS EXCLUSIVE MODE');
      const probe = fetch(`${t.url}/readyz`);
      await untilBlocked();
      const stopped = t.app.stop();
      await lock.release();
      const res = await probe;
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'not ready', checks: { stopping: true } });
      await stopped;
      await expect(fetch(`${t.url}/readyz`)).rejects.toThrow();
    });
  });

  describe('graceful shutdown', () => {
    it('stop() closes a live graphql-ws socket with 1001, lets a request in flight complete, then refuses new connections', async () => {
      const t = await start();
      const client = t.ws(await t.token('alice'));
      const closed = nextClose(client);
      const sub = collect(client, `subscription { notices { ${TAGGED_FIELDS} } }`);
      await t.waitForStreams(1);

      // A request in flight: first sight of a user waits on a lock the test holds on `users`.
      const lock = await holdLock('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const inFlight = t.http<{ me: { id: string } }>('{ me { id } }', {}, await t.token('late-user'));
      await untilBlocked();

      const stopped = t.app.stop();
      expect(await closed).toMatchObject({ code: 1001 });
      await sub.settle();
      // The request is still waiting; once the lock goes, it completes normally.
      await lock.release();
      const r = await inFlight;
      expect(r.status).toBe(200);
      expect(r.data?.me.id).toBe('late-user');
      await stopped;
      expect(t.app.deps.bus.streamCount).toBe(0);

      await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
      const again = t.ws(await t.token('alice'));
      const refused = await nextClose(again);
      expect(refused.code).not.toBe(1000);
    });

    it('stop() called twice resolves both calls only after the drain', async () => {
      const t = await start();
      const lock = await holdLock('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const inFlight = t.http('{ me { id } }', {}, await t.token('slow-user'));
      await untilBlocked();
      let secondDone = false;
      const first = t.app.stop();
      const second = t.app.stop().then(() => {
        secondDone = true;
      });
      // Give the second call every chance to return early: it must still wait for the request.
      await new Promise((r) => setImmediate(r));
      expect(secondDone).toBe(false);
      await lock.release();
      expect((await inFlight).status).toBe(200);
      await Promise.all([first, second]);
      expect(secondDone).toBe(true);
    });
  });
});
