import { drizzle } from 'drizzle-orm/node-postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY, ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';
import { pruneNotices } from '../../src/notices/notices.outbox.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import {
  keyOf,
  openConnection,
  publishRange,
  settleNotices,
  TAGGED_FIELDS,
  type TaggedNotice,
  untilWaitingOnLock,
} from '../support/notices.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

const SUB = `subscription ($after: String) { notices(after: $after) { ${TAGGED_FIELDS} } }`;
const LIST = `query ($after: String) { notices(after: $after, first: 100) {
  edges { cursor node { ${TAGGED_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
interface ListPage {
  notices: { edges: { cursor: string; node: TaggedNotice }[]; pageInfo: { endCursor: string } };
}

describe('N1: notices are kept at least 7 days; an older cursor gets CURSOR_EXPIRED', () => {
  let db: TestDatabase;
  let t: TestApp;
  let clock: ManualClock;
  let token: string;
  /** Cursors of notices published 8 days, 6 days and 0 days before the prune. */
  let cursors: { old: string[]; mid: string[]; fresh: string[] };

  // Each test prunes: a fresh database and app per test, with the same history.
  beforeEach(async () => {
    db = await createTestDatabase('pg');
    clock = new ManualClock('2026-01-01T00:00:00Z');
    t = await startTestApp(db.handle, { clock });
    token = await t.token('alice');
    const now = () => clock.now();
    await publishRange(db.handle.db, 'alice', 'old', 0, 3, now); // 2026-01-01: 8 days before the prune
    clock.advance((2 * DAY) / 1000);
    await publishRange(db.handle.db, 'alice', 'mid', 0, 3, now); // 2026-01-03: 6 days before
    clock.advance((6 * DAY) / 1000);
    await publishRange(db.handle.db, 'alice', 'fresh', 0, 3, now); // 2026-01-09
    await settleNotices(db.handle.db);
    const page = await t.http<ListPage>(LIST, {}, token);
    const byTag = (tag: string) =>
      page.data!.notices.edges.filter((e) => e.node.conversationId === tag).map((e) => e.cursor);
    cursors = { old: byTag('old'), mid: byTag('mid'), fresh: byTag('fresh') };
    expect(cursors.old).toHaveLength(3);
  });
  afterEach(async () => {
    await t?.stop();
    await db?.drop();
  });

  const expectExpired = async (after: string) => {
    const r = await t.http(LIST, { after }, token);
    expect(r.errors?.[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
    expect(r.data ?? null).toBeNull();
    const sub = collect(t.ws(token), SUB, { after });
    const [res] = await sub.take(1);
    expect(res?.errors?.[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
    await sub.settle();
    expect(sub.completed).toBe(true);
  };

  const listAfter = async (after: string | null) => {
    const r = await t.http<ListPage>(LIST, { after }, token);
    expect(r.errors).toBeUndefined();
    return r.data!.notices.edges.map((e) => keyOf(e.node));
  };

  it('after a prune 8 days on, a cursor older than what is kept is refused with CURSOR_EXPIRED over HTTP and graphql-ws', async () => {
    expect(await pruneNotices(db.handle.db, clock.now())).toBe(3);
    await expectExpired(cursors.old[0]!);
    // The newest pruned notice's own cursor is at the horizon: what followed it may be gone too.
    await expectExpired(cursors.old[2]!);
  });

  it('notices younger than 7 days are kept, and a cursor newer than the horizon still replays', async () => {
    await pruneNotices(db.handle.db, clock.now());
    expect(await listAfter(null)).toEqual(['mid:0', 'mid:1', 'mid:2', 'fresh:0', 'fresh:1', 'fresh:2']);
    expect(await listAfter(cursors.mid[0]!)).toEqual(['mid:1', 'mid:2', 'fresh:0', 'fresh:1', 'fresh:2']);
    const sub = collect<{ notices: TaggedNotice }>(t.ws(token), SUB, { after: cursors.mid[2]! });
    expect((await sub.take(3)).map((r) => keyOf(r.data!.notices))).toEqual(['fresh:0', 'fresh:1', 'fresh:2']);
    sub.dispose();
  });

  it('before any prune, even the oldest cursor replays (nothing is expired early)', async () => {
    expect(await listAfter(cursors.old[0]!)).toHaveLength(8);
  });

  it('the prune is idempotent: a second run at the same time deletes nothing more', async () => {
    expect(await pruneNotices(db.handle.db, clock.now())).toBe(3);
    expect(await pruneNotices(db.handle.db, clock.now())).toBe(0);
    expect(await listAfter(null)).toHaveLength(6);
  });

  it('the operator mutation runRetentionSweep prunes too; ordinary users are refused with FORBIDDEN', async () => {
    const SWEEP = 'mutation { runRetentionSweep { run { prunedNotices } userErrors { code } } }';
    type Sweep = {
      runRetentionSweep: { run: { prunedNotices: number } | null; userErrors: { code: string }[] };
    };
    const refused = await t.http<Sweep>(SWEEP, {}, token);
    expect(refused.data?.runRetentionSweep).toEqual({ run: null, userErrors: [{ code: 'FORBIDDEN' }] });
    await expect(listAfter(cursors.old[0]!)).resolves.toHaveLength(8); // the refusal changed nothing

    const done = await t.http<Sweep>(SWEEP, {}, await t.token('olga', { operator: true }));
    expect(done.data?.runRetentionSweep).toEqual({ run: { prunedNotices: 3 }, userErrors: [] });
    await expectExpired(cursors.old[1]!);
    expect(await listAfter(cursors.fresh[0]!)).toEqual(['fresh:1', 'fresh:2']);
  });

  it('a prune that commits while a replay is reading cannot open a silent gap: the reader gets CURSOR_EXPIRED', async () => {
    // The prune runs in a transaction that first locks the notices table: the readers pass the
    // horizon check, then wait on the lock to read their page; the prune commits; they read on.
    const pruner = await openConnection(db.url!);
    try {
      await pruner.query('BEGIN');
      await pruner.query('LOCK TABLE notices IN ACCESS EXCLUSIVE MODE');
      const pulled = t.http(LIST, { after: cursors.old[0]! }, token);
      const sub = collect(t.ws(token), SUB, { after: cursors.old[0]! });
      await untilWaitingOnLock(db.url!, 2, '%recipient_ids @>%');
      const pruned = await pruneNotices(drizzle(pruner, { schema }) as unknown as Database, clock.now());
      expect(pruned).toBe(3);
      await pruner.query('COMMIT');

      expect((await pulled).errors?.[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
      await sub.settle();
      // Mid-stream, the refusal is the operation's error (graphql-ws `error` message).
      const streamed = [
        ...sub.results.flatMap((r) => r.errors ?? []),
        ...((sub.error as { extensions?: { code?: string } }[] | undefined) ?? []),
      ];
      expect(streamed.map((e) => e.extensions?.code)).toEqual(['CURSOR_EXPIRED']);
      expect(sub.results.filter((r) => r.data)).toEqual([]);
    } finally {
      await pruner.end();
    }
  });
});
