import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import {
  eventually,
  explainStall,
  keyOf,
  publishRange,
  publishTagged,
  settleNotices,
  strictlyIncreasing,
  TAGGED_FIELDS,
  type TaggedNotice,
} from '../support/notices.js';
import { collect } from '../support/server.js';

const WRITERS = 20;
const PER_WRITER = 50;
const TOTAL = WRITERS * PER_WRITER;
const SUBSCRIPTION = `subscription ($after: String) { notices(after: $after) { ${TAGGED_FIELDS} } }`;

// Needs many connections at once (20 concurrent writers): Postgres only, never PGlite.
describe('N1: exactly the committed notices, in cursor order, under concurrent writers and a resuming reader', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv();
  });
  afterAll(() => env?.close());

  /** One writer: 50 transactions in turn, each publishing one notice; some wait a few ms before COMMIT. */
  const writer = async (w: number) => {
    for (let seq = 0; seq < PER_WRITER; seq++) {
      await env.db.handle.db.transaction(async (tx) => {
        await publishTagged(tx, ['alice'], `w${w}`, seq, env.server.clock.now());
        // Commit later than transactions that started after this one: ids stop following commit order.
        if (Math.random() < 0.4) await tx.execute(sql`SELECT pg_sleep(${Math.random() * 0.008})`);
      });
    }
  };

  it('20 concurrent writers × 50 notices reach a subscriber that drops and resumes twice: 1,000 notices, no gap, no duplicate', async () => {
    const token = await env.server.token('alice');
    const received: TaggedNotice[] = [];

    const open = (after: string | null) => {
      const client = env.server.ws(token);
      // Delivery waits for every older transaction on the server, other test databases' too: be patient.
      const sub = collect<{ notices: TaggedNotice }>(client, SUBSCRIPTION, { after }, { timeoutMs: 120_000 });
      return { client, sub };
    };
    /** Takes until `total` notices were received in all, then drops the socket (or unsubscribes). */
    const takeUntil = async (s: ReturnType<typeof open>, total: number, drop: boolean) => {
      await s.sub.take(total - received.length).catch(async (err: Error) => {
        throw new Error(
          `${err.message} (had ${received.length + s.sub.results.length}): ${await explainStall(env.db.handle.db)}`,
        );
      });
      if (drop) s.client.terminate();
      // Whatever arrived before the drop counts; anything after it is replayed by the next session.
      for (const r of s.sub.results.slice()) {
        expect(r.errors).toBeUndefined();
        received.push(r.data!.notices);
      }
      if (drop)
        await eventually(() => env.server.app.deps.bus.streamCount === 0, 'the dropped stream to end');
      else s.sub.dispose();
    };
    const last = () => received.at(-1)!.cursor;

    // Live from the start: registered before the writers begin.
    const first = open(null);
    await env.server.waitForStreams(1);
    const writers = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    await takeUntil(first, 250, true);
    await takeUntil(open(last()), 600, true);
    await writers;
    // A sentinel committed after every writer: once it arrives, nothing else can still come before it.
    await env.db.handle.db.transaction((tx) =>
      publishTagged(tx, ['alice'], 'sentinel', 0, env.server.clock.now()),
    );
    await takeUntil(open(last()), TOTAL + 1, false);

    const keys = received.map(keyOf);
    expect(keys.at(-1)).toBe('sentinel:0');
    expect(received).toHaveLength(TOTAL + 1);
    expect(new Set(keys).size).toBe(TOTAL + 1);
    expect(strictlyIncreasing(received.map((n) => n.cursor))).toBe(true);
    // Each writer's notices arrive in its commit order (its transactions ran one after another).
    for (let w = 0; w < WRITERS; w++) {
      const seqs = received.filter((n) => n.conversationId === `w${w}`).map((n) => n.purgedMessages);
      expect(seqs).toEqual(Array.from({ length: PER_WRITER }, (_, i) => i));
    }

    // The pull form agrees, page by page: same notices, same order.
    const pulled: TaggedNotice[] = [];
    let after: string | null = null;
    for (;;) {
      const r: Awaited<ReturnType<typeof env.server.http<PullPage>>> = await env.server.http<PullPage>(
        PULL,
        { after },
        token,
      );
      expect(r.errors).toBeUndefined();
      const page: PullPage['notices'] = r.data!.notices;
      pulled.push(...page.edges.map((e) => e.node));
      after = page.pageInfo.endCursor;
      if (!page.pageInfo.hasNextPage) break;
    }
    expect(pulled.map(keyOf)).toEqual(keys);
  }, 300_000);

  it('a reader polling the pull form while writers commit never skips a notice', async () => {
    // The pull form's endCursor, even on an empty page, never jumps past a notice that commits later.
    const token = await env.server.token('bob');
    const writers = Promise.all(
      Array.from({ length: 5 }, (_, w) =>
        publishRange(env.db.handle.db, 'bob', `p${w}`, 0, 40, () => env.server.clock.now()),
      ),
    );
    const seen: TaggedNotice[] = [];
    let after: string | null = null;
    let done = false;
    void writers.then(() => {
      done = true;
    });
    for (;;) {
      const finished = done;
      if (finished) await settleNotices(env.db.handle.db);
      const r: Awaited<ReturnType<typeof env.server.http<PullPage>>> = await env.server.http<PullPage>(
        PULL,
        { after },
        token,
      );
      expect(r.errors).toBeUndefined();
      seen.push(...r.data!.notices.edges.map((e) => e.node));
      after = r.data!.notices.pageInfo.endCursor;
      if (finished && !r.data!.notices.pageInfo.hasNextPage) break;
    }
    expect(seen).toHaveLength(200);
    expect(new Set(seen.map(keyOf)).size).toBe(200);
    expect(strictlyIncreasing(seen.map((n) => n.cursor))).toBe(true);
  });
});

interface PullPage {
  notices: { edges: { node: TaggedNotice }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
}
const PULL = `query ($after: String) { notices(after: $after, first: 100) {
  edges { node { ${TAGGED_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
