import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
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
import { collect } from '../support/server.js';

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
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv();
  });
  afterAll(() => env?.close());
  const now = () => env.server.clock.now();

  it('a cursor in the middle of existing notices replays exactly the later ones, then live ones', async () => {
    const token = await env.server.token('alice');
    await publishRange(env.db.handle.db, 'alice', 'n', 0, 10, now);
    await settleNotices(env.db.handle.db);
    const page = await env.server.http<ListPage>(LIST, { first: 100 }, token);
    expect(page.data!.notices.edges.map((e) => keyOf(e.node))).toEqual(range('n', 0, 10));
    const middle = page.data!.notices.edges[4]!.cursor; // after n:4

    const sub = collect<{ notices: TaggedNotice }>(env.server.ws(token), SUB, { after: middle });
    expect((await sub.take(5)).map((r) => keyOf(r.data!.notices))).toEqual(range('n', 5, 10));
    await env.server.waitForStreams(1);
    await publishRange(env.db.handle.db, 'alice', 'n', 10, 13, now);
    const all = await sub.take(8);
    expect(all.map((r) => keyOf(r.data!.notices))).toEqual(range('n', 5, 13));
    // A notice's cursor is the same in the pull form and in the stream.
    expect(all[0]!.data!.notices.cursor).toBe(page.data!.notices.edges[5]!.cursor);
    sub.dispose();
  });

  it('notices committed while the replay runs are delivered once, in order, after the replayed ones', async () => {
    const token = await env.server.token('bob');
    await publishBatch(env.db.handle.db, 'bob', 'r', 0, 1200, now()); // more than two replay pages
    await settleNotices(env.db.handle.db);
    const first = await env.server.http<ListPage>(LIST, { first: 1 }, token);
    const afterFirst = first.data!.notices.edges[0]!.cursor;

    const sub = collect<{ notices: TaggedNotice }>(
      env.server.ws(token),
      SUB,
      { after: afterFirst },
      { timeoutMs: 120_000 }, // a busy shared server can be slow; only the outcome is asserted
    );
    // Writers race the replay: some of these land in the table before it ends, some after.
    await Promise.all([
      publishRange(env.db.handle.db, 'bob', 'live-a', 0, 50, now),
      publishRange(env.db.handle.db, 'bob', 'live-b', 0, 50, now),
    ]);
    const got = (await sub.take(1299)).map((r) => r.data!.notices);
    const keys = got.map(keyOf);
    expect(keys.slice(0, 1199)).toEqual(range('r', 1, 1200));
    expect(new Set(keys).size).toBe(1299);
    expect(keys.filter((k) => k.startsWith('live-a'))).toEqual(range('live-a', 0, 50));
    expect(keys.filter((k) => k.startsWith('live-b'))).toEqual(range('live-b', 0, 50));
    expect(strictlyIncreasing(got.map((n) => n.cursor))).toBe(true);
    // Nothing more: a sentinel is the very next notice.
    await env.db.handle.db.transaction((tx) => publishTagged(tx, ['bob'], 'sentinel', 0, now()));
    const [last] = (await sub.take(1300)).slice(-1);
    expect(keyOf(last!.data!.notices)).toBe('sentinel:0');
    sub.dispose();
  }, 300_000);

  it('a subscriber sees only its own notices: replay and live skip other recipients', async () => {
    const token = await env.server.token('carol');
    await publishRange(env.db.handle.db, 'carol', 'c', 0, 2, now);
    await publishRange(env.db.handle.db, 'dave', 'd', 0, 2, now);
    await env.db.handle.db.transaction((tx) => publishTagged(tx, ['carol', 'dave'], 'both', 0, now()));
    await settleNotices(env.db.handle.db);
    const sub = collect<{ notices: TaggedNotice }>(env.server.ws(token), SUB, {
      after: (await env.server.http<ListPage>(LIST, { first: 1 }, token)).data!.notices.edges[0]!.cursor,
    });
    expect((await sub.take(2)).map((r) => keyOf(r.data!.notices))).toEqual(['c:1', 'both:0']);
    await env.server.waitForStreams(1);
    await publishRange(env.db.handle.db, 'dave', 'd', 2, 4, now);
    await publishRange(env.db.handle.db, 'carol', 'c', 2, 3, now);
    expect((await sub.take(3)).map((r) => keyOf(r.data!.notices))).toEqual(['c:1', 'both:0', 'c:2']);
    sub.dispose();
  });

  it('the endCursor of an empty pull page continues live from exactly there', async () => {
    const token = await env.server.token('erin');
    const empty = await env.server.http<ListPage>(LIST, {}, token);
    expect(empty.data!.notices.edges).toEqual([]);
    const end = empty.data!.notices.pageInfo.endCursor;
    expect(typeof end).toBe('string');
    // Committed after the page was read, before the subscription starts: replayed, not lost.
    await publishRange(env.db.handle.db, 'erin', 'e', 0, 2, now);
    const sub = collect<{ notices: TaggedNotice }>(env.server.ws(token), SUB, { after: end });
    expect((await sub.take(2)).map((r) => keyOf(r.data!.notices))).toEqual(['e:0', 'e:1']);
    sub.dispose();
  });

  it('a malformed cursor is refused with BAD_USER_INPUT over HTTP and over graphql-ws', async () => {
    const token = await env.server.token('alice');
    for (const bad of ['garbage', Buffer.from('n1:x:1').toString('base64url'), '']) {
      const r = await env.server.http<ListPage>(LIST, { after: bad }, token);
      if (bad === '') {
        // An empty cursor means "from the start" in the pull form.
        expect(r.errors).toBeUndefined();
        continue;
      }
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const sub = collect(env.server.ws(token), SUB, { after: bad });
      const [res] = await sub.take(1);
      expect(res?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      await sub.settle();
      expect(sub.completed).toBe(true);
    }
  });
});

describe('N1: notices written by one transaction keep the order they were written in', () => {
  let env: TestEnv;
  beforeAll(async () => {
    // A fresh database: ids start at 1, so one batch crosses 9 → 10 and 99 → 100.
    env = await openTestEnv();
  });
  afterAll(() => env?.close());

  it('a batch of 150 notices in one transaction arrives in order live, in the pull form, and on replay', async () => {
    const token = await env.server.token('alice');
    const live = collect<{ notices: TaggedNotice }>(env.server.ws(token), SUB);
    await env.server.waitForStreams(1);
    await publishBatch(env.db.handle.db, 'alice', 'b', 0, 150, env.server.clock.now());
    expect((await live.take(150)).map((r) => keyOf(r.data!.notices))).toEqual(range('b', 0, 150));
    live.dispose();

    const pulled: { cursor: string; node: TaggedNotice }[] = [];
    let after: string | null = null;
    do {
      const r: Awaited<ReturnType<typeof env.server.http<ListPage>>> = await env.server.http<ListPage>(
        LIST,
        { after },
        token,
      );
      pulled.push(...r.data!.notices.edges);
      after = r.data!.notices.pageInfo.hasNextPage ? r.data!.notices.pageInfo.endCursor : null;
    } while (after);
    expect(pulled.map((e) => keyOf(e.node))).toEqual(range('b', 0, 150));
    expect(strictlyIncreasing(pulled.map((e) => e.cursor))).toBe(true);

    const replay = collect<{ notices: TaggedNotice }>(env.server.ws(token), SUB, {
      after: pulled[5]!.cursor,
    });
    expect((await replay.take(144)).map((r) => keyOf(r.data!.notices))).toEqual(range('b', 6, 150));
    replay.dispose();
  });
});
