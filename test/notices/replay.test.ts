import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import {
  keyOf,
  publishBatch,
  publishRange,
  publishTagged,
  settleNotices,
  strictlyIncreasing,
  TAGGED_FIELDS,
  type TaggedNotice,
} from '../support/notices.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

const SUB = `subscription ($after: String) { notices(after: $after) { ${TAGGED_FIELDS} } }`;
const LIST = `query ($after: String, $first: Int) { notices(after: $after, first: $first) {
  edges { cursor node { ${TAGGED_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
interface ListPage {
  notices: {
    edges: { cursor: string; node: TaggedNotice }[];
    pageInfo: { hasNextPage: boolean; endCursor: string };
  };
}
const range = (tag: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${tag}:${from + i}`);

describe('N1: subscribing with `after` replays what was missed, then goes live, without duplicates', () => {
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
  const now = () => t.clock.now();

  it('a cursor in the middle of existing notices replays exactly the later ones, then live ones', async () => {
    const token = await t.token('alice');
    await publishRange(db.handle.db, 'alice', 'n', 0, 10, now);
    await settleNotices(db.handle.db);
    const page = await t.http<ListPage>(LIST, { first: 100 }, token);
    expect(page.data!.notices.edges.map((e) => keyOf(e.node))).toEqual(range('n', 0, 10));
    const middle = page.data!.notices.edges[4]!.cursor; // after n:4

    const sub = collect<{ notices: TaggedNotice }>(t.ws(token), SUB, { after: middle });
    expect((await sub.take(5)).map((r) => keyOf(r.data!.notices))).toEqual(range('n', 5, 10));
    await t.waitForStreams(1);
    await publishRange(db.handle.db, 'alice', 'n', 10, 13, now);
    const all = await sub.take(8);
    expect(all.map((r) => keyOf(r.data!.notices))).toEqual(range('n', 5, 13));
    // A notice's cursor is the same in the pull form and in the stream.
    expect(all[0]!.data!.notices.cursor).toBe(page.data!.notices.edges[5]!.cursor);
    sub.dispose();
  });

  it('notices committed while the replay runs are delivered once, in order, after the replayed ones', async () => {
    const token = await t.token('bob');
    await publishBatch(db.handle.db, 'bob', 'r', 0, 1200, now()); // more than two replay pages
    await settleNotices(db.handle.db);
    const first = await t.http<ListPage>(LIST, { first: 1 }, token);
    const afterFirst = first.data!.notices.edges[0]!.cursor;

    const sub = collect<{ notices: TaggedNotice }>(
      t.ws(token),
      SUB,
      { after: afterFirst },
      { timeoutMs: 120_000 }, // a busy shared server can be slow; only the outcome is asserted
    );
    // Writers race the replay: some of these land in the table before it ends, some after.
    await Promise.all([
      publishRange(db.handle.db, 'bob', 'live-a', 0, 50, now),
      publishRange(db.handle.db, 'bob', 'live-b', 0, 50, now),
    ]);
    const got = (await sub.take(1299)).map((r) => r.data!.notices);
    const keys = got.map(keyOf);
    expect(keys.slice(0, 1199)).toEqual(range('r', 1, 1200));
    expect(new Set(keys).size).toBe(1299);
    expect(keys.filter((k) => k.startsWith('live-a'))).toEqual(range('live-a', 0, 50));
    expect(keys.filter((k) => k.startsWith('live-b'))).toEqual(range('live-b', 0, 50));
    expect(strictlyIncreasing(got.map((n) => n.cursor))).toBe(true);
    // Nothing more: a sentinel is the very next notice.
    await db.handle.db.transaction((tx) => publishTagged(tx, ['bob'], 'sentinel', 0, now()));
    const [last] = (await sub.take(1300)).slice(-1);
    expect(keyOf(last!.data!.notices)).toBe('sentinel:0');
    sub.dispose();
  }, 300_000);

  it('a subscriber sees only its own notices: replay and live skip other recipients', async () => {
    const token = await t.token('carol');
    await publishRange(db.handle.db, 'carol', 'c', 0, 2, now);
    await publishRange(db.handle.db, 'dave', 'd', 0, 2, now);
    await db.handle.db.transaction((tx) => publishTagged(tx, ['carol', 'dave'], 'both', 0, now()));
    await settleNotices(db.handle.db);
    const sub = collect<{ notices: TaggedNotice }>(t.ws(token), SUB, {
      after: (await t.http<ListPage>(LIST, { first: 1 }, token)).data!.notices.edges[0]!.cursor,
    });
    expect((await sub.take(2)).map((r) => keyOf(r.data!.notices))).toEqual(['c:1', 'both:0']);
    await t.waitForStreams(1);
    await publishRange(db.handle.db, 'dave', 'd', 2, 4, now);
    await publishRange(db.handle.db, 'carol', 'c', 2, 3, now);
    expect((await sub.take(3)).map((r) => keyOf(r.data!.notices))).toEqual(['c:1', 'both:0', 'c:2']);
    sub.dispose();
  });

  it('the endCursor of an empty pull page continues live from exactly there', async () => {
    const token = await t.token('erin');
    const empty = await t.http<ListPage>(LIST, {}, token);
    expect(empty.data!.notices.edges).toEqual([]);
    const end = empty.data!.notices.pageInfo.endCursor;
    expect(typeof end).toBe('string');
    // Committed after the page was read, before the subscription starts: replayed, not lost.
    await publishRange(db.handle.db, 'erin', 'e', 0, 2, now);
    const sub = collect<{ notices: TaggedNotice }>(t.ws(token), SUB, { after: end });
    expect((await sub.take(2)).map((r) => keyOf(r.data!.notices))).toEqual(['e:0', 'e:1']);
    sub.dispose();
  });

  it('a malformed cursor is refused with BAD_USER_INPUT over HTTP and over graphql-ws', async () => {
    const token = await t.token('alice');
    for (const bad of ['garbage', Buffer.from('n1:x:1').toString('base64url'), '']) {
      const r = await t.http<ListPage>(LIST, { after: bad }, token);
      if (bad === '') {
        // An empty cursor means "from the start" in the pull form.
        expect(r.errors).toBeUndefined();
        continue;
      }
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const sub = collect(t.ws(token), SUB, { after: bad });
      const [res] = await sub.take(1);
      expect(res?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      await sub.settle();
      expect(sub.completed).toBe(true);
    }
  });
});

describe('N1: notices written by one transaction keep the order they were written in', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    // A fresh database: ids start at 1, so one batch crosses 9 → 10 and 99 → 100.
    db = await createTestDatabase('pg');
    t = await startTestApp(db.handle);
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('a batch of 150 notices in one transaction arrives in order live, in the pull form, and on replay', async () => {
    const token = await t.token('alice');
    const live = collect<{ notices: TaggedNotice }>(t.ws(token), SUB);
    await t.waitForStreams(1);
    await publishBatch(db.handle.db, 'alice', 'b', 0, 150, t.clock.now());
    expect((await live.take(150)).map((r) => keyOf(r.data!.notices))).toEqual(range('b', 0, 150));
    live.dispose();

    const pulled: { cursor: string; node: TaggedNotice }[] = [];
    let after: string | null = null;
    do {
      const r: Awaited<ReturnType<typeof t.http<ListPage>>> = await t.http<ListPage>(LIST, { after }, token);
      pulled.push(...r.data!.notices.edges);
      after = r.data!.notices.pageInfo.hasNextPage ? r.data!.notices.pageInfo.endCursor : null;
    } while (after);
    expect(pulled.map((e) => keyOf(e.node))).toEqual(range('b', 0, 150));
    expect(strictlyIncreasing(pulled.map((e) => e.cursor))).toBe(true);

    const replay = collect<{ notices: TaggedNotice }>(t.ws(token), SUB, { after: pulled[5]!.cursor });
    expect((await replay.take(144)).map((r) => keyOf(r.data!.notices))).toEqual(range('b', 6, 150));
    replay.dispose();
  });
});
