import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { signalOnCommit } from '../../src/db/commit-signal.js';
import { DEFAULT_MAX_QUEUE, NoticeBus } from '../../src/notices/notices.bus.js';
import { publish } from '../../src/notices/notices.outbox.js';
import type { StoredNotice } from '../../src/notices/notices.store.js';
import { NOTICE_CHANNEL } from '../../src/notices/notices.store.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/db.js';
import { eventually, publishTagged } from '../support/notices.js';

const HOUR = 60 * 60_000;
const now = () => systemClock.now();

/** A raw LISTEN connection that records every payload sent on the notice channel, in commit order. */
async function eavesdrop(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const payloads: string[] = [];
  c.on('notification', (m) => payloads.push(m.payload ?? ''));
  await c.query(`LISTEN ${NOTICE_CHANNEL}`);
  let marks = 0;
  return {
    payloads,
    /**
     * Everything notified before this call has arrived once its own marker arrives (NOTIFYs are
     * delivered in commit order); returns the payloads before the marker, markers left out.
     */
    async settle(): Promise<string[]> {
      const mark = `marker-${++marks}`;
      await c.query(`NOTIFY ${NOTICE_CHANNEL}, '${mark}'`);
      await eventually(() => payloads.includes(mark), 'the marker NOTIFY');
      return payloads.filter((p) => !p.startsWith('marker-'));
    },
    close: () => c.end(),
  };
}

/** Collects what a bus's stream for `userId` delivers, as `tag:seq`. */
async function follow(bus: NoticeBus, userId: string) {
  const stream = await bus.open(userId, null);
  const got: string[] = [];
  const loop = (async () => {
    for await (const n of stream as AsyncIterable<StoredNotice>) {
      const p = n.payload as { conversationId: string; purgedMessages: number };
      got.push(`${p.conversationId}:${p.purgedMessages}`);
    }
  })();
  return {
    got,
    async stop() {
      await stream.return();
      await loop;
    },
  };
}

// Issue 12: the wake-up leaves the commit. Two instances need two connections: Postgres only (the
// PGlite side of the change — listeners woken directly — is covered by the PGlite notice tests).
describe('N4: wake-ups are sent after COMMIT, coalesced, and never lost', () => {
  let db: TestDatabase;
  const opened: DatabaseHandle[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('pg');
  });
  afterAll(async () => {
    for (const h of opened) await h.close().catch(() => {});
    await db?.drop();
  });

  /** An instance whose wake-up window is `coalesceMs`. */
  const instance = async (coalesceMs: number) => {
    const h = await openDatabase({
      databaseUrl: db.url,
      dataDir: 'memory://',
      logger: silentLogger,
      coalesceMs,
    });
    opened.push(h);
    return h;
  };
  /** A bus whose safety poll is out of reach unless given: only wake-ups deliver. */
  const busOn = async (h: DatabaseHandle, safetyPollMs = 10 * 60_000) => {
    const bus = new NoticeBus(h, silentLogger, DEFAULT_MAX_QUEUE, safetyPollMs);
    await bus.start();
    return bus;
  };

  it('30 commits send one NOTIFY at once and one for the rest at the end of the window; a rollback sends none; the other instance gets all 30', async () => {
    const ear = await eavesdrop(db.url!);
    const writer = await instance(HOUR);
    const reader = await instance(HOUR);
    const bus = await busOn(reader);
    const sub = await follow(bus, 'ann');
    try {
      await expect(
        writer.db.transaction(async (tx) => {
          await publishTagged(tx, ['ann'], 'rolled-back', 1, now());
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await ear.settle()).toEqual([]);

      for (let seq = 1; seq <= 30; seq++)
        await writer.db.transaction((tx) => publishTagged(tx, ['ann'], 'w', seq, now()));
      // One NOTIFY for 30 commits, sent after the first one, carrying the writer's tag.
      expect(await ear.settle()).toEqual([writer.signals.tag]);
      await eventually(() => sub.got.includes('w:1'), 'the first notice on the other instance');

      // Stopping the writer sends what its window still held: the rest arrive, in order, once each.
      await writer.close();
      expect(await ear.settle()).toEqual([writer.signals.tag, writer.signals.tag]);
      await eventually(() => sub.got.length >= 30, 'all 30 notices on the other instance');
      expect(sub.got).toEqual(Array.from({ length: 30 }, (_, i) => `w:${i + 1}`));
    } finally {
      await sub.stop();
      await bus.stop();
      await ear.close();
    }
  });

  it("the writing instance's own subscribers are woken directly, not by its NOTIFY", async () => {
    const h = await instance(HOUR); // after the first commit its NOTIFYs wait an hour
    const bus = await busOn(h);
    const sub = await follow(bus, 'bea');
    try {
      for (let seq = 1; seq <= 5; seq++) {
        await h.db.transaction((tx) => publishTagged(tx, ['bea'], 'own', seq, now()));
        await eventually(() => sub.got.length === seq, `own notice ${seq}`);
      }
      expect(sub.got).toEqual(['own:1', 'own:2', 'own:3', 'own:4', 'own:5']);
    } finally {
      await sub.stop();
      await bus.stop();
    }
  });

  it('a notice whose wake-up was lost (the writer died between COMMIT and NOTIFY) arrives by the safety poll', async () => {
    const bus = await busOn(await instance(5), 200);
    const sub = await follow(bus, 'cat');
    const crashed = new pg.Client({ connectionString: db.url! });
    await crashed.connect();
    try {
      await crashed.query(
        `INSERT INTO notices (recipient_ids, kind, payload, at)
         VALUES (ARRAY['cat'], 'ConversationPurged', '{"conversationId":"lost","reason":"test","purgedMessages":1}', now())`,
      );
      await eventually(() => sub.got.length === 1, 'the notice by the safety poll', 10_000);
      expect(sub.got).toEqual(['lost:1']);
    } finally {
      await crashed.end();
      await sub.stop();
      await bus.stop();
    }
  });

  it('a notice written outside a transaction notifies in its own statement', async () => {
    const ear = await eavesdrop(db.url!);
    const h = await instance(HOUR);
    try {
      await ear.settle();
      const before = ear.payloads.filter((p) => !p.startsWith('marker-')).length;
      await publish(
        h.db,
        [
          {
            recipientIds: ['dan'],
            kind: 'ConversationPurged',
            payload: { conversationId: 'auto', reason: 'test', purgedMessages: 1 },
          },
        ],
        now(),
      );
      expect((await ear.settle()).slice(before)).toEqual(['']);
    } finally {
      await ear.close();
    }
  });

  it('with no stream open an instance does not poll; a stream opened later starts from then, a cursor replays what came before', async () => {
    const h = await instance(5);
    const bus = await busOn(h);
    try {
      const before = bus.polls;
      for (let seq = 1; seq <= 5; seq++)
        await h.db.transaction((tx) => publishTagged(tx, ['eve'], 'early', seq, now()));
      expect(bus.polls).toBe(before); // woken five times, polled never: nobody to hand a notice to
      const live = await follow(bus, 'eve');
      const replay = await bus.open('eve', { xid: 0n, id: 0n });
      const replayed: string[] = [];
      const loop = (async () => {
        for await (const n of replay as AsyncIterable<StoredNotice>) {
          const p = n.payload as { conversationId: string; purgedMessages: number };
          replayed.push(`${p.conversationId}:${p.purgedMessages}`);
        }
      })();
      await h.db.transaction((tx) => publishTagged(tx, ['eve'], 'late', 1, now()));
      await eventually(() => live.got.length >= 1 && replayed.length >= 6, 'the late notice on both streams');
      expect(live.got).toEqual(['late:1']);
      expect(replayed).toEqual(['early:1', 'early:2', 'early:3', 'early:4', 'early:5', 'late:1']);
      await live.stop();
      await replay.return();
      await loop;
    } finally {
      await bus.stop();
    }
  });

  it('work that outlives its transaction (a timer started inside it) cannot attach a signal to it after COMMIT', async () => {
    const h = await instance(5);
    let late: Promise<boolean> | undefined;
    let inside = false;
    await h.db.transaction(async () => {
      inside = signalOnCommit('some_channel');
      late = new Promise((resolve) => setTimeout(() => resolve(signalOnCommit('some_channel')), 20));
    });
    expect(inside).toBe(true);
    expect(await late).toBe(false); // so the caller notifies itself
    expect(signalOnCommit('some_channel')).toBe(false);
  });
});
