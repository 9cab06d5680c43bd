// Issue #3: pair operations and sweepers racing each other, on real Postgres.
//
// These tests need many connections at once: transactions queue on the pair's advisory lock while
// others hold it, and two sweepers run on two separate pools (two server instances). PGlite is one
// in-process connection that runs one transaction at a time, so nothing here can race on it: this
// file cannot run on PGlite and always uses the test Postgres (`createTestDatabase('pg')`).
import { and, eq, inArray, or, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../../src/auth.js';
import { DAY, SECOND } from '../../src/clock.js';
import {
  blockContact,
  deleteContact,
  getContact,
  respondToFriendRequest,
  sendFriendRequest,
} from '../../src/contacts/contacts.service.js';
import { contactEntries, friendRequests } from '../../src/contacts/contacts.tables.js';
import type { Database } from '../../src/db/client.js';
import { runSweep } from '../../src/jobs/sweep.js';
import { sendMessage } from '../../src/messages/messages.service.js';
import { findDirect } from '../../src/messages/messages.store.js';
import { conversations, messages } from '../../src/messages/messages.tables.js';
import { notices } from '../../src/notices/notices.tables.js';
import type { Deps } from '../../src/shared/deps.js';
import type { Result } from '../../src/shared/result.js';
import { ensureUser } from '../../src/users/users.store.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { startTestApp } from '../support/server.js';

const START = new Date('2026-01-01T00:00:00.000Z');

/**
 * R3's buffer, written out rather than imported from src: the expected purgeAt must not move with
 * a wrong constant there.
 */
const THIRTY_DAYS_MS = 2_592_000_000; // 30 × 24 × 60 × 60 × 1000
/** Just past the buffer, in the seconds `ManualClock.advance` takes (30 days and a minute). */
const PAST_THE_BUFFER_S = 2_592_060;

const viewer = (userId: string): Viewer => ({
  userId,
  name: undefined,
  operator: false,
  deviceId: undefined,
  expiresAt: undefined,
});

/** The value of a use case that must succeed (a refusal fails the test with its code). */
function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`refused: ${r.error.code} ${r.error.message}`);
  return r.value;
}

type Pair = readonly [a: string, b: string];

const WAVE = 10; // pairs raced at once: a saturated pool would order the rivals by its queue alone

/**
 * Runs two rival calls per pair at the same moment, `WAVE` pairs at a time; even pairs start
 * `x` first, odd pairs `y` first. Either may win: the tests accept both orders.
 */
async function raceEach<A, B>(
  pairs: Pair[],
  rivals: (p: Pair, i: number) => [x: () => Promise<A>, y: () => Promise<B>],
): Promise<[A, B][]> {
  const out: [A, B][] = [];
  for (let from = 0; from < pairs.length; from += WAVE) {
    const wave = pairs.slice(from, from + WAVE).map((p, k): Promise<[A, B]> => {
      const [x, y] = rivals(p, from + k);
      return (from + k) % 2 === 0
        ? Promise.all([x(), y()])
        : Promise.all([y(), x()]).then(([b, a]) => [a, b]);
    });
    out.push(...(await Promise.all(wave)));
  }
  return out;
}

/**
 * Runs `fn` once the same read `respondToFriendRequest` does before its transaction is done, so a
 * rival call reaches the pair lock at about the time the accept does.
 */
const afterPeek = <T>(requestId: string, fn: () => Promise<T>): Promise<T> =>
  db.select({ id: friendRequests.id }).from(friendRequests).where(eq(friendRequests.id, requestId)).then(fn);

let env: TestEnv;
let deps: Deps;
let db: Database;
beforeAll(async () => {
  env = await openTestEnv({ start: START.toISOString() });
  deps = env.server.app.deps;
  db = deps.db;
});
afterAll(() => env?.close());

/** `n` pairs of fresh users named after `tag`. */
async function pairsOf(tag: string, n: number): Promise<Pair[]> {
  const pairs = Array.from({ length: n }, (_, i) => [`${tag}-${i}-a`, `${tag}-${i}-b`] as const);
  await Promise.all(pairs.flat().map((id) => ensureUser(db, id, undefined, env.clock.now())));
  return pairs;
}

/** R1: `a` asks, `b` accepts; returns the pair's conversation id. */
async function befriend([a, b]: Pair): Promise<string> {
  const { request } = value(await sendFriendRequest(deps, viewer(a), { userId: b }));
  const { contact } = value(
    await respondToFriendRequest(deps, viewer(b), { requestId: request.id, accept: true }),
  );
  return contact!.conversationId;
}

async function say(from: string, conversationId: string, body: string): Promise<string> {
  return value(await sendMessage(deps, viewer(from), { conversationId, body })).message.id;
}

/** Friends with `messagesEach` messages, then both sides delete: MUTUALLY_DELETED (one after the other). */
async function mutuallyDeleted(pairs: Pair[], messagesEach: number): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  await Promise.all(
    pairs.map(async (p) => {
      const c = await befriend(p);
      for (let i = 0; i < messagesEach; i++) await say(p[i % 2]!, c, `message ${i}`);
      value(await deleteContact(deps, viewer(p[0]), { userId: p[1], notice: 'SILENT' }));
      value(await deleteContact(deps, viewer(p[1]), { userId: p[0], notice: 'SILENT' }));
      ids.set(p[0], c);
    }),
  );
  return ids;
}

async function conversationOf([a, b]: Pair) {
  const c = await findDirect(db, a, b);
  if (!c) throw new Error(`no conversation for ${a}/${b}`);
  return c;
}

async function messageCount(conversationId: string): Promise<number> {
  const [r] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(messages)
    .where(eq(messages.conversationId, conversationId));
  return r!.n;
}

async function entriesOf([a, b]: Pair) {
  const rows = await db
    .select()
    .from(contactEntries)
    .where(
      or(
        and(eq(contactEntries.ownerId, a), eq(contactEntries.peerId, b)),
        and(eq(contactEntries.ownerId, b), eq(contactEntries.peerId, a)),
      ),
    );
  return {
    ab: rows.find((r) => r.ownerId === a) ?? null,
    ba: rows.find((r) => r.ownerId === b) ?? null,
  };
}

const viewsOf = async ([a, b]: Pair) => ({
  a: (await getContact(deps, viewer(a), b))?.state ?? null,
  b: (await getContact(deps, viewer(b), a))?.state ?? null,
});

/** ConversationPurged notices per conversation id. */
async function purgeNotices(conversationIds: string[]): Promise<Map<string, number>> {
  const rows = await db
    .select({ id: sql<string>`${notices.payload}->>'conversationId'`, n: sql<number>`count(*)::int` })
    .from(notices)
    .where(
      and(
        eq(notices.kind, 'ConversationPurged'),
        inArray(sql<string>`${notices.payload}->>'conversationId'`, conversationIds),
      ),
    )
    .groupBy(sql`${notices.payload}->>'conversationId'`);
  return new Map(rows.map((r) => [r.id, r.n]));
}

describe('R3 under concurrency: both sides delete at the same moment', () => {
  it('200 pairs deleting each other at once all end MUTUALLY_DELETED with exactly one purgeAt', async () => {
    const pairs = await pairsOf('mutual', 200);
    const conversationIds = await Promise.all(pairs.map(befriend));
    await Promise.all(pairs.map((p, i) => say(p[0], conversationIds[i]!, 'hello')));
    const now = env.clock.now();
    const purgeAt = new Date(now.getTime() + THIRTY_DAYS_MS);

    // Both sides of every pair at once: the pool (30 connections) runs many transactions together,
    // and each pair's two deletes are queued next to each other.
    const results = await Promise.all(
      pairs.flatMap(([a, b]) => [
        deleteContact(deps, viewer(a), { userId: b, notice: 'SILENT' }),
        deleteContact(deps, viewer(b), { userId: a, notice: 'NOTIFY' }),
      ]),
    );

    await Promise.all(
      pairs.map(async (p, i) => {
        const first = value(results[2 * i]!);
        const second = value(results[2 * i + 1]!);
        // Serialised by the pair lock: exactly one delete saw the other and started the buffer.
        const byState = [first, second].map((r) => r.contact!.state).sort();
        expect(byState, p.join('/')).toEqual(['DELETED_BY_ME', 'MUTUALLY_DELETED']);
        const buffered = [first, second].filter((r) => r.retention.state === 'BUFFERED');
        expect(buffered).toHaveLength(1);
        expect(buffered[0]!.retention.purgeAt).toEqual(purgeAt);
        const oneWay = [first, second].find((r) => r.retention.state !== 'BUFFERED')!;
        expect(oneWay.retention).toMatchObject({ state: 'ONE_WAY_DELETED', purgeAt: null });

        const c = await conversationOf(p);
        expect(c.id).toBe(conversationIds[i]);
        expect(c).toMatchObject({ mutualSince: now, purgeAt, purgedAt: null, purgedBy: null });
        const { ab, ba } = await entriesOf(p);
        expect([ab?.state, ba?.state]).toEqual(['DELETED', 'DELETED']);
        expect(await viewsOf(p)).toEqual({ a: 'MUTUALLY_DELETED', b: 'MUTUALLY_DELETED' });
        expect(await messageCount(c.id)).toBe(1); // R3: kept for the buffer
      }),
    );
    // One conversation per pair, nothing duplicated by the race.
    const all = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(conversations)
      .where(
        inArray(
          conversations.userLow,
          pairs.map((p) => p[0]),
        ),
      );
    expect(all[0]!.n).toBe(200);
  });
});

describe('R1 accept racing R2/R3/R4 delete and block', () => {
  it('a one-way deleter re-adding while the peer deletes ends restored-then-deleted or mutually deleted', async () => {
    // Allowed end states (SPEC §1, R2/R3):
    //  restore first → a FRIEND (a sees FRIEND), b DELETED (b sees DELETED_BY_ME); no buffer;
    //                  the request is ACCEPTED at once (R2).
    //  delete first  → both DELETED, both see MUTUALLY_DELETED, purgeAt = now + 30 days; the
    //                  request is PENDING and shown to b (verification is required again, R3).
    const pairs = await pairsOf('readd', 60);
    const conversationIds = await Promise.all(pairs.map(befriend));
    await Promise.all(pairs.map((p, i) => say(p[1], conversationIds[i]!, 'still here')));
    await Promise.all(pairs.map(([a, b]) => deleteContact(deps, viewer(a), { userId: b, notice: 'SILENT' })));
    env.clock.advance(60);
    const now = env.clock.now();

    const raced = await raceEach(pairs, ([a, b]) => [
      () => sendFriendRequest(deps, viewer(a), { userId: b }),
      () => deleteContact(deps, viewer(b), { userId: a, notice: 'SILENT' }),
    ]);

    await Promise.all(
      pairs.map(async (p, i) => {
        const [req, del] = raced[i]!;
        const request = value(req).request;
        const deleted = value(del);
        const c = await conversationOf(p);
        const views = await viewsOf(p);
        const { ab, ba } = await entriesOf(p);
        if (request.status === 'ACCEPTED') {
          expect(views, p.join('/')).toEqual({ a: 'FRIEND', b: 'DELETED_BY_ME' });
          expect([ab?.state, ba?.state]).toEqual(['FRIEND', 'DELETED']);
          expect(deleted.contact!.state).toBe('DELETED_BY_ME');
          expect(c).toMatchObject({ mutualSince: null, purgeAt: null, purgedAt: null });
        } else {
          expect(request.status, p.join('/')).toBe('PENDING');
          expect(views).toEqual({ a: 'MUTUALLY_DELETED', b: 'MUTUALLY_DELETED' });
          expect([ab?.state, ba?.state]).toEqual(['DELETED', 'DELETED']);
          expect(deleted.contact!.state).toBe('MUTUALLY_DELETED');
          expect(c).toMatchObject({
            mutualSince: now,
            purgeAt: new Date(now.getTime() + THIRTY_DAYS_MS),
            purgedAt: null,
          });
          const [pending] = await db.select().from(friendRequests).where(eq(friendRequests.id, request.id));
          expect(pending).toMatchObject({ status: 'PENDING', hidden: false, toId: p[1] });
        }
        expect(await messageCount(c.id)).toBe(1); // neither outcome purges (R2, R3 buffer)
      }),
    );
  });

  it('a mutually deleted pair: accepting a re-add while the requester blocks ends in an allowed state', async () => {
    // a asks b again (R3); b accepts while a blocks b (half the pairs: block and delete, R4).
    // Allowed end states (b's accept succeeds either way: a's request stays open through a's
    // block, or b would learn of the block from its disappearance):
    //  accept first → both were friends, then a blocks: a's block hides FRIEND (block) or DELETED
    //                 (block and delete).
    //  block first  → a's block hides DELETED (a had deleted b); b's accept befriends b's side only,
    //                 behind the block.
    //  Both: a sees BLOCKED_BY_ME, b sees FRIEND, the buffer is over (mutualSince, purgeAt null);
    //  history kept (block alone) or purged by R4 (block and delete).
    const pairs = await pairsOf('mutual-accept', 80);
    const ids = await mutuallyDeleted(pairs, 2);
    env.clock.advance(DAY / SECOND);
    const requests = await Promise.all(
      pairs.map(async ([a, b]) => value(await sendFriendRequest(deps, viewer(a), { userId: b })).request),
    );
    for (const r of requests) expect(r.status).toBe('PENDING');

    const raced = await raceEach(pairs, ([a, b], i) => {
      const requestId = requests[i]!.id;
      return [
        () => respondToFriendRequest(deps, viewer(b), { requestId, accept: true }),
        () =>
          afterPeek(requestId, () => blockContact(deps, viewer(a), { userId: b, deleteHistory: i % 4 >= 2 })),
      ];
    });

    await Promise.all(
      pairs.map(async (p, i) => {
        const [accepted, blocked] = raced[i]!;
        const deleteHistory = i % 4 >= 2;
        expect(blocked.ok, p.join('/')).toBe(true);
        const c = await conversationOf(p);
        expect(c.id).toBe(ids.get(p[0]));
        const views = await viewsOf(p);
        const count = await messageCount(c.id);
        const { ab, ba } = await entriesOf(p);
        expect(accepted.ok, p.join('/')).toBe(true);
        expect(views, p.join('/')).toEqual({ a: 'BLOCKED_BY_ME', b: 'FRIEND' });
        expect(ba?.state).toBe('FRIEND');
        expect(ab?.state).toBe('BLOCKED');
        expect(deleteHistory ? ['DELETED'] : ['FRIEND', 'DELETED']).toContain(ab?.stateBeforeBlock);
        expect(c).toMatchObject({ mutualSince: null, purgeAt: null });
        expect(count).toBe(deleteHistory ? 0 : 2);
      }),
    );
  });

  it('accepting a request while its sender deletes ends friends, or one-way deleted by the sender', async () => {
    // Allowed end states:
    //  accept first → friends, then the sender's delete: a sees DELETED_BY_ME, b sees FRIEND (R2).
    //  delete first → NOT_FRIENDS (nothing to delete yet), then friends: both see FRIEND.
    const pairs = await pairsOf('accept-delete', 60);
    const requests = await Promise.all(
      pairs.map(async ([a, b]) => value(await sendFriendRequest(deps, viewer(a), { userId: b })).request),
    );
    const raced = await raceEach(pairs, ([a, b], i) => {
      const requestId = requests[i]!.id;
      return [
        () => respondToFriendRequest(deps, viewer(b), { requestId, accept: true }),
        () => afterPeek(requestId, () => deleteContact(deps, viewer(a), { userId: b, notice: 'SILENT' })),
      ];
    });
    await Promise.all(
      pairs.map(async (p, i) => {
        const [accepted, deleted] = raced[i]!;
        expect(accepted.ok, p.join('/')).toBe(true);
        const views = await viewsOf(p);
        if (deleted.ok) {
          expect(views, p.join('/')).toEqual({ a: 'DELETED_BY_ME', b: 'FRIEND' });
        } else {
          expect(deleted.error.code).toBe('NOT_FRIENDS');
          expect(views).toEqual({ a: 'FRIEND', b: 'FRIEND' });
        }
        const c = await conversationOf(p);
        expect(c).toMatchObject({ mutualSince: null, purgeAt: null, purgedAt: null });
      }),
    );
  });
});

describe('T5 two sweepers at once', () => {
  it('purge each due conversation exactly once, with one notice each, and both finish', async () => {
    const pairs = await pairsOf('sweep', 250); // more than two batches of 100
    const ids = await mutuallyDeleted(pairs, 2);
    env.clock.advance(PAST_THE_BUFFER_S);
    const now = env.clock.now();
    // Every conversation due now, whichever test made it due (this file shares one database).
    const due = await db.select().from(conversations).where(sql`${conversations.purgeAt} <= ${now}`);
    const dueIds = due.map((c) => c.id);
    for (const id of ids.values()) expect(dueIds).toContain(id);
    const [before] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(messages)
      .where(inArray(messages.conversationId, dueIds));

    // A second instance: its own pool on the same database.
    const second = await startTestApp(await env.db.openAnother(), { clock: env.clock });
    try {
      const settled = await Promise.allSettled([runSweep(deps), runSweep(second.app.deps)]);
      const runs = settled.map((s) => {
        if (s.status === 'rejected') throw s.reason;
        return s.value;
      });
      expect(runs[0]!.purgedConversations + runs[1]!.purgedConversations).toBe(due.length);
      expect(runs[0]!.purgedMessages + runs[1]!.purgedMessages).toBe(before!.n);

      const purged = await purgeNotices(dueIds);
      for (const id of dueIds) expect(purged.get(id), id).toBe(1);
      const after = await db.select().from(conversations).where(inArray(conversations.id, dueIds));
      // R3: purged as of the instant it was due, not the instant the sweep ran.
      const dueAt = new Map(due.map((c) => [c.id, c.purgeAt]));
      for (const c of after)
        expect(c).toMatchObject({ purgeAt: null, purgedAt: dueAt.get(c.id), purgedBy: 'R3' });
      const [left] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(messages)
        .where(inArray(messages.conversationId, dueIds));
      expect(left!.n).toBe(0);

      // Idempotent: nothing is due any more.
      const again = await Promise.all([runSweep(deps), runSweep(second.app.deps)]);
      expect(again.map((r) => r.purgedConversations)).toEqual([0, 0]);
      expect(await purgeNotices(dueIds)).toEqual(purged);
    } finally {
      await second.stop();
    }
  });

  it('a re-add racing the sweepers purges the expired history exactly once', async () => {
    // R3: a re-add after purgeAt starts an empty conversation, whether the sweeper or the accept
    // got to the expired buffer first; either way one purge, one notice.
    const pairs = await pairsOf('sweep-readd', 150);
    await mutuallyDeleted(pairs, 1);
    const requests = await Promise.all(
      pairs.map(async ([a, b]) => value(await sendFriendRequest(deps, viewer(a), { userId: b })).request),
    );
    env.clock.advance(PAST_THE_BUFFER_S);
    const dueIds = (await Promise.all(pairs.map(conversationOf))).map((c) => c.id);

    const second = await startTestApp(await env.db.openAnother(), { clock: env.clock });
    try {
      const accepts = pairs.map(([, b], i) =>
        respondToFriendRequest(deps, viewer(b), { requestId: requests[i]!.id, accept: true }),
      );
      // The sweepers start once the first accept is through, so both kinds of purge happen.
      const sweeps = Promise.race(accepts).then(() =>
        Promise.all([runSweep(deps), runSweep(second.app.deps)]),
      );
      const settled = await Promise.allSettled([...accepts, sweeps]);
      for (const s of settled) expect(s.status).toBe('fulfilled');
      for (const r of await Promise.all(accepts)) value(r);
      // Every expired buffer was purged by a sweeper or by the accept that found it due, not both.
      const swept = (await sweeps).reduce((n, r) => n + r.purgedConversations, 0);
      expect(swept).toBeLessThanOrEqual(dueIds.length);

      const purged = await purgeNotices(dueIds);
      for (const id of dueIds) expect(purged.get(id), id).toBe(1);
      await Promise.all(
        pairs.map(async (p) => {
          expect(await viewsOf(p)).toEqual({ a: 'FRIEND', b: 'FRIEND' });
          const c = await conversationOf(p);
          expect(c).toMatchObject({ mutualSince: null, purgeAt: null, purgedAt: null });
          expect(await messageCount(c.id)).toBe(0);
        }),
      );
    } finally {
      await second.stop();
    }
  });
});

describe('R4 block and delete racing a message', () => {
  it('a message sent concurrently with block-and-delete is refused or purged, never kept', async () => {
    const pairs = await pairsOf('block-send', 100);
    const conversationIds = await Promise.all(pairs.map(befriend));
    await Promise.all(pairs.map((p, i) => say(p[0], conversationIds[i]!, 'before')));

    const raced = await Promise.all(
      pairs.map(([a, b], i) => {
        const conversationId = conversationIds[i]!;
        const block = () => blockContact(deps, viewer(a), { userId: b, deleteHistory: true });
        const fromPeer = () => sendMessage(deps, viewer(b), { conversationId, body: 'from the blocked one' });
        const fromBlocker = () => sendMessage(deps, viewer(a), { conversationId, body: 'from the blocker' });
        // Half the pairs start the block first, half the sends first.
        return i % 2 === 0
          ? Promise.all([block(), fromPeer(), fromBlocker()])
          : Promise.all([fromPeer(), fromBlocker(), block()]).then(([p, q, bl]) => [bl, p, q] as const);
      }),
    );

    const purged = await purgeNotices(conversationIds);
    await Promise.all(
      pairs.map(async (p, i) => {
        const [blocked, fromPeer, fromBlocker] = raced[i]!;
        const conversationId = conversationIds[i]!;
        expect(value(blocked).retention).toMatchObject({ state: 'PURGED', visibleMessages: 0 });
        // Refused with the codes of SPEC §1: the blocked peer cannot tell a block from a delete (R2).
        if (!fromPeer.ok) expect(fromPeer.error.code, p.join('/')).toBe('VERIFICATION_REQUIRED');
        if (!fromBlocker.ok) expect(fromBlocker.error.code, p.join('/')).toBe('FORBIDDEN');
        for (const sent of [fromPeer, fromBlocker]) {
          if (!sent.ok) continue;
          const [row] = await db.select().from(messages).where(eq(messages.id, sent.value.message.id));
          expect(row, `${p.join('/')}: a sent message survived block-and-delete`).toBeUndefined();
        }
        expect(await messageCount(conversationId)).toBe(0);
        expect(purged.get(conversationId)).toBe(1);
        const [notice] = await db
          .select({ payload: notices.payload, recipients: notices.recipientIds })
          .from(notices)
          .where(
            and(
              eq(notices.kind, 'ConversationPurged'),
              sql`${notices.payload}->>'conversationId' = ${conversationId}`,
            ),
          );
        // The purge counted the earlier message and every send that got in before it.
        const sentBefore = [fromPeer, fromBlocker].filter((s) => s.ok).length;
        expect(notice!.payload).toMatchObject({ reason: 'R4', purgedMessages: 1 + sentBefore });
        expect(notice!.recipients).toEqual([p[0]]);
      }),
    );
  });
});
