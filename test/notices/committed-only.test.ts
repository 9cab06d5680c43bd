import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import type { TestDatabase } from '../support/db.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { keyOf, publishTagged, TAGGED_FIELDS, type TaggedNotice } from '../support/notices.js';
import { collect } from '../support/server.js';

class Rollback extends Error {}

/** Runs `fn` in a transaction that is then rolled back. */
async function rolledBack(db: TestDatabase, fn: Parameters<TestDatabase['handle']['db']['transaction']>[0]) {
  await expect(
    db.handle.db.transaction(async (tx) => {
      await fn(tx);
      throw new Rollback('roll back');
    }),
  ).rejects.toBeInstanceOf(Rollback);
}

describe('N2: a notice exists iff the change that caused it committed', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv();
  });
  afterAll(() => env?.close());

  const list = async (token: string) => {
    const r = await env.server.http<{ notices: { edges: { node: TaggedNotice }[] } }>(
      `{ notices(first: 100) { edges { node { ${TAGGED_FIELDS} } } } }`,
      {},
      token,
    );
    expect(r.errors).toBeUndefined();
    return r.data!.notices.edges.map((e) => keyOf(e.node));
  };

  it('a transaction that publishes and then rolls back notifies no one; the next committed notice arrives', async () => {
    const token = await env.server.token('alice');
    const sub = collect<{ notices: TaggedNotice }>(
      env.server.ws(token),
      `subscription { notices { ${TAGGED_FIELDS} } }`,
    );
    await env.server.waitForStreams(1);

    await rolledBack(env.db, (tx) => publishTagged(tx, ['alice'], 'doomed', 1, env.server.clock.now()));
    await env.db.handle.db.transaction((tx) =>
      publishTagged(tx, ['alice'], 'kept', 1, env.server.clock.now()),
    );

    // The stream is ordered: the rolled-back notice (an older transaction) would have come first.
    const [first] = await sub.take(1);
    expect(first?.data?.notices && keyOf(first.data.notices)).toBe('kept:1');
    expect(await list(token)).toEqual(['kept:1']);
    const [{ n }] = (await rows<{ n: number }>(
      env.db.handle.db,
      sql`SELECT count(*)::int AS n FROM notices WHERE payload->>'conversationId' = 'doomed'`,
    )) as [{ n: number }];
    expect(n).toBe(0);
    sub.dispose();
  });

  it('a notice of a transaction still open is not delivered, and never is once it rolls back, while later commits flow', async () => {
    const token = await env.server.token('bob');
    const sub = collect<{ notices: TaggedNotice }>(
      env.server.ws(token),
      `subscription { notices { ${TAGGED_FIELDS} } }`,
    );
    await env.server.waitForStreams(1);

    // An open transaction has published; a later one commits before it ends, then it rolls back.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let published!: () => void;
    const didPublish = new Promise<void>((r) => {
      published = r;
    });
    const doomed = rolledBack(env.db, async (tx) => {
      await publishTagged(tx, ['bob'], 'doomed', 2, env.server.clock.now());
      published();
      await held;
    });
    await didPublish;
    await env.db.handle.db.transaction((tx) => publishTagged(tx, ['bob'], 'kept', 2, env.server.clock.now()));
    release();
    await doomed;
    await env.db.handle.db.transaction((tx) => publishTagged(tx, ['bob'], 'kept', 3, env.server.clock.now()));

    const got = await sub.take(2);
    expect(got.map((r) => keyOf(r.data!.notices))).toEqual(['kept:2', 'kept:3']);
    expect(await list(token)).toEqual(['kept:2', 'kept:3']);
    sub.dispose();
  });
});
