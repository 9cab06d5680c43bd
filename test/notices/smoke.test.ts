import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../../src/notices/notices.outbox.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { collect, startTestApp, type TestApp } from '../support/server.js';

describe('smoke', () => {
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

  it('answers me over HTTP and delivers a published notice over WS', async () => {
    const token = await t.token('alice');
    const r = await t.http<{ me: { id: string } }>('{ me { id } }', {}, token);
    expect(r.data?.me.id).toBe('alice');
    const sub = collect(
      t.ws(token),
      'subscription { notices { cursor __typename ... on ContactRemovedYou { byUserId } } }',
    );
    await t.waitForStreams(1);
    await db.handle.db.transaction((tx) =>
      publish(
        tx,
        [{ recipientIds: ['alice'], kind: 'ContactRemovedYou', payload: { byUserId: 'bob' } }],
        new Date(),
      ),
    );
    const [first] = await sub.take(1);
    expect(first?.data).toMatchObject({ notices: { __typename: 'ContactRemovedYou', byUserId: 'bob' } });
  });
});
