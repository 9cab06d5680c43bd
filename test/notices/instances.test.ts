import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { keyOf, publishTagged, TAGGED_FIELDS, type TaggedNotice } from '../support/notices.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

// Two instances need two connections to one database: Postgres only (PGlite is one in-process connection).
describe('N4: a change committed through one instance reaches subscribers of any instance', () => {
  let db: TestDatabase;
  let second: DatabaseHandle;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('pg');
    second = await db.openAnother();
    a = await startTestApp(db.handle);
    b = await startTestApp(second);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop(); // closes both handles
  });

  const SUB = `subscription ($after: String) { notices(after: $after) { ${TAGGED_FIELDS} } }`;

  it('a notice committed through instance A reaches a subscriber connected to instance B', async () => {
    const onB = collect<{ notices: TaggedNotice }>(b.ws(await b.token('alice')), SUB);
    await b.waitForStreams(1);
    await db.handle.db.transaction((tx) => publishTagged(tx, ['alice'], 'from-a', 1, a.clock.now()));
    const [r] = await onB.take(1);
    expect(r?.errors).toBeUndefined();
    expect(keyOf(r!.data!.notices)).toBe('from-a:1');
    onB.dispose();
  });

  it('subscribers of the same user on both instances each receive every notice once, whichever instance wrote it', async () => {
    const token = await a.token('bob');
    const onA = collect<{ notices: TaggedNotice }>(a.ws(token), SUB);
    const onB = collect<{ notices: TaggedNotice }>(b.ws(token), SUB);
    await a.waitForStreams(1);
    await b.waitForStreams(1);
    for (let i = 0; i < 5; i++) {
      const via = i % 2 === 0 ? db.handle : second;
      await via.db.transaction((tx) => publishTagged(tx, ['bob'], 'both', i, a.clock.now()));
    }
    const expected = ['both:0', 'both:1', 'both:2', 'both:3', 'both:4'];
    expect((await onA.take(5)).map((r) => keyOf(r.data!.notices))).toEqual(expected);
    expect((await onB.take(5)).map((r) => keyOf(r.data!.notices))).toEqual(expected);
    // The same notice has the same cursor on every instance: a client may resume anywhere.
    expect(onA.results.map((r) => r.data!.notices.cursor)).toEqual(
      onB.results.map((r) => r.data!.notices.cursor),
    );
    onA.dispose();
    onB.dispose();
  });

  it('a subscriber resumes on instance B from a cursor it received from instance A', async () => {
    const token = await a.token('carol');
    const onA = collect<{ notices: TaggedNotice }>(a.ws(token), SUB);
    await a.waitForStreams(1);
    for (let i = 0; i < 3; i++)
      await db.handle.db.transaction((tx) => publishTagged(tx, ['carol'], 'move', i, a.clock.now()));
    const got = await onA.take(3);
    onA.dispose();
    for (let i = 3; i < 5; i++)
      await second.db.transaction((tx) => publishTagged(tx, ['carol'], 'move', i, b.clock.now()));
    const onB = collect<{ notices: TaggedNotice }>(b.ws(token), SUB, { after: got[1]!.data!.notices.cursor });
    expect((await onB.take(3)).map((r) => keyOf(r.data!.notices))).toEqual(['move:2', 'move:3', 'move:4']);
    onB.dispose();
  });
});
