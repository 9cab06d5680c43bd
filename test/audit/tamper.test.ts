// G11 tamper evidence: whatever someone with SQL access changes in a chain, verifyAuditChain names
// the first broken entry — except a truncation or rewrite that also rewinds the head, which only a
// signed head saved earlier shows (checked here as a verifier would, and end to end in
// offline.test.ts).
import { type SQL, sql } from 'drizzle-orm';
import { importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditData, type ChainEntry, linkEntry, verifyChain } from '../../src/audit/audit.chain.js';
import { rows } from '../../src/db/client.js';
import { names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { appendSteps, auditClient, breakAt, type ServedEntry, type SignedHead } from './trail.js';

let env: TestEnv;
let audit: ReturnType<typeof auditClient>;
beforeAll(async () => {
  env = await openTestEnv();
  audit = auditClient(env);
});
afterAll(() => env?.close());

const OPERATOR = { operator: 'audit-tamper-staff' };
/** Chains this file breaks, for the last test. */
const brokenChains: string[] = [];

/** A group with a member and a valid chain of five entries; returns the group id and a member. */
async function chainOfFive(label: string): Promise<{ id: string; member: string }> {
  const [o, a] = names(`tamper-${label}`, 'o', 'a');
  const g = await env.groups.make(o, [a]);
  await appendSteps(env, g.id, o, 5);
  expect(breakAt(await audit.verify(a, g.id))).toBe('ok');
  return { id: g.id, member: a };
}

/** Runs raw SQL against the chain's rows: `$id` is the subject. */
const tamper = (query: SQL) => env.db.handle.db.execute(query);

/** The first break the server reports for the member, as `CODE@seq`; the chain is recorded as broken. */
async function reported(chain: { id: string; member: string }): Promise<string> {
  const v = await audit.verify(chain.member, chain.id);
  if (!v.ok) {
    brokenChains.push(chain.id);
    expect(v.firstBroken!.subjectId).toBe(chain.id);
    expect(v.firstBroken!.reason).toMatch(/^[A-Z_]+: ./);
  }
  expect(await audit.verify(OPERATOR, chain.id)).toEqual(v);
  return breakAt(v);
}

/** A served entry as the chain module reads it. */
const asEntry = (e: ServedEntry): ChainEntry => ({
  ...e,
  subjectKind: e.subjectKind as 'GROUP',
  data: JSON.parse(e.data) as AuditData,
  at: new Date(e.at),
});

/** What a verifier concludes offline from a trail fetched now and a signed head saved earlier. */
async function againstSaved(trail: ServedEntry[], saved: SignedHead): Promise<string> {
  const key = await importJWK(await audit.proofKey(), 'ES256');
  const { payload } = await jwtVerify(saved.jws, key, { issuer: 'ties' });
  const head = {
    subjectId: String(payload.sub),
    length: Number(payload.length),
    hash: String(payload.headHash),
  };
  // A saved head is a prefix of the trail: check the links, then the trail up to the head's length.
  const all = verifyChain(trail.map(asEntry));
  if (!all.ok) return `${all.broken.code}@${all.broken.seq}`;
  const r = verifyChain(trail.slice(0, head.length).map(asEntry), head);
  return r.ok ? 'ok' : `${r.broken.code}@${r.broken.seq}`;
}

describe('G11 an edited column is named at its entry', () => {
  const at = (id: string, seq: number) => sql`subject_id = ${id} AND seq = ${seq}`;

  it('kind', async () => {
    const c = await chainOfFive('kind');
    await tamper(sql`UPDATE audit_entries SET kind = 'DISSOLUTION_FINALIZED' WHERE ${at(c.id, 3)}`);
    expect(await reported(c)).toBe('HASH_MISMATCH@3');
  });

  it('actor_id, to another user and to the system', async () => {
    const c = await chainOfFive('actor');
    await tamper(sql`UPDATE audit_entries SET actor_id = 'mallory' WHERE ${at(c.id, 3)}`);
    expect(await reported(c)).toBe('HASH_MISMATCH@3');
    const d = await chainOfFive('actor-null');
    await tamper(sql`UPDATE audit_entries SET actor_id = NULL WHERE ${at(d.id, 1)}`);
    expect(await reported(d)).toBe('HASH_MISMATCH@1');
  });

  it('data', async () => {
    const c = await chainOfFive('data');
    await tamper(
      sql`UPDATE audit_entries SET data = jsonb_set(data, '{counts,cards}', '99') WHERE ${at(c.id, 3)}`,
    );
    expect(await reported(c)).toBe('HASH_MISMATCH@3');
  });

  it('at', async () => {
    const c = await chainOfFive('at');
    await tamper(sql`UPDATE audit_entries SET at = at - interval '1 second' WHERE ${at(c.id, 3)}`);
    expect(await reported(c)).toBe('HASH_MISMATCH@3');
  });

  it('prev_hash', async () => {
    const c = await chainOfFive('prev');
    await tamper(sql`UPDATE audit_entries SET prev_hash = repeat('a', 64) WHERE ${at(c.id, 3)}`);
    expect(await reported(c)).toBe('PREV_HASH_MISMATCH@3');
  });

  it('hash', async () => {
    const c = await chainOfFive('hash');
    await tamper(sql`UPDATE audit_entries SET hash = repeat('f', 64) WHERE ${at(c.id, 3)}`);
    expect(await reported(c)).toBe('HASH_MISMATCH@3');
  });

  it('seq', async () => {
    const c = await chainOfFive('seq');
    await tamper(sql`UPDATE audit_entries SET seq = 9 WHERE ${at(c.id, 3)}`);
    expect(await reported(c)).toBe('MISSING_ENTRY@3');
  });

  it('values no append writes (an infinite instant, a huge number) are a break, not a fault', async () => {
    const c = await chainOfFive('infinity');
    await tamper(sql`UPDATE audit_entries SET at = 'infinity' WHERE ${at(c.id, 2)}`);
    expect(await reported(c)).toBe('HASH_MISMATCH@2');
    const d = await chainOfFive('huge');
    await tamper(sql`UPDATE audit_entries SET data = '{"step": 1e400}'::jsonb WHERE ${at(d.id, 1)}`);
    expect(await reported(d)).toBe('HASH_MISMATCH@1');
  });

  it('subject_kind', async () => {
    const c = await chainOfFive('subject-kind');
    await tamper(sql`UPDATE audit_entries SET subject_kind = 'LEGAL_HOLD' WHERE ${at(c.id, 2)}`);
    expect(await reported(c)).toBe('HASH_MISMATCH@2');
  });

  it('an entry rewritten with its hash recomputed breaks the link after it', async () => {
    const c = await chainOfFive('rehash');
    const trail = (await audit.trail(c.member, c.id)).map(asEntry);
    const forged = linkEntry(
      { length: 2, hash: trail[1]!.hash },
      { ...trail[2]!, kind: 'DISSOLUTION_FINALIZED' },
    );
    await tamper(
      sql`UPDATE audit_entries SET kind = ${forged.kind}, hash = ${forged.hash} WHERE ${at(c.id, 3)}`,
    );
    expect(await reported(c)).toBe('PREV_HASH_MISMATCH@4');
  });
});

describe('G11 deleted, swapped and truncated entries', () => {
  it('a deleted middle entry is missing where it was', async () => {
    const c = await chainOfFive('delete');
    await tamper(sql`DELETE FROM audit_entries WHERE subject_id = ${c.id} AND seq = 3`);
    expect(await reported(c)).toBe('MISSING_ENTRY@3');
    // The trail still reads, with the hole in it.
    expect((await audit.trail(c.member, c.id)).map((e) => e.seq)).toEqual([1, 2, 4, 5]);
  });

  it('two swapped entries break at the first of them', async () => {
    const c = await chainOfFive('swap');
    await tamper(sql`UPDATE audit_entries SET seq = -seq WHERE subject_id = ${c.id} AND seq IN (2, 3)`);
    await tamper(sql`UPDATE audit_entries SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END
      WHERE subject_id = ${c.id} AND seq IN (-2, -3)`);
    expect(await reported(c)).toBe('PREV_HASH_MISMATCH@2');
  });

  it('deleting the last entries is a truncation against the head', async () => {
    const c = await chainOfFive('truncate');
    await tamper(sql`DELETE FROM audit_entries WHERE subject_id = ${c.id} AND seq > 3`);
    expect(await reported(c)).toBe('TRUNCATED@4');
  });

  it('deleting every entry is a truncation against the head', async () => {
    const c = await chainOfFive('truncate-all');
    await tamper(sql`DELETE FROM audit_entries WHERE subject_id = ${c.id}`);
    expect(await reported(c)).toBe('TRUNCATED@1');
  });

  it('a deleted head leaves its entries past an empty head', async () => {
    const c = await chainOfFive('headless');
    await tamper(sql`DELETE FROM audit_heads WHERE subject_id = ${c.id}`);
    expect(await reported(c)).toBe('HEAD_MISMATCH@1');
    expect((await audit.trail(c.member, c.id)).length).toBe(5);
  });

  it('an entry appended behind the head is past it', async () => {
    const c = await chainOfFive('append');
    const trail = (await audit.trail(c.member, c.id)).map(asEntry);
    const extra = linkEntry(
      { length: 5, hash: trail[4]!.hash },
      { ...trail[4]!, kind: 'DISSOLUTION_RESTORED' },
    );
    await tamper(sql`INSERT INTO audit_entries (subject_id, subject_kind, seq, kind, actor_id, data, at, prev_hash, hash)
      VALUES (${c.id}, 'GROUP', 6, ${extra.kind}, ${extra.actorId}, ${JSON.stringify(extra.data)}::jsonb,
              ${extra.at.toISOString()}, ${extra.prevHash}, ${extra.hash})`);
    expect(await reported(c)).toBe('HEAD_MISMATCH@6');
  });

  it('a truncation that also rewinds the head passes the server, and a head saved before shows it', async () => {
    const c = await chainOfFive('rewind');
    const saved = await audit.head(c.member, c.id);
    await tamper(sql`DELETE FROM audit_entries WHERE subject_id = ${c.id} AND seq > 3`);
    await tamper(sql`UPDATE audit_heads SET length = 3,
      hash = (SELECT hash FROM audit_entries WHERE subject_id = ${c.id} AND seq = 3) WHERE subject_id = ${c.id}`);
    expect(await reported(c)).toBe('ok');
    expect(await againstSaved(await audit.trail(c.member, c.id), saved)).toBe('TRUNCATED@4');
  });

  it('a rewritten tail with a rewritten head passes the server, and a head saved before shows it', async () => {
    const c = await chainOfFive('rewrite');
    const saved = await audit.head(c.member, c.id);
    const trail = (await audit.trail(c.member, c.id)).map(asEntry);
    let head = { length: 2, hash: trail[1]!.hash };
    for (const e of trail.slice(2)) {
      const r = linkEntry(head, { ...e, data: { ...e.data, keepHistory: false } });
      await tamper(sql`UPDATE audit_entries SET data = ${JSON.stringify(r.data)}::jsonb, prev_hash = ${r.prevHash},
        hash = ${r.hash} WHERE subject_id = ${c.id} AND seq = ${r.seq}`);
      head = { length: r.seq, hash: r.hash };
    }
    expect(await reported(c)).toBe('HEAD_MISMATCH@5');
    brokenChains.pop(); // it holds again once the head follows:
    await tamper(sql`UPDATE audit_heads SET hash = ${head.hash} WHERE subject_id = ${c.id}`);
    expect(await reported(c)).toBe('ok');
    expect(await againstSaved(await audit.trail(c.member, c.id), saved)).toBe('HEAD_MISMATCH@5');
  });
});

describe('G11 verifying every chain', () => {
  it('stops at the first broken chain in subject order, for an operator and for a member', async () => {
    const sorted = [...brokenChains].sort();
    expect(sorted.length).toBeGreaterThanOrEqual(10);
    const v = await audit.verify(OPERATOR);
    expect(v.ok).toBe(false);
    expect(v.firstBroken!.subjectId).toBe(sorted[0]);
    // Every chain before it (in subject id order) was checked and holds.
    const [before] = await rows<{ n: number }>(
      env.db.handle.db,
      sql`SELECT count(*)::int AS n FROM audit_heads WHERE subject_id < ${sorted[0]}`,
    );
    expect(v.chains).toBe(before!.n + 1);

    const [o] = names('tamper-all', 'o');
    const mine = await env.groups.make(o, []);
    await appendSteps(env, mine.id, o, 2);
    expect(await audit.verify(o)).toEqual({ ok: true, chains: 1, entries: 2, firstBroken: null });
  });
});
