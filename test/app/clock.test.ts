import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, OffsetClock } from '../../src/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startTestApp, type TestApp } from '../support/server.js';

const ADVANCE = `mutation ($seconds: Int!) {
  advanceClock(input: { seconds: $seconds }) { now userErrors { code field } } }`;
type Advance = {
  advanceClock: { now: string | null; userErrors: { code: string; field: string[] | null }[] };
};
const HOUR_S = 3600;

describe('Time: advanceClock (API.md, TIME_TRAVEL=1 only)', () => {
  let db: TestDatabase;
  let off: TestApp;
  let on: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('pg');
    off = await startTestApp(db.handle, { clock: new ManualClock('2026-01-01T00:00:00Z') });
    on = await startTestApp(db.handle, { clock: new OffsetClock(), config: { timeTravel: true } });
  });
  afterAll(async () => {
    await off?.stop();
    await on?.stop();
    await db?.drop();
  });

  const now = async (t: TestApp) => {
    const r = await t.http<{ now: string }>('{ now }');
    expect(r.errors).toBeUndefined();
    return new Date(r.data!.now).getTime();
  };

  it('is refused with FORBIDDEN, even for an operator, when time travel is off; the clock does not move', async () => {
    const before = await now(off);
    const r = await off.http<Advance>(
      ADVANCE,
      { seconds: HOUR_S },
      await off.token('olga', { operator: true }),
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.advanceClock).toEqual({ now: null, userErrors: [{ code: 'FORBIDDEN', field: null }] });
    expect(await now(off)).toBe(before); // a ManualClock: only advanceClock could move it
  });

  it('is refused with FORBIDDEN for a non-operator when time travel is on', async () => {
    const r = await on.http<Advance>(ADVANCE, { seconds: HOUR_S }, await on.token('alice'));
    expect(r.data?.advanceClock).toEqual({ now: null, userErrors: [{ code: 'FORBIDDEN', field: null }] });
  });

  it('advanceClock without a token is refused with UNAUTHENTICATED', async () => {
    const r = await on.http<Advance>(ADVANCE, { seconds: HOUR_S });
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('moves the clock for an operator when time travel is on, and Query.now moves with it', async () => {
    const operator = await on.token('olga', { operator: true });
    const before = await now(on);
    const r = await on.http<Advance>(ADVANCE, { seconds: 30 * 24 * HOUR_S }, operator);
    expect(r.data?.advanceClock.userErrors).toEqual([]);
    const moved = new Date(r.data!.advanceClock.now!).getTime();
    expect(moved - before).toBeGreaterThanOrEqual(30 * 24 * HOUR_S * 1000);
    const after = await now(on);
    expect(after).toBeGreaterThanOrEqual(moved);
    expect(after - before).toBeGreaterThanOrEqual(30 * 24 * HOUR_S * 1000);
    // The other instance keeps its own time (the offset lives in one process).
    expect(await now(off)).toBe(new Date('2026-01-01T00:00:00Z').getTime());
  });

  it('refuses a move out of range with BAD_USER_INPUT naming the field, without moving', async () => {
    // A manual clock with time travel on: only advanceClock could move it, so "not moved" is exact.
    const manual = await startTestApp(db.handle, { clock: new ManualClock(), config: { timeTravel: true } });
    try {
      const operator = await manual.token('olga', { operator: true });
      const before = await now(manual);
      for (const seconds of [0, -5, 11 * 365 * 24 * HOUR_S]) {
        const r = await manual.http<Advance>(ADVANCE, { seconds }, operator);
        expect(r.data?.advanceClock).toEqual({
          now: null,
          userErrors: [{ code: 'BAD_USER_INPUT', field: ['input', 'seconds'] }],
        });
      }
      expect(await now(manual)).toBe(before);
      const ok = await manual.http<Advance>(ADVANCE, { seconds: 60 }, operator);
      expect(new Date(ok.data!.advanceClock.now!).getTime()).toBe(before + 60_000);
    } finally {
      await manual.stop();
    }
  });
});
