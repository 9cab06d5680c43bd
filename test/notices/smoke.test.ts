import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../../src/notices/notices.outbox.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { collect } from '../support/server.js';

describe('smoke', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv();
  });
  afterAll(() => env?.close());

  it('answers me over HTTP and delivers a published notice over WS', async () => {
    const token = await env.server.token('alice');
    const r = await env.server.http<{ me: { id: string } }>('{ me { id } }', {}, token);
    expect(r.data?.me.id).toBe('alice');
    const sub = collect(
      env.server.ws(token),
      'subscription { notices { cursor __typename ... on ContactRemovedYou { byUserId } } }',
    );
    await env.server.waitForStreams(1);
    await env.db.handle.db.transaction((tx) =>
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
