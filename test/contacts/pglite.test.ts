// The embedded database (PGlite, what `npm start` runs on) goes through the same SPEC §1 lifecycle:
// same migrations, same SQL (prepared statements included), same answers as on Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedMessages } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';

const DAY_S = 24 * 60 * 60;

describe('SPEC §1 on the embedded database (PGlite)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv({ driver: 'pglite' });
  });
  afterAll(() => env?.close());

  it('befriend, one-way delete (R2), mutual delete (R3), restore, purge by the sweep, re-add empty, block and delete (R4)', async () => {
    const id = await env.api.befriend('pa', 'pb');
    await env.api.say('pa', id, 'one', 'two');
    expect(await env.api.retention('pa', id)).toMatchObject({
      state: 'ACTIVE',
      visibleMessages: 2,
      reason: 'T1',
    });

    await env.api.deleteContact('pa', 'pb');
    expect(await env.api.contact('pb', 'pa')).toMatchObject({ state: 'FRIEND' });
    expect((await env.api.sendMessage('pb', id, 'hello?')).userErrors[0]?.code).toBe('VERIFICATION_REQUIRED');

    await env.api.deleteContact('pb', 'pa');
    const buffered = await env.api.retention('pb', id);
    expect(buffered).toMatchObject({ state: 'BUFFERED', reason: 'R3', restorable: true, visibleMessages: 2 });

    env.clock.advance(29 * DAY_S);
    expect(await env.api.befriend('pa', 'pb')).toBe(id);
    expect(await env.api.bodies('pb', id)).toEqual(['two', 'one']);

    await env.api.deleteContact('pa', 'pb');
    await env.api.deleteContact('pb', 'pa');
    env.clock.advance(30 * DAY_S);
    expect((await env.api.sweep()).run).toMatchObject({ purgedConversations: 1, purgedMessages: 2 });
    expect(await storedMessages(env.db, id)).toBe(0);
    expect(await env.api.retention('pa', id)).toMatchObject({
      state: 'PURGED',
      reason: 'R3',
      visibleMessages: 0,
    });

    expect(await env.api.befriend('pb', 'pa')).toBe(id);
    expect(await env.api.bodies('pa', id)).toEqual([]);
    await env.api.say('pb', id, 'fresh start');
    const blocked = await env.api.blockContact('pa', 'pb', true);
    expect(blocked.retention).toMatchObject({ state: 'PURGED', reason: 'R4', restorable: false });
    expect(await storedMessages(env.db, id)).toBe(0);
  });
});
