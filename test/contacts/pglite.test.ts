// The embedded database (PGlite, what `npm start` runs on) goes through the same SPEC §1 lifecycle:
// same migrations, same SQL (prepared statements included), same answers as on Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startTestApp, type TestApp } from '../support/server.js';
import { type Api, apiClient, storedMessages } from './client.js';

const DAY_S = 24 * 60 * 60;

describe('SPEC §1 on the embedded database (PGlite)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let clock: ManualClock;
  let api: Api;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    clock = new ManualClock('2026-01-01T00:00:00.000Z');
    t = await startTestApp(db.handle, { clock });
    api = apiClient(t, db);
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('befriend, one-way delete (R2), mutual delete (R3), restore, purge by the sweep, re-add empty, block and delete (R4)', async () => {
    const id = await api.befriend('pa', 'pb');
    await api.say('pa', id, 'one', 'two');
    expect(await api.retention('pa', id)).toMatchObject({
      state: 'ACTIVE',
      visibleMessages: 2,
      reason: 'T1',
    });

    await api.deleteContact('pa', 'pb');
    expect(await api.contact('pb', 'pa')).toMatchObject({ state: 'FRIEND' });
    expect((await api.sendMessage('pb', id, 'hello?')).userErrors[0]?.code).toBe('VERIFICATION_REQUIRED');

    await api.deleteContact('pb', 'pa');
    const buffered = await api.retention('pb', id);
    expect(buffered).toMatchObject({ state: 'BUFFERED', reason: 'R3', restorable: true, visibleMessages: 2 });

    clock.advance(29 * DAY_S);
    expect(await api.befriend('pa', 'pb')).toBe(id);
    expect(await api.bodies('pb', id)).toEqual(['two', 'one']);

    await api.deleteContact('pa', 'pb');
    await api.deleteContact('pb', 'pa');
    clock.advance(30 * DAY_S);
    expect((await api.sweep()).run).toMatchObject({ purgedConversations: 1, purgedMessages: 2 });
    expect(await storedMessages(db, id)).toBe(0);
    expect(await api.retention('pa', id)).toMatchObject({
      state: 'PURGED',
      reason: 'R3',
      visibleMessages: 0,
    });

    expect(await api.befriend('pb', 'pa')).toBe(id);
    expect(await api.bodies('pa', id)).toEqual([]);
    await api.say('pb', id, 'fresh start');
    const blocked = await api.blockContact('pa', 'pb', true);
    expect(blocked.retention).toMatchObject({ state: 'PURGED', reason: 'R4', restorable: false });
    expect(await storedMessages(db, id)).toBe(0);
  });
});
