// G11 appendAudit on Postgres: inside the caller's transaction, serialized per chain by its head
// row, never making unrelated chains wait. Needs several connections (real Postgres).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewAuditEntry } from '../../src/audit/audit.chain.js';
import { appendAudit } from '../../src/audit/audit.service.js';
import { chainSubjects } from '../../src/audit/audit.store.js';
import { rows } from '../../src/db/client.js';
import { names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { untilWaitingOnLock } from '../support/notices.js';
import { auditClient } from './trail.js';

let env: TestEnv;
let audit: ReturnType<typeof auditClient>;
beforeAll(async () => {
  env = await openTestEnv();
  audit = auditClient(env);
});
afterAll(() => env?.close());

const OPERATOR = { operator: 'audit-service-staff' };

const step = (subjectId: string, n: number): NewAuditEntry => ({
  subjectId,
  subjectKind: 'GROUP',
  kind: 'DISSOLUTION_REQUESTED',
  actorId: null,
  data: { n },
  at: env.clock.now(),
});

const db = () => env.db.handle.db;

async function newGroup(label: string): Promise<string> {
  const [o] = names(`svc-${label}`, 'o');
  return (await env.groups.make(o, [])).id;
}

/** The head row as stored, or null. */
async function headOf(subjectId: string) {
  const [h] = await rows<{ length: number; hash: string }>(
    db(),
    sql`SELECT length, hash FROM audit_heads WHERE subject_id = ${subjectId}`,
  );
  return h ?? null;
}

describe('G11 appendAudit writes in the caller’s transaction', () => {
  it('returns the entry it stored: seq 1 from 64 zeros, then linked; the head follows', async () => {
    const id = await newGroup('basic');
    const first = await db().transaction((tx) => appendAudit(tx, step(id, 1)));
    const second = await db().transaction((tx) => appendAudit(tx, step(id, 2)));
    expect(first).toMatchObject({ subjectId: id, subjectKind: 'GROUP', seq: 1, prevHash: '0'.repeat(64) });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, data: { n: 2 } });
    expect(await headOf(id)).toEqual({ length: 2, hash: second.hash });
  });

  it('a rolled-back step leaves no entry and the head as it was', async () => {
    const id = await newGroup('rollback');
    const kept = await db().transaction((tx) => appendAudit(tx, step(id, 1)));
    await expect(
      db().transaction(async (tx) => {
        await appendAudit(tx, step(id, 2));
        throw new Error('the step failed');
      }),
    ).rejects.toThrow('the step failed');
    expect(await headOf(id)).toEqual({ length: 1, hash: kept.hash });
    expect((await db().transaction((tx) => appendAudit(tx, step(id, 3)))).seq).toBe(2);
  });

  it('refuses to run outside a transaction, and refuses malformed entries, writing nothing', async () => {
    const id = await newGroup('refuse');
    await expect(appendAudit(db(), step(id, 1))).rejects.toThrow(TypeError);
    const bad: NewAuditEntry[] = [
      { ...step(id, 1), subjectId: 'not-a-uuid' },
      { ...step(id, 1), actorId: '' },
      { ...step(id, 1), kind: 'requested' },
      { ...step(id, 1), data: { amount: 12.5 } },
      { ...step(id, 1), at: new Date(Number.NaN) },
    ];
    for (const e of bad)
      await expect(db().transaction((tx) => appendAudit(tx, e))).rejects.toThrow(TypeError);
    expect(await headOf(id)).toBeNull();
  });

  it('refuses a step of another subject kind on an existing chain', async () => {
    const id = await newGroup('kind');
    await db().transaction((tx) => appendAudit(tx, step(id, 1)));
    await expect(
      db().transaction((tx) => appendAudit(tx, { ...step(id, 2), subjectKind: 'LEGAL_HOLD' })),
    ).rejects.toThrow(/GROUP chain/);
    expect((await headOf(id))?.length).toBe(1);
  });
});

describe('G11 appends are serialized per chain, and only per chain', () => {
  it('20 appends at once to a new chain give seq 1..20 and a chain that verifies', async () => {
    const id = await newGroup('twenty');
    const entries = await Promise.all(
      Array.from({ length: 20 }, (_, i) => db().transaction((tx) => appendAudit(tx, step(id, i)))),
    );
    expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(await audit.verify(OPERATOR, id)).toEqual({ ok: true, chains: 1, entries: 20, firstBroken: null });
    expect((await audit.trail(OPERATOR, id, 7)).map((e) => e.seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('while one chain’s head is locked, its next append waits and another chain’s completes', async () => {
    const held = await newGroup('held');
    const free = await newGroup('free');
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = db().transaction(async (tx) => {
      await appendAudit(tx, step(held, 1));
      locked();
      await released;
    });
    await isLocked;

    let waiterDone = false;
    const waiter = db()
      .transaction((tx) => appendAudit(tx, step(held, 2)))
      .finally(() => {
        waiterDone = true;
      });
    await untilWaitingOnLock(env.db.url!, 1, '%audit_heads%');

    const other = await db().transaction((tx) => appendAudit(tx, step(free, 1)));
    expect(other.seq).toBe(1);
    expect(waiterDone).toBe(false);

    release();
    await holder;
    expect((await waiter).seq).toBe(2);
    expect(await audit.verify(OPERATOR, held)).toMatchObject({ ok: true, entries: 2 });
  });
});

describe('G11 the chains a verification walks', () => {
  it('every chain for an operator, page by page in id order, a chain without its head included', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await newGroup(`list-${i}`);
      await db().transaction((tx) => appendAudit(tx, step(id, 1)));
      ids.push(id);
    }
    await db().execute(sql`DELETE FROM audit_heads WHERE subject_id = ${ids[2]}`);
    const listed: string[] = [];
    for (let after: string | null = null; ; ) {
      const page = await chainSubjects(db(), { all: true }, after, 2);
      listed.push(...page);
      if (page.length < 2) break;
      after = page.at(-1)!;
    }
    const [all] = await rows<{ ids: string[] }>(
      db(),
      sql`SELECT array_agg(DISTINCT subject_id::text ORDER BY subject_id::text) AS ids FROM audit_entries`,
    );
    expect(listed).toEqual([...listed].sort());
    expect(listed).toEqual(all!.ids);
    expect(listed).toEqual(expect.arrayContaining(ids));
  });

  it("a member's: the groups they are in that have a chain", async () => {
    const [o, a] = names('svc-member-list', 'o', 'a');
    const withChain = (await env.groups.make(o, [a])).id;
    await env.groups.make(o, [a]); // no chain
    const notTheirs = (await env.groups.make(o, [])).id;
    for (const id of [withChain, notTheirs]) await db().transaction((tx) => appendAudit(tx, step(id, 1)));
    expect(await chainSubjects(db(), { all: false, memberId: a }, null, 10)).toEqual([withChain]);
    expect(await chainSubjects(db(), { all: false, memberId: a }, withChain, 10)).toEqual([]);
  });
});
