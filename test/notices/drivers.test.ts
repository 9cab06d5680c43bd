import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, ManualClock } from '../../src/clock.js';
import { pruneNotices } from '../../src/notices/notices.outbox.js';
import { createTestDatabase, type Driver, type TestDatabase } from '../support/db.js';
import {
  keyOf,
  publishRange,
  publishTagged,
  settleNotices,
  TAGGED_FIELDS,
  type TaggedNotice,
} from '../support/notices.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

const SUB = `subscription ($after: String) { notices(after: $after) { ${TAGGED_FIELDS} } }`;
const LIST = `query ($after: String) { notices(after: $after, first: 100) {
  edges { cursor node { ${TAGGED_FIELDS} } } pageInfo { endCursor } } }`;
type ListPage = {
  notices: { edges: { cursor: string; node: TaggedNotice }[]; pageInfo: { endCursor: string } };
};

// The same code paths on both drivers (DESIGN.md: "only the driver differs"). What needs several
// connections at once (concurrent writers, a second instance, held locks) lives in the Postgres-only
// files: exactness, instances, lifecycle.
describe.each<Driver>(['pg', 'pglite'])('on %s: me, notices and subscription replay', (driver) => {
  let db: TestDatabase;
  let t: TestApp;
  let clock: ManualClock;
  beforeAll(async () => {
    db = await createTestDatabase(driver);
    clock = new ManualClock('2026-03-01T00:00:00Z');
    t = await startTestApp(db.handle, { clock });
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });
  const now = () => clock.now();

  it('me answers with the user created on first sight', async () => {
    const r = await t.http<{ me: { id: string; name: string } }>(
      '{ me { id name } }',
      {},
      await t.token('alice', { name: 'Alice' }),
    );
    expect(r.data?.me).toEqual({ id: 'alice', name: 'Alice' });
  });

  it('the pull form lists the committed notices in order, and never a rolled-back one (N1, N2)', async () => {
    const token = await t.token('alice');
    await publishRange(db.handle.db, 'alice', 'a', 0, 3, now);
    await expect(
      db.handle.db.transaction(async (tx) => {
        await publishTagged(tx, ['alice'], 'doomed', 0, now());
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await publishRange(db.handle.db, 'alice', 'a', 3, 5, now);
    await settleNotices(db.handle.db);
    const r = await t.http<ListPage>(LIST, {}, token);
    expect(r.data!.notices.edges.map((e) => keyOf(e.node))).toEqual(['a:0', 'a:1', 'a:2', 'a:3', 'a:4']);
  });

  it('a subscription with a cursor replays what followed it, then goes live', async () => {
    const token = await t.token('alice');
    const page = await t.http<ListPage>(LIST, {}, token);
    const sub = collect<{ notices: TaggedNotice }>(t.ws(token), SUB, {
      after: page.data!.notices.edges[2]!.cursor,
    });
    expect((await sub.take(2)).map((r) => keyOf(r.data!.notices))).toEqual(['a:3', 'a:4']);
    await t.waitForStreams(1);
    await publishRange(db.handle.db, 'alice', 'a', 5, 7, now);
    expect((await sub.take(4)).map((r) => keyOf(r.data!.notices))).toEqual(['a:3', 'a:4', 'a:5', 'a:6']);
    sub.dispose();
  });

  it('a cursor older than the kept notices gets CURSOR_EXPIRED after a prune 8 days later', async () => {
    const token = await t.token('bob');
    await publishRange(db.handle.db, 'bob', 'old', 0, 2, now);
    await settleNotices(db.handle.db);
    const oldCursor = (await t.http<ListPage>(LIST, {}, token)).data!.notices.edges[0]!.cursor;
    clock.advance((8 * DAY) / 1000);
    await publishRange(db.handle.db, 'bob', 'new', 0, 1, now);
    await settleNotices(db.handle.db);
    expect(await pruneNotices(db.handle.db, clock.now())).toBeGreaterThanOrEqual(2);
    const r = await t.http(LIST, { after: oldCursor }, token);
    expect(r.errors?.[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
    const sub = collect(t.ws(token), SUB, { after: oldCursor });
    expect((await sub.take(1))[0]?.errors?.[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
    const kept = await t.http<ListPage>(LIST, {}, token);
    expect(kept.data!.notices.edges.map((e) => keyOf(e.node))).toEqual(['new:0']);
  });
});
